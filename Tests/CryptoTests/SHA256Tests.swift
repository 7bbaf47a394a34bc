// Known-answer tests for SHA-256 (FIPS 180-4 examples) and the helpers around it.
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
