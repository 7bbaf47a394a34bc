/// A Bloom filter of the transaction ids in a chain's ledger: "no" is certain, "maybe" needs a
/// look in PostgreSQL. It spares the submission path and the block builder a database query per
/// transaction for the common case, an id never seen before.
///
/// It grows by layers (a scalable Bloom filter): when the newest layer holds its capacity, a layer
/// twice as large is added that spends one more bit per id (up to 16), so the layers'
/// false-positive rates fall and their sum stays near 2 % whatever the ledger's size, at under
/// 2 bytes per id. Transaction ids are SHA-256
/// digests, so their own bytes serve as the hash functions (a client grinding ids to collide gains
/// nothing but a database lookup of its own transaction).
struct CommittedIDFilter {
    private struct Layer {
        var bits: [UInt64]
        let hashes: Int
        let capacity: Int
        var count = 0

        init(capacity: Int, bitsPerID: Int) {
            self.capacity = capacity
            // The optimal number of hash functions, bits per id times ln 2.
            self.hashes = max(1, Int((Double(bitsPerID) * 0.693).rounded()))
            bits = [UInt64](repeating: 0, count: (capacity * bitsPerID + 63) / 64)
        }

        /// The bit of hash `i` (double hashing), mapped onto the array by a multiply, not a modulo.
        private func bit(_ h1: UInt64, _ h2: UInt64, _ i: UInt64) -> UInt64 {
            (h1 &+ i &* h2).multipliedFullWidth(by: UInt64(bits.count * 64)).high
        }

        mutating func insert(_ h1: UInt64, _ h2: UInt64) {
            for i in 0..<UInt64(hashes) {
                let bit = bit(h1, h2, i)
                bits[Int(bit >> 6)] |= 1 << (bit & 63)
            }
            count += 1
        }

        func contains(_ h1: UInt64, _ h2: UInt64) -> Bool {
            for i in 0..<UInt64(hashes) {
                let bit = bit(h1, h2, i)
                if bits[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
            }
            return true
        }
    }

    private var layers: [Layer]

    /// Ids inserted.
    private(set) var count = 0

    /// A filter whose first layer holds `initialCapacity` ids.
    init(initialCapacity: Int = 4096) {
        layers = [Layer(capacity: max(64, initialCapacity), bitsPerID: 10)]
    }

    /// Bytes held by the bit arrays.
    var bytes: Int { layers.reduce(0) { $0 + $1.bits.count * 8 } }

    mutating func insert(_ id: [UInt8]) {
        let (h1, h2) = Self.hashes(id)
        if layers[layers.count - 1].count >= layers[layers.count - 1].capacity {
            layers.append(Layer(capacity: layers[layers.count - 1].capacity * 2, bitsPerID: min(16, 10 + layers.count)))
        }
        layers[layers.count - 1].insert(h1, h2)
        count += 1
    }

    /// False when `id` was certainly never inserted.
    func mayContain(_ id: [UInt8]) -> Bool {
        let (h1, h2) = Self.hashes(id)
        return layers.contains { $0.contains(h1, h2) }
    }

    /// Two 64-bit hashes of an id: its first sixteen bytes when it is a digest (every id of a
    /// well-formed transaction is), otherwise FNV-1a of its bytes, mixed two ways.
    private static func hashes(_ id: [UInt8]) -> (UInt64, UInt64) {
        if id.count >= 16 {
            var h1: UInt64 = 0, h2: UInt64 = 0
            for i in 0..<8 {
                h1 = h1 << 8 | UInt64(id[i])
                h2 = h2 << 8 | UInt64(id[8 + i])
            }
            return (h1, h2 | 1)
        }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        // FNV's high bits barely move with the last bytes; the mapping onto the array uses them.
        let h1 = mix(h), h2 = mix(h ^ 0x9e37_79b9_7f4a_7c15)
        return (h1, h2 | 1)
    }

    /// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
    private static func mix(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }
}
