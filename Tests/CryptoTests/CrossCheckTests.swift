// Signatures checked by independent implementations run from the test: Python's `cryptography`
// (P-256, Ed25519) and the pure-Python `gmssl` (SM2 with SM3). Each side verifies the other's
// signatures, and each side must refuse a signature over a changed message.
import Crypto
import Foundation
import HanseCore
import XCTest

final class CrossCheckTests: XCTestCase {
    private struct Case: Codable { var alg: String; var pub: String?; var msg: String; var sig: String? }
    private struct Request: Codable { var verify: [Case]; var sign: [Case] }
    private struct Answer: Codable { var verified: [Bool]; var signed: [Case] }

    private func runPython(_ request: Request) throws -> Answer {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("crosscheck.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(try JSONEncoder().encode(request))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailed(description: String(decoding: problems, as: UTF8.self) + " (pip install cryptography gmssl==3.2.2)")
        }
        return try JSONDecoder().decode(Answer.self, from: data)
    }

    private struct PythonFailed: Error, CustomStringConvertible { let description: String }

    func testSignaturesAgreeWithIndependentImplementations() throws {
        var verify: [Case] = []
        var expected: [Bool] = []
        for algorithm in SignatureAlgorithm.allCases {
            for index in 0..<5 {
                let key = try PrivateKey.generate(algorithm)
                let message = Array("message \(index) for \(algorithm.rawValue)".utf8)
                let signature = try key.sign(message)
                verify.append(Case(alg: algorithm.rawValue, pub: Hex.encode(key.publicKey.raw), msg: Hex.encode(message), sig: Hex.encode(signature)))
                expected.append(true)
                verify.append(Case(alg: algorithm.rawValue, pub: Hex.encode(key.publicKey.raw), msg: Hex.encode(message + [0x21]), sig: Hex.encode(signature)))
                expected.append(false)
            }
        }
        let sign = SignatureAlgorithm.allCases.flatMap { algorithm in
            (0..<5).map { Case(alg: algorithm.rawValue, msg: Hex.encode(Array("from python \($0)".utf8))) }
        }
        let answer = try runPython(Request(verify: verify, sign: sign))
        XCTAssertEqual(answer.verified, expected, "Python's verdicts on Hanse's signatures")
        for signed in answer.signed {
            let algorithm = try XCTUnwrap(SignatureAlgorithm(rawValue: signed.alg))
            let key = try PublicKey(algorithm: algorithm, raw: Hex.decode(signed.pub!)!)
            let message = Hex.decode(signed.msg)!
            XCTAssertTrue(key.isValidSignature(Hex.decode(signed.sig!)!, for: message), "Python's \(algorithm) signature")
            XCTAssertFalse(key.isValidSignature(Hex.decode(signed.sig!)!, for: message + [1]))
        }
        XCTAssertEqual(answer.signed.count, 15)
    }
}
