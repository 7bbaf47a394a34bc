// The ledger tree stored in a chain schema of a real PostgreSQL: appends in random batches, then
// roots, inclusion and consistency proofs read from the stored nodes equal the reference tree's
// and pass the verifier; a node edited by hand makes proofs fail verification.
import Foundation
import HanseCore
import HanseTesting
import Merkle
import PostgresStorage
import Storage
import XCTest

final class MerkleTreeStoreTests: XCTestCase {
    func testStoredTreeAnswersLikeTheReference() throws {
        let (name, pool) = try TestCluster.shared.makeMigratedDatabase("merkle", platform: false, chainSchemas: ["chain_merkle1"])
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        let tree = try PostgresMerkleTree(schema: "chain_merkle1")

        var reference = ReferenceMerkleTree()
        var random = SeededRandom(seed: 42)
        var roots: [UInt64: MerkleHash] = [:]
        try pool.withConnection { connection in
            XCTAssertEqual(try tree.size(on: connection), 0)
            XCTAssertEqual(try tree.root(size: 0, on: connection), RFC6962.emptyRoot)
            while reference.size < 600 {
                let batch = (0..<Int.random(in: 1...50, using: &random)).map { RFC6962.leafHash(SHA256Like.id($0 + Int(reference.size))) }
                let newRoot = try connection.transaction { try tree.append(batch, on: $0) }
                batch.forEach { reference.append(leafHash: $0) }
                XCTAssertEqual(newRoot, reference.root())
                roots[reference.size] = newRoot
            }
            let size = reference.size
            XCTAssertEqual(try tree.size(on: connection), size)
            for _ in 0..<60 {
                let index = UInt64.random(in: 0..<size, using: &random)
                let proof = try tree.inclusionProof(index: index, size: size, on: connection)
                XCTAssertEqual(proof, reference.inclusionProof(index: index))
                XCTAssertNoThrow(try MerkleVerifier.verifyInclusion(index: index, size: size, leafHash: reference.leaves[Int(index)],
                                                                    proof: proof, root: reference.root()))
                let earlier = roots.keys.randomElement(using: &random)!
                let consistency = try tree.consistencyProof(size1: earlier, size2: size, on: connection)
                XCTAssertEqual(consistency, reference.consistencyProof(size1: earlier))
                XCTAssertNoThrow(try MerkleVerifier.verifyConsistency(size1: earlier, size2: size, proof: consistency,
                                                                      root1: roots[earlier]!, root2: reference.root()))
                // Proofs against an older head, as for a block in the past.
                let old = UInt64.random(in: 1...size, using: &random)
                let oldIndex = UInt64.random(in: 0..<old, using: &random)
                XCTAssertEqual(try tree.inclusionProof(index: oldIndex, size: old, on: connection), reference.inclusionProof(index: oldIndex, size: old))
            }
            // Someone edits a stored node by hand: proofs through it no longer verify.
            try connection.execute("UPDATE chain_merkle1.merkle_nodes SET hash = sha256(hash) WHERE level = 3 AND idx = 1", name: "test.tamper")
            let proof = try tree.inclusionProof(index: 1, size: size, on: connection)
            XCTAssertThrowsError(try MerkleVerifier.verifyInclusion(index: 1, size: size, leafHash: reference.leaves[1], proof: proof, root: reference.root()))
        }
    }
}

/// Deterministic 32-byte stand-ins for transaction ids.
enum SHA256Like {
    static func id(_ number: Int) -> [UInt8] {
        var random = SeededRandom(seed: UInt64(number))
        return (0..<4).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
    }
}
