// The stored-node layout against the reference tree: proofs assembled from perfect subtrees
// (as a database would hold them) equal RFC 9162's PATH and PROOF, and appending in batches
// produces exactly the perfect subtrees of the grown tree.
import HanseCore
import Merkle
import XCTest

final class NodeLayoutTests: XCTestCase {
    /// Every perfect subtree of `leaves`, computed directly.
    private func perfectNodes(_ leaves: [MerkleHash]) -> [NodeID: MerkleHash] {
        var nodes: [NodeID: MerkleHash] = [:]
        for (index, leaf) in leaves.enumerated() { nodes[NodeID(level: 0, index: UInt64(index))] = leaf }
        var level: UInt8 = 1
        while 1 << level <= leaves.count {
            for index in 0..<(leaves.count >> level) {
                let left = nodes[NodeID(level: level - 1, index: UInt64(index * 2))]!
                let right = nodes[NodeID(level: level - 1, index: UInt64(index * 2 + 1))]!
                nodes[NodeID(level: level, index: UInt64(index))] = RFC6962.nodeHash(left, right)
            }
            level += 1
        }
        return nodes
    }

    func testProofsFromStoredNodesEqualTheReference() throws {
        var random = SeededRandom(seed: 9162)
        for _ in 0..<25 {
            let size = UInt64.random(in: 1...300, using: &random)
            let tree = ReferenceMerkleTree(leaves: (0..<size).map { RFC6962.leafHash(Array("tx \($0)".utf8)) })
            let nodes = perfectNodes(tree.leaves)
            XCTAssertEqual(try NodeLayout.hash(NodeLayout.rootFold(size: size), nodes), tree.root())
            for _ in 0..<20 {
                let index = UInt64.random(in: 0..<size, using: &random)
                let planned = try NodeLayout.inclusionPlan(index: index, size: size).map { try NodeLayout.hash($0, nodes) }
                XCTAssertEqual(planned, tree.inclusionProof(index: index), "index \(index) of \(size)")
                let size1 = UInt64.random(in: 1...size, using: &random)
                let consistency = try NodeLayout.consistencyPlan(size1: size1, size2: size).map { try NodeLayout.hash($0, nodes) }
                XCTAssertEqual(consistency, tree.consistencyProof(size1: size1), "sizes \(size1), \(size)")
            }
        }
    }

    func testBatchedAppendsBuildEveryPerfectSubtree() throws {
        var random = SeededRandom(seed: 6962)
        var leaves: [MerkleHash] = []
        var stored: [NodeID: MerkleHash] = [:]
        while leaves.count < 700 {
            let oldSize = UInt64(leaves.count)
            let batch = Int.random(in: 1...40, using: &random)
            let added = (0..<batch).map { RFC6962.leafHash(Array("leaf \(leaves.count + $0)".utf8)) }
            leaves += added
            for (offset, leaf) in added.enumerated() { stored[NodeID(level: 0, index: oldSize + UInt64(offset))] = leaf }
            let plan = NodeLayout.appendPlan(oldSize: oldSize, newSize: UInt64(leaves.count))
            for id in plan.existing { XCTAssertNotNil(stored[id], "needs an already stored node \(id)") }
            for id in plan.new {
                let left = try XCTUnwrap(stored[NodeID(level: id.level - 1, index: id.index * 2)])
                let right = try XCTUnwrap(stored[NodeID(level: id.level - 1, index: id.index * 2 + 1)])
                stored[id] = RFC6962.nodeHash(left, right)
            }
        }
        XCTAssertEqual(stored, perfectNodes(leaves))
    }
}
