// A stranger's check: examples/python/verify_proof.py, which uses only hashlib and the algorithms
// written in docs/ledger.md and RFC 9162, accepts Hanse's inclusion and consistency proofs,
// refuses tampered ones, and gives every vector of ../shared/vectors/merkle its verdict.
import Foundation
import HanseCore
import Merkle
import XCTest

final class StrangerVerificationTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.root.appendingPathComponent("examples/python/verify_proof.py").path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func check(_ object: [String: Any]) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hanse-proof-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try run([file.path])
    }

    func testScriptAcceptsHanseProofsAndRefusesTamperedOnes() throws {
        let tree = ReferenceMerkleTree(leaves: (0..<37).map { RFC6962.leafHash(Array("tx \($0)".utf8)) })
        for (index, size) in [(0, 1), (5, 8), (36, 37), (20, 33)] as [(UInt64, UInt64)] {
            var proof: [String: Any] = [
                "kind": "inclusion", "index": index, "size": size, "leaf_hash": Hex.encode(tree.leaves[Int(index)]),
                "proof": tree.inclusionProof(index: index, size: size).map(Hex.encode), "root": Hex.encode(tree.root(size: size)),
            ]
            XCTAssertEqual(try check(proof).output, "ok\n", "inclusion \(index) of \(size)")
            proof["index"] = (index + 1) % size == index ? index + 1 : (index + 1) % size
            if size > 1 { XCTAssertEqual(try check(proof).status, 1, "wrong index must fail") }
        }
        for (size1, size2) in [(1, 37), (8, 37), (13, 37), (37, 37)] as [(UInt64, UInt64)] {
            var proof: [String: Any] = [
                "kind": "consistency", "size1": size1, "size2": size2, "proof": tree.consistencyProof(size1: size1, size2: size2).map(Hex.encode),
                "root1": Hex.encode(tree.root(size: size1)), "root2": Hex.encode(tree.root(size: size2)),
            ]
            XCTAssertEqual(try check(proof).output, "ok\n", "consistency \(size1) to \(size2)")
            proof["root1"] = Hex.encode(tree.root(size: size1 - 1 == 0 ? 2 : size1 - 1))
            XCTAssertEqual(try check(proof).status, 1, "a different first root must fail")
        }
    }

    func testScriptGivesEveryVectorItsVerdict() throws {
        for file in ["vectors.jsonl", "derived_positive_vectors.jsonl"] {
            let path = Self.root.deletingLastPathComponent().appendingPathComponent("shared/vectors/merkle/\(file)").path
            let result = try run(["--vectors", path])
            XCTAssertEqual(result.status, 0, result.output)
            XCTAssertTrue(result.output.hasPrefix("ok:"), result.output)
        }
    }
}
