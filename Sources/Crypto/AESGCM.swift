internal import COpenSSL

/// AES-256-GCM, used to wrap private keys under the master key. Sealed box layout:
/// nonce (12 bytes) || ciphertext || tag (16 bytes).
public enum AESGCM {
    public static let keyBytes = 32
    public static let nonceBytes = 12
    public static let tagBytes = 16

    /// Why opening or sealing failed.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Encrypts `plaintext` with a fresh random nonce; `associatedData` is authenticated, not encrypted.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8] = [], nonce: [UInt8]? = nil) throws -> [UInt8] {
        guard key.count == keyBytes else { throw Failure(description: "key has \(key.count) bytes, want \(keyBytes)") }
        let nonce = nonce ?? SecureRandom().bytes(nonceBytes)
        guard nonce.count == nonceBytes else { throw Failure(description: "nonce has \(nonce.count) bytes, want \(nonceBytes)") }
        guard let context = EVP_CIPHER_CTX_new() else { throw Failure(description: "OpenSSL could not allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw Failure(description: "AES-GCM init failed") }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw Failure(description: "AES-GCM associated data failed")
            }
        }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var written: Int32 = 0
        if !plaintext.isEmpty {
            guard EVP_EncryptUpdate(context, &ciphertext, &written, plaintext, Int32(plaintext.count)) == 1 else {
                throw Failure(description: "AES-GCM encryption failed")
            }
        }
        var final: Int32 = 0
        guard ciphertext.withUnsafeMutableBufferPointer({ EVP_EncryptFinal_ex(context, $0.baseAddress! + Int(written), &final) }) == 1 else {
            throw Failure(description: "AES-GCM final failed")
        }
        ciphertext.removeLast(ciphertext.count - Int(written + final))
        var tag = [UInt8](repeating: 0, count: tagBytes)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagBytes), &tag) == 1 else { throw Failure(description: "AES-GCM tag failed") }
        return nonce + ciphertext + tag
    }

    /// Decrypts and authenticates a sealed box; any change to it, the key or the associated data
    /// is an error.
    public static func open(_ box: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard key.count == keyBytes else { throw Failure(description: "key has \(key.count) bytes, want \(keyBytes)") }
        guard box.count >= nonceBytes + tagBytes else { throw Failure(description: "sealed box of \(box.count) bytes is too short") }
        let nonce = Array(box[0..<nonceBytes])
        let ciphertext = Array(box[nonceBytes..<(box.count - tagBytes)])
        var tag = Array(box[(box.count - tagBytes)...])
        guard let context = EVP_CIPHER_CTX_new() else { throw Failure(description: "OpenSSL could not allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw Failure(description: "AES-GCM init failed") }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_DecryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw Failure(description: "AES-GCM associated data failed")
            }
        }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var written: Int32 = 0
        if !ciphertext.isEmpty {
            guard EVP_DecryptUpdate(context, &plaintext, &written, ciphertext, Int32(ciphertext.count)) == 1 else {
                throw Failure(description: "AES-GCM decryption failed")
            }
        }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagBytes), &tag) == 1 else { throw Failure(description: "AES-GCM tag failed") }
        var final: Int32 = 0
        guard plaintext.withUnsafeMutableBufferPointer({ EVP_DecryptFinal_ex(context, $0.baseAddress! + Int(written), &final) }) == 1 else {
            throw Failure(description: "authentication failed: wrong key, or the sealed box or associated data changed")
        }
        plaintext.removeLast(plaintext.count - Int(written + final))
        return plaintext
    }
}
