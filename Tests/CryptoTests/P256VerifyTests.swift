// The P-256 verification path (hand-written DER of r || s, reused OpenSSL contexts): the DER is
// what OpenSSL reads back for awkward values, and a key verifies correctly from many threads at
// once with valid and invalid signatures interleaved (a failure does not spoil a reused context);
// signing reuses contexts the same way. CrossCheckTests checks the signatures with the
// `cryptography` package.
@testable import Crypto
import Dispatch
import Synchronization
import XCTest

final class P256VerifyTests: XCTestCase {
    func testDEREncodingOfRawSignaturesIsMinimalAndReadsBack() throws {
        var cases: [[UInt8]] = [
            [UInt8](repeating: 0, count: 64),
            [UInt8](repeating: 0xFF, count: 64),
            [UInt8](repeating: 0, count: 31) + [1] + [0x80] + [UInt8](repeating: 0, count: 31),
            [0, 0, 0x7F] + [UInt8](repeating: 0x11, count: 29) + [0, 0x80] + [UInt8](repeating: 0x22, count: 30),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 { cases.append((0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        for raw in cases {
            let der = try XCTUnwrap(ECDSASignature.der(fromRaw: raw))
            XCTAssertEqual(ECDSASignature.raw(fromDER: der), raw, "OpenSSL reads back what was written")
            XCTAssertEqual(der[0], 0x30)
            XCTAssertEqual(Int(der[1]), der.count - 2)
            // Minimal INTEGERs: no leading zero byte unless the next byte has its high bit set.
            var index = 2
            for _ in 0..<2 {
                XCTAssertEqual(der[index], 0x02)
                let length = Int(der[index + 1])
                let body = der[(index + 2)..<(index + 2 + length)]
                if length > 1, body.first == 0 { XCTAssertGreaterThanOrEqual(body[body.startIndex + 1], 0x80) }
                XCTAssertLessThan(body.first!, 0x80, "positive")
                index += 2 + length
            }
            XCTAssertEqual(index, der.count)
        }
        XCTAssertNil(ECDSASignature.der(fromRaw: [1, 2, 3]))
    }

    func testOneKeyVerifiesFromManyThreadsWithFailuresInterleaved() throws {
        let key = try PrivateKey.generate(.p256)
        let message = Array("transfer 10 to alice".utf8)
        let signature = try key.sign(message)
        let publicKey = try PublicKey(algorithm: .p256, raw: key.publicKey.raw)
        let forged = Array(signature.prefix(63)) + [signature[63] ^ 1]
        let wrong = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0..<50 {
                if !publicKey.isValidSignature(signature, for: message) { wrong.withLock { $0.append("valid refused, thread \(thread) round \(round)") } }
                if publicKey.isValidSignature(forged, for: message) { wrong.withLock { $0.append("forged accepted, thread \(thread) round \(round)") } }
                if publicKey.isValidSignature(signature, for: message + [0]) { wrong.withLock { $0.append("other message accepted") } }
            }
        }
        XCTAssertEqual(wrong.withLock { $0 }, [])
        // r or s of zero, or out of range, are refused, not crashes.
        XCTAssertFalse(publicKey.isValidSignature([UInt8](repeating: 0, count: 64), for: message))
        XCTAssertFalse(publicKey.isValidSignature([UInt8](repeating: 0xFF, count: 64), for: message))
    }

    func testOneKeySignsFromManyThreads() throws {
        let key = try PrivateKey.generate(.p256)
        let publicKey = try PublicKey(algorithm: .p256, raw: key.publicKey.raw)
        let signatures = Mutex<[(message: [UInt8], signature: [UInt8])]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0..<40 {
                let message = Array("thread \(thread) round \(round)".utf8)
                do {
                    let signature = try key.sign(message)
                    signatures.withLock { $0.append((message, signature)) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        let all = signatures.withLock { $0 }
        XCTAssertEqual(all.count, 320)
        for (message, signature) in all {
            XCTAssertEqual(signature.count, 64)
            XCTAssertTrue(publicKey.isValidSignature(signature, for: message))
            XCTAssertFalse(publicKey.isValidSignature(signature, for: message + [0]))
        }
        // ECDSA's nonce is random: the same message signed twice gives two signatures.
        let message = Array("same".utf8)
        XCTAssertNotEqual(try key.sign(message), try key.sign(message))
    }
}
