// Signatures and key wrapping against published known answers: RFC 8032 (Ed25519), RFC 6979
// A.2.5 (a P-256 signature to verify), the SM3 standard example, AES-256-GCM test cases of the
// GCM specification; then round trips through every key encoding and tamper checks.
import Crypto
import HanseCore
import XCTest

final class SignatureTests: XCTestCase {
    private func hex(_ text: String) -> [UInt8] { Hex.decode(text)! }

    func testEd25519RFC8032() throws {
        let cases: [(seed: String, publicKey: String, message: String, signature: String)] = [
            ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
             "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
            ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
             "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
             "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ]
        for test in cases {
            let key = try PrivateKey(ed25519Seed: hex(test.seed))
            XCTAssertEqual(Hex.encode(key.publicKey.raw), test.publicKey)
            XCTAssertEqual(Hex.encode(try key.sign(hex(test.message))), test.signature, "Ed25519 is deterministic")
            let publicKey = try PublicKey(algorithm: .ed25519, raw: hex(test.publicKey))
            XCTAssertTrue(publicKey.isValidSignature(hex(test.signature), for: hex(test.message)))
            XCTAssertFalse(publicKey.isValidSignature(hex(test.signature), for: hex(test.message) + [0]))
        }
    }

    func testP256RFC6979SignaturesVerify() throws {
        let publicKey = try PublicKey(algorithm: .p256, raw: hex("04"
            + "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
            + "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"))
        let sample = hex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
            + "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8")
        let test = hex("f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
            + "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083")
        XCTAssertTrue(publicKey.isValidSignature(sample, for: Array("sample".utf8)))
        XCTAssertTrue(publicKey.isValidSignature(test, for: Array("test".utf8)))
        XCTAssertFalse(publicKey.isValidSignature(sample, for: Array("test".utf8)))
        var flipped = sample
        flipped[40] ^= 1
        XCTAssertFalse(publicKey.isValidSignature(flipped, for: Array("sample".utf8)))
    }

    /// GB/T 32918.2-2016 Annex A: the example key, message "message digest", default user id,
    /// and the signature (r, s) produced with the standard's k.
    func testSM2StandardExample() throws {
        let key = try PrivateKey(algorithm: .sm2, secret: hex("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"))
        XCTAssertEqual(Hex.encode(key.publicKey.raw), "04"
            + "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
            + "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13")
        let signature = hex("f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
            + "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa")
        XCTAssertTrue(key.publicKey.isValidSignature(signature, for: Array("message digest".utf8)))
        XCTAssertFalse(key.publicKey.isValidSignature(signature, for: Array("message digesT".utf8)))
    }

    func testSM3StandardExample() {
        XCTAssertEqual(Hex.encode(SM3.hash(Array("abc".utf8))), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
        XCTAssertEqual(Hex.encode(SM3.hash(Array(String(repeating: "abcd", count: 16).utf8))),
                       "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    }

    func testEveryAlgorithmRoundTripsThroughEveryEncoding() throws {
        let message = Array("transfer 10 to bob".utf8)
        for algorithm in SignatureAlgorithm.allCases {
            let key = try PrivateKey.generate(algorithm)
            let signature = try key.sign(message)
            XCTAssertEqual(signature.count, 64, "\(algorithm)")
            let publicKey = key.publicKey
            XCTAssertEqual(publicKey.raw.count, algorithm.publicKeyBytes)
            for parsed in [try PublicKey(algorithm: algorithm, raw: publicKey.raw), try PublicKey(spki: publicKey.spki), try PublicKey(pem: publicKey.pem)] {
                XCTAssertEqual(parsed, publicKey)
                XCTAssertTrue(parsed.isValidSignature(signature, for: message), "\(algorithm)")
                XCTAssertFalse(parsed.isValidSignature(signature, for: message + [1]), "\(algorithm)")
            }
            let reloaded = try PrivateKey(pem: try key.pem())
            XCTAssertEqual(reloaded.algorithm, algorithm)
            XCTAssertEqual(reloaded.publicKey, publicKey)
            XCTAssertTrue(publicKey.isValidSignature(try reloaded.sign(message), for: message))
            let other = try PrivateKey.generate(algorithm).publicKey
            XCTAssertFalse(other.isValidSignature(signature, for: message), "another key of \(algorithm)")
        }
    }

    func testSM2AndP256AreNotInterchangeable() throws {
        let sm2 = try PrivateKey.generate(.sm2)
        let signature = try sm2.sign([1, 2, 3])
        let asP256 = try? PublicKey(algorithm: .p256, raw: sm2.publicKey.raw)
        XCTAssertFalse(asP256?.isValidSignature(signature, for: [1, 2, 3]) ?? false)
    }

    func testBadKeysAreRefusedWithReasons() {
        XCTAssertThrowsError(try PublicKey(algorithm: .p256, raw: [4] + [UInt8](repeating: 1, count: 64))) { error in
            XCTAssertTrue("\(error)".contains("not a valid"), "\(error)")
        }
        XCTAssertThrowsError(try PublicKey(algorithm: .ed25519, raw: [1, 2, 3])) { XCTAssertTrue("\($0)".contains("want 32")) }
        XCTAssertThrowsError(try PrivateKey(pkcs8: [0x30, 0x03, 0x02, 0x01, 0x00]))
        XCTAssertFalse(try PrivateKey.generate(.ed25519).publicKey.isValidSignature([1, 2], for: []))
    }

    func testAESGCMSpecificationVectorsAndTampering() throws {
        let zeroKey = [UInt8](repeating: 0, count: 32), zeroNonce = [UInt8](repeating: 0, count: 12)
        // GCM specification, test cases 13 and 14 (AES-256, zero key and IV).
        XCTAssertEqual(Hex.encode(try AESGCM.seal([], key: zeroKey, nonce: zeroNonce).suffix(16)), "530f8afbc74536b9a963b4f1c4cb738b")
        let sealed = try AESGCM.seal([UInt8](repeating: 0, count: 16), key: zeroKey, nonce: zeroNonce)
        XCTAssertEqual(Hex.encode(sealed.dropFirst(12)), "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919")

        let key = SecureRandom().bytes(32)
        let box = try AESGCM.seal(Array("private key bytes".utf8), key: key, associatedData: Array("identity 7".utf8))
        XCTAssertEqual(try AESGCM.open(box, key: key, associatedData: Array("identity 7".utf8)), Array("private key bytes".utf8))
        XCTAssertThrowsError(try AESGCM.open(box, key: key, associatedData: Array("identity 8".utf8)))
        var tampered = box
        tampered[14] ^= 0x80
        XCTAssertThrowsError(try AESGCM.open(tampered, key: key, associatedData: Array("identity 7".utf8)))
        XCTAssertThrowsError(try AESGCM.open(box, key: SecureRandom().bytes(32), associatedData: Array("identity 7".utf8)))
    }

    func testPublicKeyCacheIsBoundedAndReturnsParsedKeys() throws {
        let cache = PublicKeyCache(capacity: 4)
        let keys = try (0..<10).map { _ in try PrivateKey.generate(.ed25519).publicKey }
        for key in keys { XCTAssertEqual(try cache.key(algorithm: .ed25519, raw: key.raw), key) }
        XCTAssertLessThanOrEqual(cache.count, 4)
        XCTAssertEqual(try cache.key(algorithm: .ed25519, raw: keys[9].raw), keys[9])
    }
}
