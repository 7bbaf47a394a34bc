public import Crypto
public import Foundation
internal import HanseCore

/// Wraps private keys (validators', custodial identities') with the platform master key:
/// AES-256-GCM over the key's PKCS#8 bytes, with the key's purpose (`validator:<chain>:<index>`,
/// `identity:<chain>:<id>`) as associated data, so a wrapped key copied to another row does not open.
public struct KeyVault: Sendable {
    private let masterKey: [UInt8]

    public init(masterKey: [UInt8]) throws {
        guard masterKey.count == AESGCM.keyBytes else { throw KeyVaultError("the master key must be \(AESGCM.keyBytes) bytes, got \(masterKey.count)") }
        self.masterKey = masterKey
    }

    public func wrap(_ key: PrivateKey, purpose: String) throws -> [UInt8] {
        try AESGCM.seal(try key.pkcs8(), key: masterKey, associatedData: Array(purpose.utf8))
    }

    public func unwrap(_ box: [UInt8], purpose: String) throws -> PrivateKey {
        do {
            return try PrivateKey(pkcs8: try AESGCM.open(box, key: masterKey, associatedData: Array(purpose.utf8)))
        } catch {
            throw KeyVaultError("cannot unwrap the key for \(purpose): wrong master key, or the row was altered")
        }
    }

    /// Wraps a secret that is not a key (a webhook signing secret) the same way.
    public func seal(_ secret: [UInt8], purpose: String) throws -> [UInt8] {
        try AESGCM.seal(secret, key: masterKey, associatedData: Array(purpose.utf8))
    }

    public func open(_ box: [UInt8], purpose: String) throws -> [UInt8] {
        do {
            return try AESGCM.open(box, key: masterKey, associatedData: Array(purpose.utf8))
        } catch {
            throw KeyVaultError("cannot unwrap the secret for \(purpose): wrong master key, or the row was altered")
        }
    }

    /// The master key from `HANSE_MASTER_KEY` (64 hex digits) when set; else the file `path`,
    /// created with a fresh random key (mode 0600) on first use.
    public static func loadMasterKey(configured: String?, file path: URL) throws -> (key: [UInt8], created: Bool) {
        if let configured {
            guard let key = Hex.decode(configured.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == AESGCM.keyBytes else {
                throw KeyVaultError("HANSE_MASTER_KEY must be \(AESGCM.keyBytes * 2) hex digits")
            }
            return (key, false)
        }
        if let text = try? String(contentsOf: path, encoding: .utf8) {
            guard let key = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == AESGCM.keyBytes else {
                throw KeyVaultError("\(path.path) does not hold a master key (\(AESGCM.keyBytes * 2) hex digits)")
            }
            return (key, false)
        }
        let key = SecureRandom().bytes(AESGCM.keyBytes)
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path.path, contents: Data((Hex.encode(key) + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw KeyVaultError("cannot create \(path.path)")
        }
        return (key, true)
    }
}

public struct KeyVaultError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
