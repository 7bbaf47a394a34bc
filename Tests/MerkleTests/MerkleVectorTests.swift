// RFC 6962 / 9162 Merkle trees against data from outside (../shared/vectors/merkle, from
// transparency-dev/merkle): the reference tree's roots, every derived positive proof, and every
// inclusion, consistency and subtree-inclusion vector's wantErr verdict. Then the verifier is
// cross-checked against the slow reference tree on random trees, with corrupted proofs refused.
import Foundation
import HanseCore
import Merkle
import XCTest

final class MerkleVectorTests: XCTestCase {
    private struct Vector: Decodable {
        let kind: String
        let desc: String?
        let source_path: String?
        let leafIdx: UInt64?
        let treeSize: UInt64?
        let size1: UInt64?
        let size2: UInt64?
        let start: UInt64?
        let end: UInt64?
        let size: UInt64?
        let root: String?
        let root1: String?
        let root2: String?
        let leafHash: String?
        let proof: [String]?
        let wantErr: Bool
    }

    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/vectors/merkle")

    private func load(_ name: String) throws -> [Vector] {
        let text = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Vector.self, from: Data($0.utf8)) }
    }

    private func bytes(_ base64: String?) -> MerkleHash { base64.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? [] }

    /// nil if the vector verifies, else the error.
    private func check(_ vector: Vector) -> MerkleProofError? {
        let proof = (vector.proof ?? []).map(bytes)
        do {
            switch vector.kind {
            case "inclusion":
                try MerkleVerifier.verifyInclusion(index: vector.leafIdx!, size: vector.treeSize!, leafHash: bytes(vector.leafHash),
                                                   proof: proof, root: bytes(vector.root))
            case "consistency":
                try MerkleVerifier.verifyConsistency(size1: vector.size1!, size2: vector.size2!, proof: proof,
                                                     root1: bytes(vector.root1), root2: bytes(vector.root2))
            case "subtreeinclusion":
                try MerkleVerifier.verifySubtreeInclusion(index: vector.leafIdx!, start: vector.start!, end: vector.end!,
                                                          leafHash: bytes(vector.leafHash), proof: proof, root: bytes(vector.root))
            case "subtreeconsistency":
                try MerkleVerifier.verifySubtreeConsistency(start: vector.start!, end: vector.end!, size: vector.size!, proof: proof,
                                                            subRoot: bytes(vector.root1), parentRoot: bytes(vector.root2))
            default:
                XCTFail("unexpected kind \(vector.kind)")
            }
            return nil
        } catch {
            return error
        }
    }

    func testReferenceTreeRoots() throws {
        struct Reference: Decodable {
            let leaf_inputs_hex: [String]
            let root_by_tree_size_hex: [String]
        }
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.folder.appendingPathComponent("rfc6962_reference_tree.json")))
        var tree = ReferenceMerkleTree()
        XCTAssertEqual(Hex.encode(tree.root()), reference.root_by_tree_size_hex[0])
        for (size, input) in reference.leaf_inputs_hex.enumerated() {
            tree.append(data: Hex.decode(input)!)
            XCTAssertEqual(Hex.encode(tree.root()), reference.root_by_tree_size_hex[size + 1], "size \(size + 1)")
        }
    }

    func testEveryVectorGivesItsVerdict() throws {
        var counted: [String: Int] = [:]
        for vector in try load("vectors.jsonl") + load("derived_positive_vectors.jsonl") {
            let error = check(vector)
            counted[vector.kind, default: 0] += 1
            if vector.wantErr {
                XCTAssertNotNil(error, "\(vector.kind) \(vector.source_path ?? "") \(vector.desc ?? ""): accepted, want an error")
            } else {
                XCTAssertNil(error, "\(vector.kind) \(vector.source_path ?? "") \(vector.desc ?? ""): \(error.map { "\($0)" } ?? "")")
            }
        }
        XCTAssertGreaterThan(counted["inclusion"] ?? 0, 70)
        XCTAssertGreaterThan(counted["consistency"] ?? 0, 60)
        XCTAssertGreaterThan(counted["subtreeinclusion"] ?? 0, 100)
        XCTAssertGreaterThan(counted["subtreeconsistency"] ?? 0, 80)
    }

    func testDerivedProofsAreWhatTheReferenceTreeGenerates() throws {
        struct Reference: Decodable { let leaf_inputs_hex: [String] }
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.folder.appendingPathComponent("rfc6962_reference_tree.json")))
        let tree = ReferenceMerkleTree(leaves: reference.leaf_inputs_hex.map { RFC6962.leafHash(Hex.decode($0)!) })
        var compared = 0
        for vector in try load("derived_positive_vectors.jsonl") {
            let proof = (vector.proof ?? []).map(bytes)
            if vector.kind == "inclusion" {
                XCTAssertEqual(tree.inclusionProof(index: vector.leafIdx!, size: vector.treeSize!), proof)
            } else if vector.kind == "consistency", vector.size1! > 0 {
                XCTAssertEqual(tree.consistencyProof(size1: vector.size1!, size2: vector.size2!), proof)
            } else {
                continue
            }
            compared += 1
        }
        XCTAssertGreaterThan(compared, 50)
    }

    func testRandomTreesAgainstTheReference() throws {
        var random = SeededRandom(seed: 6962)
        for _ in 0..<40 {
            let size = UInt64.random(in: 1...130, using: &random)
            let tree = ReferenceMerkleTree(leaves: (0..<size).map { RFC6962.leafHash(Array("leaf \($0)".utf8)) })
            let root = tree.root()
            for index in 0..<size {
                let proof = tree.inclusionProof(index: index)
                XCTAssertNoThrow(try MerkleVerifier.verifyInclusion(index: index, size: size, leafHash: tree.leaves[Int(index)], proof: proof, root: root))
                if !proof.isEmpty {
                    var corrupted = proof
                    let at = Int.random(in: 0..<proof.count, using: &random)
                    corrupted[at][Int.random(in: 0..<32, using: &random)] ^= 1
                    XCTAssertThrowsError(try MerkleVerifier.verifyInclusion(index: index, size: size, leafHash: tree.leaves[Int(index)], proof: corrupted, root: root))
                    XCTAssertThrowsError(try MerkleVerifier.verifyInclusion(index: index, size: size, leafHash: tree.leaves[Int(index)], proof: Array(proof.dropLast()), root: root))
                }
            }
            for start in 0..<size {
                for end in (start + 1)...size where (try? MerkleVerifier.checkSubtree(start: start, end: end)) != nil {
                    let proof = tree.subtreeConsistencyProof(start: start, end: end)
                    let subRoot = ReferenceMerkleTree(leaves: Array(tree.leaves[Int(start)..<Int(end)])).root()
                    XCTAssertNoThrow(try MerkleVerifier.verifySubtreeConsistency(start: start, end: end, size: size, proof: proof,
                                                                                subRoot: subRoot, parentRoot: root), "[\(start), \(end)) of \(size)")
                    if let first = proof.first {
                        var corrupted = proof
                        corrupted[0] = RFC6962.nodeHash(first, first)
                        XCTAssertThrowsError(try MerkleVerifier.verifySubtreeConsistency(start: start, end: end, size: size, proof: corrupted,
                                                                                        subRoot: subRoot, parentRoot: root))
                    }
                }
            }
            for size1 in 1...size {
                let proof = tree.consistencyProof(size1: size1)
                if size1 < size {
                    XCTAssertEqual(tree.subtreeConsistencyProof(start: 0, end: size1), proof, "a prefix subtree's proof is PROOF(m, D[n])")
                }
                XCTAssertNoThrow(try MerkleVerifier.verifyConsistency(size1: size1, size2: size, proof: proof, root1: tree.root(size: size1), root2: root),
                                 "sizes \(size1) \(size)")
                if size1 < size {
                    XCTAssertThrowsError(try MerkleVerifier.verifyConsistency(size1: size1, size2: size, proof: proof,
                                                                             root1: tree.root(size: size1), root2: tree.root(size: size - 1)))
                }
            }
        }
    }
}
