/// The definitions of RFC 9162 section 2.1 (MTH, PATH, PROOF) computed directly and recursively
/// over a list of leaf hashes. Slow (linear per call) and obviously correct: the yardstick for
/// the stored, incremental tree and for the verifier, and fine for small trees.
public struct ReferenceMerkleTree: Sendable {
    /// Leaf hashes in order.
    public private(set) var leaves: [MerkleHash] = []

    public init(leaves: [MerkleHash] = []) { self.leaves = leaves }

    /// Appends the leaf hash of `data`.
    public mutating func append<Bytes: ContiguousBytesLike>(data: Bytes) { leaves.append(RFC6962.leafHash(data.bytes)) }

    /// Appends a leaf hash.
    public mutating func append(leafHash: MerkleHash) { leaves.append(leafHash) }

    public var size: UInt64 { UInt64(leaves.count) }

    /// MTH of the first `size` leaves.
    public func root(size: UInt64? = nil) -> MerkleHash {
        Self.mth(leaves[0..<Int(size ?? self.size)])
    }

    /// PATH(index, D[size]).
    public func inclusionProof(index: UInt64, size: UInt64? = nil) -> [MerkleHash] {
        let size = size ?? self.size
        precondition(index < size && size <= self.size)
        return Self.path(Int(index), leaves[0..<Int(size)])
    }

    /// PROOF(size1, D[size2]) for 0 < size1 <= size2.
    public func consistencyProof(size1: UInt64, size2: UInt64? = nil) -> [MerkleHash] {
        let size2 = size2 ?? self.size
        precondition(size1 > 0 && size1 <= size2 && size2 <= self.size)
        return Self.subproof(Int(size1), leaves[0..<Int(size2)], true)
    }

    /// The proof that the aligned subtree [start, end) is part of the tree of `size` leaves:
    /// RFC 9162's SUBPROOF generalised from prefixes to subtrees (a subtree starting at 0 gives
    /// exactly PROOF(end, D[size])).
    public func subtreeConsistencyProof(start: UInt64, end: UInt64, size: UInt64? = nil) -> [MerkleHash] {
        let size = size ?? self.size
        precondition(start < end && end <= size && size <= self.size)
        return Self.subtreeSubproof(Int(start), Int(end), leaves[0..<Int(size)], true)
    }

    static func subtreeSubproof(_ start: Int, _ end: Int, _ leaves: ArraySlice<MerkleHash>, _ known: Bool) -> [MerkleHash] {
        let n = leaves.count
        if start == 0 && end == n { return known ? [] : [mth(leaves)] }
        let k = splitPoint(n)
        if end <= k { return subtreeSubproof(start, end, leaves.prefix(k), known) + [mth(leaves.dropFirst(k))] }
        if start >= k { return subtreeSubproof(start - k, end - k, leaves.dropFirst(k), known) + [mth(leaves.prefix(k))] }
        return subtreeSubproof(0, end - k, leaves.dropFirst(k), false) + [mth(leaves.prefix(k))]
    }

    static func mth(_ leaves: ArraySlice<MerkleHash>) -> MerkleHash {
        switch leaves.count {
        case 0: return RFC6962.emptyRoot
        case 1: return leaves[leaves.startIndex]
        default:
            let k = splitPoint(leaves.count)
            return RFC6962.nodeHash(mth(leaves.prefix(k)), mth(leaves.dropFirst(k)))
        }
    }

    static func path(_ m: Int, _ leaves: ArraySlice<MerkleHash>) -> [MerkleHash] {
        guard leaves.count > 1 else { return [] }
        let k = splitPoint(leaves.count)
        if m < k { return path(m, leaves.prefix(k)) + [mth(leaves.dropFirst(k))] }
        return path(m - k, leaves.dropFirst(k)) + [mth(leaves.prefix(k))]
    }

    static func subproof(_ m: Int, _ leaves: ArraySlice<MerkleHash>, _ complete: Bool) -> [MerkleHash] {
        let n = leaves.count
        if m == n { return complete ? [] : [mth(leaves)] }
        let k = splitPoint(n)
        if m <= k { return subproof(m, leaves.prefix(k), complete) + [mth(leaves.dropFirst(k))] }
        return subproof(m - k, leaves.dropFirst(k), false) + [mth(leaves.prefix(k))]
    }

    /// The largest power of two smaller than `n` (n > 1).
    static func splitPoint(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// Byte sequences accepted by `append(data:)`.
public protocol ContiguousBytesLike {
    var bytes: [UInt8] { get }
}

extension Array: ContiguousBytesLike where Element == UInt8 {
    public var bytes: [UInt8] { self }
}
