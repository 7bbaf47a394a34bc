internal import COpenSSL

/// SHA-256 (FIPS 180-4) through OpenSSL's EVP interface.
public struct SHA256: ~Copyable {
    /// Length of a digest in bytes.
    public static let digestBytes = 32

    private let context: OpaquePointer

    /// A fresh hashing context.
    public init() {
        guard let context = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a digest context") }
        guard EVP_DigestInit_ex(context, Digests.sha256, nil) == 1 else { fatalError("OpenSSL could not initialise SHA-256") }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds `bytes` into the hash.
    public mutating func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { buffer in
            _ = EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
        }
    }

    /// The digest of everything fed so far; the context cannot be used afterwards.
    public consuming func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Self.digestBytes)
        var length: UInt32 = 0
        _ = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(length == UInt32(Self.digestBytes))
        return digest
    }

    /// The SHA-256 digest of `bytes` in one call.
    public static func hash<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The SHA-256 digest of the UTF-8 bytes of `text`.
    public static func hash(utf8 text: String) -> [UInt8] {
        hash(Array(text.utf8))
    }
}

/// Digest implementations fetched from OpenSSL's provider once per process. OpenSSL 3 looks the
/// algorithm up again (locks and a hash table) on every init given `EVP_sha256()`; a fetched
/// `EVP_MD` skips that. They are never freed and are safe to share between threads.
enum Digests {
    nonisolated(unsafe) static let sha256: OpaquePointer = fetch("SHA2-256")
    nonisolated(unsafe) static let sm3: OpaquePointer = fetch("SM3")

    private static func fetch(_ name: String) -> OpaquePointer {
        guard let digest = EVP_MD_fetch(nil, name, nil) else { fatalError("OpenSSL has no \(name)") }
        return digest
    }
}

/// Byte containers that expose their storage: `[UInt8]`, `ArraySlice<UInt8>`, raw buffers.
public protocol ContiguousBytes {
    /// Calls `body` with the bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
extension UnsafeRawBufferPointer: ContiguousBytes {
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}
