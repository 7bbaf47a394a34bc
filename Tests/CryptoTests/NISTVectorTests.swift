// NIST CAVP SigVer vectors for ECDSA P-256 with SHA-256 (Vectors/nist-p256-sha256-sigver.rsp):
// every valid signature verifies, every corrupted one (message, key, r or s changed) is refused.
import Crypto
import Foundation
import HanseCore
import XCTest

final class NISTVectorTests: XCTestCase {
    func testP256SHA256SigVer() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/nist-p256-sha256-sigver.rsp")
        var fields: [String: String] = [:]
        var checked = 0, valid = 0
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            fields[parts[0]] = parts[1]
            guard parts[0] == "Result" else { continue }
            func padded(_ name: String) -> [UInt8] {
                let bytes = Hex.decode(fields[name]!)!
                return [UInt8](repeating: 0, count: max(0, 32 - bytes.count)) + bytes
            }
            let message = Hex.decode(fields["Msg"]!)!
            let key = try? PublicKey(algorithm: .p256, raw: [4] + padded("Qx") + padded("Qy"))
            let verified = key?.isValidSignature(padded("R") + padded("S"), for: message) ?? false
            let expected = parts[1].hasPrefix("P")
            XCTAssertEqual(verified, expected, "NIST vector \(checked): \(parts[1])")
            checked += 1
            if expected { valid += 1 }
        }
        XCTAssertEqual(checked, 15)
        XCTAssertGreaterThan(valid, 0)
    }
}
