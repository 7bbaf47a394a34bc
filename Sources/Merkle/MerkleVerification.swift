/// Why a proof was rejected: a sentence with the numbers involved.
public struct MerkleProofError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Verification of RFC 9162 inclusion and consistency proofs, and of inclusion in a subtree.
/// A client needs only these functions and SHA-256: nothing here trusts the server.
public enum MerkleVerifier {
    /// Checks that `leafHash` is the leaf at `index` of the tree of `size` leaves whose root is
    /// `root` (RFC 9162 section 2.1.3.2).
    public static func verifyInclusion(index: UInt64, size: UInt64, leafHash: MerkleHash,
                                       proof: [MerkleHash], root: MerkleHash) throws(MerkleProofError) {
        let computed = try rootFromInclusion(index: index, size: size, leafHash: leafHash, proof: proof)
        guard computed == root else { throw MerkleProofError("inclusion proof leads to a different root") }
    }

    /// The root that an inclusion proof leads to.
    public static func rootFromInclusion(index: UInt64, size: UInt64, leafHash: MerkleHash,
                                         proof: [MerkleHash]) throws(MerkleProofError) -> MerkleHash {
        guard index < size else { throw MerkleProofError("leaf index \(index) is not below tree size \(size)") }
        try checkSizes([leafHash] + proof)
        var fn = index, sn = size - 1
        var hash = leafHash
        for sibling in proof {
            guard sn > 0 else { throw MerkleProofError("inclusion proof has \(proof.count) hashes, too many for index \(index) of \(size)") }
            if fn & 1 == 1 || fn == sn {
                hash = RFC6962.nodeHash(sibling, hash)
                // A node on the right border without a right sibling moves up without hashing.
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                hash = RFC6962.nodeHash(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw MerkleProofError("inclusion proof has \(proof.count) hashes, too few for index \(index) of \(size)") }
        return hash
    }

    /// Checks that the tree of `size2` leaves with `root2` extends the tree of `size1` leaves with
    /// `root1` (RFC 9162 section 2.1.4.2). Equal sizes need an empty proof and equal roots; a
    /// proof from the empty tree means nothing and is refused.
    public static func verifyConsistency(size1: UInt64, size2: UInt64, proof: [MerkleHash],
                                         root1: MerkleHash, root2: MerkleHash) throws(MerkleProofError) {
        guard size1 <= size2 else { throw MerkleProofError("first size \(size1) is larger than second size \(size2)") }
        try checkSizes(proof)
        guard size1 > 0 else { throw MerkleProofError("a consistency proof from the empty tree is meaningless") }
        if size1 == size2 {
            guard proof.isEmpty else { throw MerkleProofError("equal sizes need an empty proof, got \(proof.count) hashes") }
            guard root1 == root2 else { throw MerkleProofError("equal sizes but different roots") }
            return
        }
        guard !proof.isEmpty else { throw MerkleProofError("empty consistency proof for sizes \(size1) and \(size2)") }
        var path = proof
        // A first tree that is a perfect subtree of the second is its own first node.
        if size1 & (size1 - 1) == 0 { path.insert(root1, at: 0) }
        var fn = size1 - 1, sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var firstHash = path[0], secondHash = path[0]
        for node in path.dropFirst() {
            guard sn > 0 else { throw MerkleProofError("consistency proof has too many hashes for sizes \(size1) and \(size2)") }
            if fn & 1 == 1 || fn == sn {
                firstHash = RFC6962.nodeHash(node, firstHash)
                secondHash = RFC6962.nodeHash(node, secondHash)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                secondHash = RFC6962.nodeHash(secondHash, node)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw MerkleProofError("consistency proof has too few hashes for sizes \(size1) and \(size2)") }
        guard firstHash == root1 else { throw MerkleProofError("consistency proof does not lead to the first root") }
        guard secondHash == root2 else { throw MerkleProofError("consistency proof does not lead to the second root") }
    }

    /// Checks that `leafHash` is the leaf at `index` of the subtree of leaves [`start`, `end`) with
    /// root `root`. A subtree is valid when `start` is a multiple of the smallest power of two
    /// not below `end - start`; its hashing is then that of a tree of `end - start` leaves.
    public static func verifySubtreeInclusion(index: UInt64, start: UInt64, end: UInt64, leafHash: MerkleHash,
                                              proof: [MerkleHash], root: MerkleHash) throws(MerkleProofError) {
        try checkSubtree(start: start, end: end)
        guard index >= start && index < end else { throw MerkleProofError("leaf \(index) is outside subtree [\(start), \(end))") }
        try verifyInclusion(index: index - start, size: end - start, leafHash: leafHash, proof: proof, root: root)
    }

    /// Checks that the subtree [`start`, `end`) with root `subRoot` is part of the tree of `size`
    /// leaves with root `parentRoot`. The proof is the subtree consistency proof of
    /// `ReferenceMerkleTree.subtreeConsistencyProof`, deepest node first; for `start == 0` it is
    /// the RFC 9162 consistency proof.
    public static func verifySubtreeConsistency(start: UInt64, end: UInt64, size: UInt64, proof: [MerkleHash],
                                                subRoot: MerkleHash, parentRoot: MerkleHash) throws(MerkleProofError) {
        guard end <= size else { throw MerkleProofError("subtree end \(end) is beyond tree size \(size)") }
        if start == end {
            guard proof.isEmpty else { throw MerkleProofError("an empty subtree needs an empty proof") }
            guard subRoot == RFC6962.emptyRoot else { throw MerkleProofError("an empty subtree has the empty root") }
            return
        }
        try checkSubtree(start: start, end: end)
        try checkSizes(proof)
        if start == 0 && end == size {
            guard proof.isEmpty else { throw MerkleProofError("the whole tree needs an empty proof, got \(proof.count) hashes") }
            guard subRoot == parentRoot else { throw MerkleProofError("the subtree is the whole tree but the roots differ") }
            return
        }
        guard !proof.isEmpty else { throw MerkleProofError("empty proof for subtree [\(start), \(end)) of \(size)") }
        var walker = SubtreeWalker(proof: proof, subRoot: subRoot)
        let (sub, root) = try walker.walk(start: start, end: end, size: size, known: true)
        guard walker.remaining == 0 else { throw MerkleProofError("subtree consistency proof has \(walker.remaining) hashes too many") }
        guard sub == subRoot else { throw MerkleProofError("subtree consistency proof does not lead to the subtree root") }
        guard root == parentRoot else { throw MerkleProofError("subtree consistency proof does not lead to the tree root") }
    }

    /// Whether [`start`, `end`) is a subtree: non-empty and aligned to its size rounded up to a
    /// power of two.
    public static func checkSubtree(start: UInt64, end: UInt64) throws(MerkleProofError) {
        guard start < end else { throw MerkleProofError("subtree [\(start), \(end)) is empty or reversed") }
        let width = end - start
        let shift = width == 1 ? 0 : 64 - (width - 1).leadingZeroBitCount
        // A width above 2^63 rounds up to 2^64: only a subtree starting at 0 is aligned to it.
        guard shift < 64 else {
            guard start == 0 else { throw MerkleProofError("subtree [\(start), \(end)) is not aligned") }
            return
        }
        let aligned = UInt64(1) << shift
        guard start % aligned == 0 else {
            throw MerkleProofError("subtree [\(start), \(end)) is not aligned: start must be a multiple of \(aligned)")
        }
    }

    private static func checkSizes(_ hashes: [MerkleHash]) throws(MerkleProofError) {
        for hash in hashes where hash.count != RFC6962.hashBytes {
            throw MerkleProofError("a hash has \(hash.count) bytes, want \(RFC6962.hashBytes)")
        }
    }
}

/// Rebuilds, from a subtree consistency proof, the subtree's root and the tree's root, following
/// the same recursion that generates the proof (RFC 9162 section 2.1.4.1, generalised from a
/// prefix [0, m) to an aligned subtree [start, end)). Hashes are taken from the end of the proof:
/// the outermost recursion step owns the last hash.
private struct SubtreeWalker {
    let proof: [MerkleHash]
    let subRoot: MerkleHash
    var remaining: Int

    init(proof: [MerkleHash], subRoot: MerkleHash) {
        self.proof = proof
        self.subRoot = subRoot
        self.remaining = proof.count
    }

    private mutating func next() throws(MerkleProofError) -> MerkleHash {
        guard remaining > 0 else { throw MerkleProofError("subtree consistency proof has too few hashes") }
        remaining -= 1
        return proof[remaining]
    }

    /// For the node of `size` leaves holding [`start`, `end`): the hash of those leaves and the
    /// node's hash. `known` says whether the verifier already knows the subtree's own root.
    mutating func walk(start: UInt64, end: UInt64, size: UInt64, known: Bool) throws(MerkleProofError) -> (MerkleHash, MerkleHash) {
        if start == 0 && end == size {
            let hash = known ? subRoot : try next()
            return (hash, hash)
        }
        var split: UInt64 = 1
        while split << 1 < size { split <<= 1 }
        if end <= split {
            let right = try next()
            let (sub, left) = try walk(start: start, end: end, size: split, known: known)
            return (sub, RFC6962.nodeHash(left, right))
        }
        if start >= split {
            let left = try next()
            let (sub, right) = try walk(start: start - split, end: end - split, size: size - split, known: known)
            return (sub, RFC6962.nodeHash(left, right))
        }
        // Only a subtree starting at 0 straddles the split; its root joins the left half with
        // the part of the right half it covers, which the verifier cannot know in advance.
        let left = try next()
        let (sub, right) = try walk(start: 0, end: end - split, size: size - split, known: false)
        return (RFC6962.nodeHash(left, sub), RFC6962.nodeHash(left, right))
    }
}
