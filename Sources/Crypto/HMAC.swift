internal import COpenSSL

/// HMAC-SHA256 (RFC 2104, FIPS 198-1) through OpenSSL.
public enum HMACSHA256 {
    /// Length of a tag in bytes.
    public static let tagBytes = 32

    /// The tag of `message` under `key`.
    public static func tag(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: tagBytes)
        var length: UInt32 = 0
        let done = key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                tag.withUnsafeMutableBufferPointer { out in
                    HMAC(EVP_sha256(), keyBuffer.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(keyBuffer.count),
                         messageBuffer.baseAddress ?? UnsafePointer(bitPattern: 1), messageBuffer.count, out.baseAddress, &length)
                }
            }
        }
        precondition(done != nil && length == UInt32(tagBytes), "OpenSSL could not compute HMAC-SHA256")
        return tag
    }
}
