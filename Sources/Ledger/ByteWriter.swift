/// Builds the binary encodings that are hashed and signed: big-endian integers and
/// length-prefixed fields (a 4-byte big-endian length, then the bytes), so that no two
/// different field lists encode to the same bytes.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// A writer that starts with a domain tag and a version byte.
    public init(domain: String, version: UInt8) {
        bytes.append(contentsOf: domain.utf8)
        bytes.append(version)
    }

    public mutating func u8(_ value: UInt8) { bytes.append(value) }

    public mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    public mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// A field: its length as u32, then its bytes.
    public mutating func field(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func field(_ value: String) { field(Array(value.utf8)) }

    /// A fixed 32-byte hash, without a length (its length is part of the format).
    public mutating func hash(_ value: [UInt8]) {
        precondition(value.count == 32, "a hash field must be 32 bytes")
        bytes.append(contentsOf: value)
    }
}
