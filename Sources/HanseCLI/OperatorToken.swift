public import Crypto
internal import Foundation
public import HanseCore
public import Storage

/// The operator token: a bearer secret for the operator API. Only its SHA-256 is stored.
public enum OperatorToken {
    /// Prefix of generated tokens, so that leaked tokens are easy to recognise and scan for.
    public static let prefix = "hanse_op_"
    /// Shortest token accepted from `HANSE_OPERATOR_TOKEN`.
    public static let configuredLengthMin = 32

    /// What `ensure` did.
    public enum Outcome: Equatable, Sendable {
        /// A token was generated; this is the only time it is shown.
        case generated(String)
        /// The hash of `HANSE_OPERATOR_TOKEN` was stored.
        case configured
        /// A token hash was already stored; nothing changed.
        case existing
    }

    /// Makes sure an operator token hash is stored: the configured token's, or a new random one.
    public static func ensure(store: any SettingsStore, configured: String?, random: any RandomSource = SecureRandom()) throws -> Outcome {
        if let configured {
            guard configured.utf8.count >= configuredLengthMin else {
                throw OperatorTokenError(description: "HANSE_OPERATOR_TOKEN must be at least \(configuredLengthMin) characters")
            }
            try store.setSetting(SettingKey.operatorTokenHash, to: hash(configured))
            return .configured
        }
        let token = prefix + base64URL(random.bytes(32))
        return try store.insertSettingIfAbsent(SettingKey.operatorTokenHash, value: hash(token)) ? .generated(token) : .existing
    }

    /// Whether `presented` is the operator token, compared in constant time.
    public static func verify(_ presented: String, store: any SettingsStore) throws -> Bool {
        guard let stored = try store.setting(SettingKey.operatorTokenHash), let expected = Hex.decode(stored) else { return false }
        return constantTimeEquals(SHA256.hash(utf8: presented), expected)
    }

    /// Hex SHA-256 of a token.
    public static func hash(_ token: String) -> String { Hex.encode(SHA256.hash(utf8: token)) }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// A bad operator token configuration.
public struct OperatorTokenError: Error, CustomStringConvertible {
    public let description: String
}
