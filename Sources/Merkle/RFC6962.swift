public import Crypto

/// A 32-byte SHA-256 digest naming a Merkle tree node.
public typealias MerkleHash = [UInt8]

/// The hashing of RFC 6962 / RFC 9162 section 2.1.1, with domain separation between leaves and
/// interior nodes so that a leaf can never be passed off as a node.
public enum RFC6962 {
    /// Size of every hash.
    public static let hashBytes = 32

    /// The root of the empty tree: SHA-256 of nothing.
    public static let emptyRoot: MerkleHash = SHA256.hash([UInt8]())

    /// SHA-256(0x00 || data).
    public static func leafHash<Bytes: ContiguousBytes>(_ data: Bytes) -> MerkleHash {
        var hasher = SHA256()
        hasher.update([UInt8(0)])
        hasher.update(data)
        return hasher.finalize()
    }

    /// SHA-256(0x01 || left || right).
    public static func nodeHash(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        var hasher = SHA256()
        hasher.update([UInt8(1)])
        hasher.update(left)
        hasher.update(right)
        return hasher.finalize()
    }
}
