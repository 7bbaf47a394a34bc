/// The right border of a growing tree: the roots of its perfect subtrees, largest first. Gives
/// the root after every append in O(log n) memory, for recomputing ledger roots while streaming
/// millions of leaves (the audit).
public struct CompactRange: Sendable {
    private var peaks: [(level: Int, hash: MerkleHash)] = []
    public private(set) var size: UInt64 = 0

    public init() {}

    /// The range of a tree of `size` leaves from its perfect subtree roots, largest first (one
    /// per set bit of `size`, as `PostgresMerkleTree.compactRange` reads them).
    public init?(size: UInt64, peaks: [MerkleHash]) {
        let levels = (0..<64).reversed().filter { size >> UInt64($0) & 1 == 1 }
        guard levels.count == peaks.count else { return nil }
        self.peaks = zip(levels, peaks).map { ($0, $1) }
        self.size = size
    }

    /// Appends a leaf hash.
    public mutating func append(_ leafHash: MerkleHash) {
        var node = (level: 0, hash: leafHash)
        while let last = peaks.last, last.level == node.level {
            peaks.removeLast()
            node = (last.level + 1, RFC6962.nodeHash(last.hash, node.hash))
        }
        peaks.append(node)
        size += 1
    }

    /// MTH of the leaves so far.
    public var root: MerkleHash {
        guard var hash = peaks.last?.hash else { return RFC6962.emptyRoot }
        for peak in peaks.dropLast().reversed() { hash = RFC6962.nodeHash(peak.hash, hash) }
        return hash
    }
}
