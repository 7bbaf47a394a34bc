internal import COpenSSL
internal import Foundation
internal import HanseCore
internal import Synchronization

/// The signature algorithms of identities and validators.
public enum SignatureAlgorithm: String, Sendable, CaseIterable, Codable {
    /// ECDSA over P-256 with SHA-256 (WebCrypto's ECDSA P-256).
    case p256
    /// Ed25519 (RFC 8032).
    case ed25519
    /// SM2 with SM3 and the standard default user id "1234567812345678" (GB/T 32918, GM/T 0009).
    case sm2

    /// Length of a raw public key: an uncompressed point (0x04 || x || y) for P-256 and SM2.
    public var publicKeyBytes: Int { self == .ed25519 ? 32 : 65 }
    /// Length of a raw signature: r || s for P-256 and SM2 (IEEE P1363, as WebCrypto), R || S for Ed25519.
    public var signatureBytes: Int { 64 }

    /// The DER prefix that turns a raw public key into a SubjectPublicKeyInfo.
    fileprivate var spkiPrefix: [UInt8] {
        switch self {
        case .p256: return Hex.bytes("3059301306072a8648ce3d020106082a8648ce3d030107034200")
        case .sm2: return Hex.bytes("3059301306072a8648ce3d020106082a811ccf5501822d034200")
        case .ed25519: return Hex.bytes("302a300506032b6570032100")
        }
    }
}

/// Why a key or signature could not be used.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// An OpenSSL key. Owns the EVP_PKEY and frees it; immutable once made, so safe to share.
final class KeyHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    /// Contexts ready for `EVP_PKEY_verify` and `EVP_PKEY_sign` (an OpenSSL context serves one
    /// thread at a time; setting one up costs about a fifth of a P-256 verification).
    private let verifiers = ContextPool()
    private let signers = ContextPool()

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    /// Runs `body` with a context initialised for `EVP_PKEY_verify` with this key; nil if OpenSSL
    /// cannot make one.
    func withVerifyContext<T>(_ body: (OpaquePointer) -> T) -> T? {
        verifiers.with(key: pointer, initialise: { EVP_PKEY_verify_init($0) == 1 }, body)
    }

    /// Runs `body` with a context initialised for `EVP_PKEY_sign` with this (private) key; nil if
    /// OpenSSL cannot make one.
    func withSignContext<T>(_ body: (OpaquePointer) -> T) -> T? {
        signers.with(key: pointer, initialise: { EVP_PKEY_sign_init($0) == 1 }, body)
    }

    deinit {
        verifiers.drain()
        signers.drain()
        EVP_PKEY_free(pointer)
    }
}

/// A few `EVP_PKEY_CTX`s of one key set up for one operation, reused across calls.
private final class ContextPool: Sendable {
    /// An `EVP_PKEY_CTX`, handed between threads but used by one at a time.
    private struct Context: @unchecked Sendable { let pointer: OpaquePointer }
    private let contexts = Mutex<[Context]>([])
    private static let kept = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))

    func with<T>(key: OpaquePointer, initialise: (OpaquePointer) -> Bool, _ body: (OpaquePointer) -> T) -> T? {
        var context = contexts.withLock { $0.popLast() }?.pointer
        if context == nil {
            guard let created = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else { return nil }
            guard initialise(created) else {
                EVP_PKEY_CTX_free(created)
                return nil
            }
            context = created
        }
        let result = body(context!)
        let kept = contexts.withLock { contexts in
            guard contexts.count < Self.kept else { return false }
            contexts.append(Context(pointer: context!))
            return true
        }
        if !kept { EVP_PKEY_CTX_free(context!) }
        return result
    }

    func drain() {
        contexts.withLock { contexts in
            contexts.forEach { EVP_PKEY_CTX_free($0.pointer) }
            contexts.removeAll()
        }
    }
}

/// A public key of one of the supported algorithms.
public struct PublicKey: Sendable, Equatable {
    public let algorithm: SignatureAlgorithm
    /// The raw key: 32 bytes (Ed25519) or an uncompressed 65-byte point.
    public let raw: [UInt8]
    let handle: KeyHandle

    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.algorithm == rhs.algorithm && lhs.raw == rhs.raw }

    /// Parses a raw public key; refuses points not on the curve.
    public init(algorithm: SignatureAlgorithm, raw: [UInt8]) throws {
        guard raw.count == algorithm.publicKeyBytes else {
            throw CryptoError("\(algorithm.rawValue) public key has \(raw.count) bytes, want \(algorithm.publicKeyBytes)")
        }
        if algorithm != .ed25519 && raw.first != 0x04 { throw CryptoError("\(algorithm.rawValue) public key must be an uncompressed point (0x04 …)") }
        let key = try Self.parseSPKI(algorithm.spkiPrefix + raw)
        self.init(algorithm: algorithm, raw: raw, handle: key)
    }

    /// Parses a DER SubjectPublicKeyInfo and finds its algorithm.
    public init(spki der: [UInt8]) throws {
        let key = try Self.parseSPKI(der)
        for algorithm in SignatureAlgorithm.allCases where der.starts(with: algorithm.spkiPrefix) && der.count == algorithm.spkiPrefix.count + algorithm.publicKeyBytes {
            self.init(algorithm: algorithm, raw: Array(der.dropFirst(algorithm.spkiPrefix.count)), handle: key)
            return
        }
        throw CryptoError("public key is not P-256, Ed25519 or SM2")
    }

    /// Parses a PEM `PUBLIC KEY` block.
    public init(pem: String) throws {
        try self.init(spki: try PEM.decode(pem, label: "PUBLIC KEY"))
    }

    init(algorithm: SignatureAlgorithm, raw: [UInt8], handle: KeyHandle) {
        self.algorithm = algorithm
        self.raw = raw
        self.handle = handle
    }

    /// The DER SubjectPublicKeyInfo.
    public var spki: [UInt8] { algorithm.spkiPrefix + raw }
    /// The PEM `PUBLIC KEY` block.
    public var pem: String { PEM.encode(spki, label: "PUBLIC KEY") }

    /// Whether `signature` (raw, 64 bytes) signs `message` under this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == algorithm.signatureBytes else { return false }
        if algorithm == .p256 {
            // ECDSA over the SHA-256 digest with a reused context: the same check as
            // EVP_DigestVerify, without setting up a digest and key context per call.
            guard let der = ECDSASignature.der(fromRaw: signature) else { return false }
            let digest = SHA256.hash(message)
            let valid = handle.withVerifyContext { context in
                EVP_PKEY_verify(context, der, der.count, digest, digest.count) == 1
            } ?? false
            if !valid { ERR_clear_error() }
            return valid
        }
        let encoded: [UInt8]
        if algorithm == .ed25519 {
            encoded = signature
        } else {
            guard let der = ECDSASignature.der(fromRaw: signature) else { return false }
            encoded = der
        }
        return (try? withSigningContext(handle.pointer, algorithm: algorithm, sign: false) { context in
            EVP_DigestVerify(context, encoded, encoded.count, message, message.count) == 1
        }) ?? false
    }

    private static func parseSPKI(_ der: [UInt8]) throws -> KeyHandle {
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let key else { throw CryptoError("public key is not a valid SubjectPublicKeyInfo or point: \(openSSLError())") }
        return KeyHandle(key)
    }
}

/// A private key. Export it only wrapped (AES-GCM under the master key) or to its owner.
public struct PrivateKey: Sendable {
    public let algorithm: SignatureAlgorithm
    let handle: KeyHandle
    /// The raw public key, exported once (OpenSSL's encoder lookup costs several signatures).
    private let publicRaw: [UInt8]

    /// A new random key.
    public static func generate(_ algorithm: SignatureAlgorithm) throws -> PrivateKey {
        let name: String
        switch algorithm {
        case .p256: name = "EC"
        case .ed25519: name = "ED25519"
        case .sm2: name = "SM2"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else { throw CryptoError("OpenSSL has no \(name) keys") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw CryptoError("key generation init failed: \(openSSLError())") }
        if algorithm == .p256 { guard EVP_PKEY_CTX_set_group_name(context, "prime256v1") == 1 else { throw CryptoError("no P-256 group") } }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else { throw CryptoError("key generation failed: \(openSSLError())") }
        return try PrivateKey(algorithm: algorithm, handle: KeyHandle(key))
    }

    /// An Ed25519 key from its 32-byte seed (RFC 8032).
    public init(ed25519Seed seed: [UInt8]) throws {
        guard seed.count == 32 else { throw CryptoError("Ed25519 seed has \(seed.count) bytes, want 32") }
        guard let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, 32) else { throw CryptoError("bad Ed25519 seed") }
        try self.init(algorithm: .ed25519, handle: KeyHandle(key))
    }

    /// A key from its raw secret: the 32-byte seed for Ed25519, the 32-byte big-endian scalar for
    /// P-256 and SM2 (wrapped into PKCS#8 without the public key, which OpenSSL derives).
    public init(algorithm: SignatureAlgorithm, secret: [UInt8]) throws {
        guard secret.count == 32 else { throw CryptoError("\(algorithm.rawValue) secret has \(secret.count) bytes, want 32") }
        switch algorithm {
        case .ed25519:
            try self.init(ed25519Seed: secret)
        case .p256, .sm2:
            let curve = algorithm == .p256 ? "06082a8648ce3d030107" : "06082a811ccf5501822d"
            let der = Hex.bytes("304102010030130607" + "2a8648ce3d0201" + curve + "042730250201010420") + secret
            try self.init(pkcs8: der)
            guard self.algorithm == algorithm else { throw CryptoError("secret did not make a \(algorithm.rawValue) key") }
        }
    }

    /// Parses a DER PKCS#8 PrivateKeyInfo of one of the supported algorithms.
    public init(pkcs8 der: [UInt8]) throws {
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let info = d2i_PKCS8_PRIV_KEY_INFO(nil, &cursor, buffer.count) else { return nil }
            defer { PKCS8_PRIV_KEY_INFO_free(info) }
            return EVP_PKCS82PKEY(info)
        }
        guard let key else { throw CryptoError("private key is not valid PKCS#8: \(openSSLError())") }
        let handle = KeyHandle(key)
        let publicDER = try Self.exportSPKI(handle)
        guard let algorithm = SignatureAlgorithm.allCases.first(where: { publicDER.starts(with: $0.spkiPrefix) }) else {
            throw CryptoError("private key is not P-256, Ed25519 or SM2")
        }
        self.init(algorithm: algorithm, handle: handle, spki: publicDER)
    }

    /// Parses a PEM `PRIVATE KEY` block.
    public init(pem: String) throws {
        try self.init(pkcs8: try PEM.decode(pem, label: "PRIVATE KEY"))
    }

    init(algorithm: SignatureAlgorithm, handle: KeyHandle) throws {
        self.init(algorithm: algorithm, handle: handle, spki: try Self.exportSPKI(handle))
    }

    private init(algorithm: SignatureAlgorithm, handle: KeyHandle, spki: [UInt8]) {
        self.algorithm = algorithm
        self.handle = handle
        self.publicRaw = Array(spki.dropFirst(algorithm.spkiPrefix.count))
    }

    /// The matching public key.
    public var publicKey: PublicKey {
        // The handle holds the private key too; verification only uses its public half.
        PublicKey(algorithm: algorithm, raw: publicRaw, handle: handle)
    }

    /// The DER PKCS#8 PrivateKeyInfo.
    public func pkcs8() throws -> [UInt8] {
        guard let info = EVP_PKEY2PKCS8(handle.pointer) else { throw CryptoError("PKCS#8 export failed: \(openSSLError())") }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        return try derEncode { i2d_PKCS8_PRIV_KEY_INFO(info, $0) }
    }

    /// The PEM `PRIVATE KEY` block.
    public func pem() throws -> String { PEM.encode(try pkcs8(), label: "PRIVATE KEY") }

    /// Signs `message`: ECDSA P-256 with SHA-256, Ed25519, or SM2 with SM3 and the default user
    /// id. Returns the raw 64-byte signature.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        if algorithm == .p256 {
            // ECDSA over the SHA-256 digest with a reused context, as for verification.
            let digest = SHA256.hash(message)
            let der: [UInt8]? = handle.withSignContext { context in
                var length = 80
                var output = [UInt8](repeating: 0, count: length)
                guard EVP_PKEY_sign(context, &output, &length, digest, digest.count) == 1 else { return nil }
                return Array(output.prefix(length))
            } ?? nil
            guard let der else { throw CryptoError("signing failed: \(openSSLError())") }
            guard let raw = ECDSASignature.raw(fromDER: der) else { throw CryptoError("OpenSSL produced a malformed signature") }
            return raw
        }
        let signature: [UInt8] = try withSigningContext(handle.pointer, algorithm: algorithm, sign: true) { context in
            var length = 0
            guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else { throw CryptoError("signing failed: \(openSSLError())") }
            var output = [UInt8](repeating: 0, count: length)
            guard EVP_DigestSign(context, &output, &length, message, message.count) == 1 else { throw CryptoError("signing failed: \(openSSLError())") }
            return Array(output.prefix(length))
        }
        if algorithm == .ed25519 { return signature }
        guard let raw = ECDSASignature.raw(fromDER: signature) else { throw CryptoError("OpenSSL produced a malformed signature") }
        return raw
    }

    private static func exportSPKI(_ handle: KeyHandle) throws -> [UInt8] {
        try derEncode { i2d_PUBKEY(handle.pointer, $0) }
    }
}

/// The standard default user id of SM2 signatures (GM/T 0009-2012).
let sm2DefaultID = Array("1234567812345678".utf8)

/// Runs `body` with a digest-sign or digest-verify context set up for `algorithm`.
private func withSigningContext<T>(_ key: OpaquePointer, algorithm: SignatureAlgorithm, sign: Bool,
                                   _ body: (OpaquePointer) throws -> T) throws -> T {
    guard let context = EVP_MD_CTX_new() else { throw CryptoError("OpenSSL could not allocate a digest context") }
    defer { EVP_MD_CTX_free(context) }
    var keyContext: OpaquePointer?
    if algorithm == .sm2 {
        guard let created = EVP_PKEY_CTX_new(key, nil) else { throw CryptoError("OpenSSL could not allocate an SM2 context") }
        keyContext = created
        guard EVP_PKEY_CTX_set1_id(created, sm2DefaultID, Int32(sm2DefaultID.count)) == 1 else { throw CryptoError("SM2 user id rejected") }
        EVP_MD_CTX_set_pkey_ctx(context, created)
    }
    defer { if let keyContext { EVP_PKEY_CTX_free(keyContext) } }
    let digest: OpaquePointer?
    switch algorithm {
    case .p256: digest = Digests.sha256
    case .sm2: digest = Digests.sm3
    case .ed25519: digest = nil
    }
    let status = sign ? EVP_DigestSignInit(context, nil, digest, nil, key) : EVP_DigestVerifyInit(context, nil, digest, nil, key)
    guard status == 1 else { throw CryptoError("signature context init failed: \(openSSLError())") }
    return try body(context)
}

/// Conversions between DER ECDSA signatures and the raw r || s form.
enum ECDSASignature {
    static func raw(fromDER der: [UInt8]) -> [UInt8]? {
        der.withUnsafeBufferPointer { buffer -> [UInt8]? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let signature = d2i_ECDSA_SIG(nil, &cursor, buffer.count) else { return nil }
            defer { ECDSA_SIG_free(signature) }
            var output = [UInt8](repeating: 0, count: 64)
            guard BN_bn2binpad(ECDSA_SIG_get0_r(signature), &output, 32) == 32 else { return nil }
            guard output.withUnsafeMutableBufferPointer({ BN_bn2binpad(ECDSA_SIG_get0_s(signature), $0.baseAddress! + 32, 32) }) == 32 else { return nil }
            return output
        }
    }

    /// The DER ECDSA-Sig-Value (SEQUENCE of INTEGER r, INTEGER s) of a raw r || s, written
    /// directly: minimal positive INTEGERs, at most 72 bytes, so short-form lengths throughout.
    static func der(fromRaw raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64 else { return nil }
        func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var body = Array(bytes.drop(while: { $0 == 0 }))
            if body.isEmpty {
                body = [0]
            } else if body[0] & 0x80 != 0 {
                body.insert(0, at: 0)
            }
            return [0x02, UInt8(body.count)] + body
        }
        let content = integer(raw[0..<32]) + integer(raw[32..<64])
        return [0x30, UInt8(content.count)] + content
    }
}

/// Calls an OpenSSL i2d function twice: once for the length, once to write.
private func derEncode(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) throws -> [UInt8] {
    let length = encode(nil)
    guard length > 0 else { throw CryptoError("DER encoding failed: \(openSSLError())") }
    var output = [UInt8](repeating: 0, count: Int(length))
    let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
        return encode(&cursor)
    }
    guard written == length else { throw CryptoError("DER encoding failed") }
    return output
}

/// The last OpenSSL error as text, clearing the queue.
func openSSLError() -> String {
    let code = ERR_get_error()
    ERR_clear_error()
    guard code != 0 else { return "no detail" }
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// PEM armour (RFC 7468).
enum PEM {
    static func encode(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [String] = []
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        return "-----BEGIN \(label)-----\n" + lines.joined(separator: "\n") + "\n-----END \(label)-----\n"
    }

    static func decode(_ text: String, label: String) throws -> [UInt8] {
        let begin = "-----BEGIN \(label)-----", end = "-----END \(label)-----"
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) else {
            throw CryptoError("no PEM block labelled \(label)")
        }
        let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)) else { throw CryptoError("PEM block \(label) is not valid base64") }
        return [UInt8](data)
    }
}

extension Hex {
    /// Bytes of a hex literal known to be valid.
    static func bytes(_ text: String) -> [UInt8] { Hex.decode(text)! }
}
