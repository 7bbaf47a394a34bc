/// Platform-wide settings that must survive restarts, such as the operator token's hash.
///
/// Implementations store values durably; callers never store secrets here, only their hashes.
public protocol SettingsStore: Sendable {
    /// The value stored under `key`, or nil.
    func setting(_ key: String) throws -> String?
    /// Stores `value` under `key`, replacing any previous value.
    func setSetting(_ key: String, to value: String) throws
    /// Stores `value` under `key` only if nothing is stored there yet; returns whether it did.
    func insertSettingIfAbsent(_ key: String, value: String) throws -> Bool
}

/// Names of the settings Hanse keeps.
public enum SettingKey {
    /// Hex SHA-256 of the operator token.
    public static let operatorTokenHash = "operator_token_sha256"
}
