internal import COpenSSL
public import HanseCore

/// Cryptographically secure randomness from OpenSSL's DRBG, for keys, tokens and nonces.
public struct SecureRandom: RandomSource {
    /// The process-wide generator.
    public init() {}

    /// `count` random bytes. Stops the process if the DRBG fails: continuing without
    /// randomness would mint guessable keys and tokens.
    public func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= 1 << 20, "random request of \(count) bytes is out of range")
        var out = [UInt8](repeating: 0, count: count)
        let status = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(status == 1, "OpenSSL RAND_bytes failed")
        return out
    }
}

/// Comparison whose duration depends only on the lengths, not on where the inputs differ.
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    if lhs.isEmpty { return true }
    return lhs.withUnsafeBytes { a in
        rhs.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
    }
}
