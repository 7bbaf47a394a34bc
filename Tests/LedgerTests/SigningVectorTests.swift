// The transaction encoding against docs/signing-vectors.json, which the Python reference signer
// (examples/python/hanse_sign.py, written from docs/signing.md) produced: same signed bytes, same
// id, signatures that verify; and a fresh transaction signed on both sides agrees byte for byte.
import Crypto
import Foundation
import HanseCore
import Ledger
import XCTest

final class SigningVectorTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private struct Vector: Codable {
        struct Until: Codable { var kind: String; var value: UInt64 }
        struct Fields: Codable {
            var chain_id: String
            var contract: String
            var method: String
            var args_hex: String
            var nonce_hex: String
            var valid_until: Until
            var gas_limit: UInt64
            var algorithm: String?
            var signer_hex: String?
        }
        var algorithm: String
        var secret_hex: String
        var fields: Fields
        var signed_bytes_hex: String?
        var tx_id_hex: String?
        var signature_hex: String?
    }

    private func envelope(_ vector: Vector) throws -> TransactionEnvelope {
        let fields = vector.fields
        return TransactionEnvelope(
            chainID: fields.chain_id, contract: fields.contract, method: fields.method, args: Hex.decode(fields.args_hex)!,
            nonce: Hex.decode(fields.nonce_hex)!,
            validUntil: fields.valid_until.kind == "height" ? .height(fields.valid_until.value) : .unixMilliseconds(fields.valid_until.value),
            gasLimit: fields.gas_limit, algorithm: try XCTUnwrap(SignatureAlgorithm(rawValue: vector.algorithm)),
            signer: Hex.decode(fields.signer_hex ?? "") ?? [], signature: Hex.decode(vector.signature_hex ?? "") ?? [])
    }

    func testVectorsFromTheDocument() throws {
        let vectors = try JSONDecoder().decode([Vector].self, from: Data(contentsOf: Self.root.appendingPathComponent("docs/signing-vectors.json")))
        XCTAssertEqual(Set(vectors.map(\.algorithm)), ["p256", "ed25519", "sm2"])
        let cache = PublicKeyCache()
        for vector in vectors {
            let transaction = try envelope(vector)
            XCTAssertEqual(Hex.encode(transaction.signedBytes), vector.signed_bytes_hex, vector.algorithm)
            XCTAssertEqual(Hex.encode(transaction.id), vector.tx_id_hex, vector.algorithm)
            XCTAssertNoThrow(try transaction.verify(cache: cache), vector.algorithm)
            let key = try PrivateKey(algorithm: transaction.algorithm, secret: Hex.decode(vector.secret_hex)!)
            XCTAssertEqual(Hex.encode(key.publicKey.raw), vector.fields.signer_hex, "public key of \(vector.algorithm)")
            var changed = transaction
            changed.args = Array(#"{"amount":251,"to":"bob"}"#.utf8)
            XCTAssertThrowsError(try changed.verify(cache: cache)) { XCTAssertEqual(($0 as? TransactionError)?.field, "signature") }
        }
        // Ed25519 is deterministic: the document's signature is exactly ours.
        let ed25519 = try XCTUnwrap(vectors.first { $0.algorithm == "ed25519" })
        var resigned = try envelope(ed25519)
        try resigned.sign(with: try PrivateKey(algorithm: .ed25519, secret: Hex.decode(ed25519.secret_hex)!))
        XCTAssertEqual(Hex.encode(resigned.signature), ed25519.signature_hex)
    }

    func testFreshTransactionsAgreeWithTheReferenceSigner() throws {
        let cache = PublicKeyCache()
        for algorithm in SignatureAlgorithm.allCases {
            let secret = try XCTUnwrap(Self.secret(for: algorithm))
            let nonce = SecureRandom().bytes(24)
            let request: [String: Any] = [
                "algorithm": algorithm.rawValue, "secret_hex": Hex.encode(secret),
                "fields": ["chain_id": "c-\(algorithm.rawValue)", "contract": "evidence", "method": "notarise",
                           "args_hex": Hex.encode(Array(#"{"hash":"ab"}"#.utf8)), "nonce_hex": Hex.encode(nonce),
                           "valid_until": ["kind": "unix_ms", "value": 1_800_000_000_000], "gas_limit": 123_456_789] as [String: Any],
            ]
            let output = try runSigner(JSONSerialization.data(withJSONObject: request))
            let python = try JSONDecoder().decode(Vector.self, from: output)
            let theirs = try envelope(python)
            var ours = theirs
            ours.signature = []
            try ours.sign(with: try PrivateKey(algorithm: algorithm, secret: secret))
            XCTAssertEqual(ours.signedBytes, theirs.signedBytes, "\(algorithm)")
            XCTAssertEqual(Hex.encode(ours.id), python.tx_id_hex)
            XCTAssertNoThrow(try theirs.verify(cache: cache), "Python's \(algorithm) signature verifies here")
            XCTAssertNoThrow(try ours.verify(cache: cache))
        }
    }

    func testValidationNamesTheField() throws {
        let key = try PrivateKey.generate(.ed25519)
        var transaction = TransactionEnvelope(chainID: "c1", contract: "k", method: "m", args: [], nonce: Array(repeating: 1, count: 16),
                                              validUntil: .height(5), algorithm: .ed25519, signer: [])
        try transaction.sign(with: key)
        XCTAssertNoThrow(try transaction.validate())
        var bad = transaction
        bad.nonce = [1, 2, 3]
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual(($0 as? TransactionError)?.field, "nonce") }
        bad = transaction
        bad.gasLimit = 0
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual(($0 as? TransactionError)?.field, "gas_limit") }
        bad = transaction
        bad.method = "has space"
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual(($0 as? TransactionError)?.field, "method") }
        bad = transaction
        bad.args = Array(repeating: 0x20, count: Limits().txArgsBytesMax + 1)
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual(($0 as? TransactionError)?.field, "args") }
        bad = transaction
        bad.signer = Array(bad.signer.dropLast())
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual(($0 as? TransactionError)?.field, "signer") }
        // Two transactions differing only in where a byte sits between fields do not collide.
        var shifted = transaction
        shifted.contract = "km"
        shifted.method = "m"
        var original = transaction
        original.contract = "k"
        original.method = "mm"
        XCTAssertNotEqual(shifted.id, original.id)
    }

    private static func secret(for algorithm: SignatureAlgorithm) -> [UInt8]? {
        switch algorithm {
        case .ed25519: return Hex.decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
        case .p256, .sm2: return Hex.decode("0f5e4b3c2a19f8e7d6c5b4a392817f6e5d4c3b2a1908f7e6d5c4b3a29180706f")
        }
    }

    private func runSigner(_ input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.root.appendingPathComponent("examples/python/hanse_sign.py").path, "--sign"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "examples/python/hanse_sign.py --sign")
        return output
    }
}
