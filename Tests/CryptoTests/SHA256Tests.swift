// Known-answer tests for SHA-256 (FIPS 180-4 examples), the helpers around it, and HMAC-SHA256 (RFC 4231).
import Crypto
import HanseCore
import XCTest

final class SHA256Tests: XCTestCase {
    func testFIPSExamples() {
        XCTAssertEqual(Hex.encode(SHA256.hash(utf8: "")),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Hex.encode(SHA256.hash(utf8: "abc")),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Hex.encode(SHA256.hash(utf8: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testStreamingEqualsOneShot() {
        var rng = SeededRandom(seed: 7)
        let data = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var hasher = SHA256()
        for chunk in stride(from: 0, to: data.count, by: 997) {
            hasher.update(data[chunk..<min(chunk + 997, data.count)])
        }
        let streamed = hasher.finalize()
        XCTAssertEqual(streamed, SHA256.hash(data))
    }

    func testSecureRandomIsNotConstant() {
        let random = SecureRandom()
        XCTAssertEqual(random.bytes(32).count, 32)
        XCTAssertNotEqual(random.bytes(32), random.bytes(32))
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2]))
        XCTAssertTrue(constantTimeEquals([], []))
    }
}

/// RFC 4231 test cases 1, 2 and 6 (a key longer than the block size).
final class HMACSHA256Tests: XCTestCase {
    func testRFC4231Vectors() {
        XCTAssertEqual(Hex.encode(HMACSHA256.tag(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(Hex.encode(HMACSHA256.tag(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(Hex.encode(HMACSHA256.tag(key: [UInt8](repeating: 0xaa, count: 131),
                                                 message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        XCTAssertEqual(HMACSHA256.tag(key: [], message: []).count, 32)
    }
}
