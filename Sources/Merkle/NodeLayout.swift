/// The address of a perfect subtree of the tree: `level` 0 is a leaf, and node (level, index)
/// covers leaves [index · 2^level, (index + 1) · 2^level).
public struct NodeID: Hashable, Sendable, Comparable {
    public let level: UInt8
    public let index: UInt64

    public init(level: UInt8, index: UInt64) {
        self.level = level
        self.index = index
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { (lhs.level, lhs.index) < (rhs.level, rhs.index) }
}

/// How proofs and appends map onto stored perfect subtrees, so a tree kept as rows of
/// (level, index, hash) answers RFC 9162 proofs with one batched read, whatever its size.
///
/// Every hash a proof needs is MTH of a range of leaves that is either a perfect subtree or runs
/// to the right edge of the tree; the latter is a right fold of perfect subtrees
/// (MTH = H(P1, H(P2, … Pk)), sizes decreasing). A proof is planned as a list of such folds.
public enum NodeLayout {
    /// One proof element: the perfect subtrees whose right fold is its hash.
    public typealias Fold = [NodeID]

    /// The perfect subtrees whose right fold is MTH of leaves [start, end), for the ranges that
    /// occur in RFC 9162's recursions (start aligned to the largest power of two below end-start).
    public static func fold(start: UInt64, end: UInt64) -> Fold {
        precondition(start < end)
        var nodes: Fold = []
        var position = start
        while position < end {
            let remaining = end - position
            // The largest power of two not above what is left; the left child of MTH's split.
            var width: UInt64 = 1
            while width << 1 <= remaining && width << 1 != 0 { width <<= 1 }
            let level = UInt8(width.trailingZeroBitCount)
            nodes.append(NodeID(level: level, index: position >> level))
            position += width
        }
        return nodes
    }

    /// PATH(index, D[size]) as folds, deepest first.
    public static func inclusionPlan(index: UInt64, size: UInt64) -> [Fold] {
        precondition(index < size)
        var plan: [Fold] = []
        var (low, high) = (UInt64(0), size)
        while high - low > 1 {
            let split = splitPoint(high - low)
            if index < low + split {
                plan.append(fold(start: low + split, end: high))
                high = low + split
            } else {
                plan.append(fold(start: low, end: low + split))
                low += split
            }
        }
        return plan.reversed()
    }

    /// PROOF(size1, D[size2]) as folds, deepest first; empty when the sizes are equal.
    public static func consistencyPlan(size1: UInt64, size2: UInt64) -> [Fold] {
        precondition(size1 > 0 && size1 <= size2)
        var plan: [Fold] = []
        var (low, high, m, complete) = (UInt64(0), size2, size1, true)
        while true {
            let n = high - low
            if m == n {
                if !complete { plan.append(fold(start: low, end: high)) }
                break
            }
            let split = splitPoint(n)
            if m <= split {
                plan.append(fold(start: low + split, end: high))
                high = low + split
            } else {
                plan.append(fold(start: low, end: low + split))
                low += split
                m -= split
                complete = false
            }
        }
        return plan.reversed()
    }

    /// MTH of the first `size` leaves as a fold.
    public static func rootFold(size: UInt64) -> Fold { size == 0 ? [] : fold(start: 0, end: size) }

    /// The perfect subtrees that appending leaves [oldSize, newSize) completes, lowest level first
    /// (so each node's children are computed before it), and the older nodes they need.
    public static func appendPlan(oldSize: UInt64, newSize: UInt64) -> (new: [NodeID], existing: [NodeID]) {
        precondition(oldSize <= newSize)
        var new: [NodeID] = []
        var existing = Set<NodeID>()
        var level: UInt8 = 1
        while level < 64, UInt64(1) << level <= newSize {
            let width = UInt64(1) << level
            // Nodes at this level that end after oldSize and no later than newSize.
            let first = oldSize / width, last = newSize / width
            for index in first..<last where (index + 1) * width > oldSize {
                new.append(NodeID(level: level, index: index))
                for child in [NodeID(level: level - 1, index: index * 2), NodeID(level: level - 1, index: index * 2 + 1)]
                    where (child.index + 1) << (level - 1) <= oldSize {
                    existing.insert(child)
                }
            }
            level += 1
        }
        return (new, existing.sorted())
    }

    /// Right fold of the hashes of `fold`.
    public static func hash(_ fold: Fold, _ nodes: [NodeID: MerkleHash]) throws(MerkleProofError) -> MerkleHash {
        guard var hash = fold.last.flatMap({ nodes[$0] }) else { throw MerkleProofError("missing stored node \(fold.last.map { "\($0)" } ?? "")") }
        for id in fold.dropLast().reversed() {
            guard let left = nodes[id] else { throw MerkleProofError("missing stored node level \(id.level) index \(id.index)") }
            hash = RFC6962.nodeHash(left, hash)
        }
        return hash
    }

    /// The largest power of two smaller than `n` (n > 1): MTH's split point.
    static func splitPoint(_ n: UInt64) -> UInt64 {
        var k: UInt64 = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}
