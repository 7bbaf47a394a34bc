public import Storage

/// `SettingsStore` over the `platform.settings` table.
public struct PostgresSettingsStore: SettingsStore {
    private let pool: PostgresPool

    /// A store over `pool`; the platform migrations must have run.
    public init(pool: PostgresPool) { self.pool = pool }

    private static let get = PostgresStatement("settings.get", "SELECT value FROM platform.settings WHERE key = $1")
    private static let upsert = PostgresStatement("settings.upsert", """
        INSERT INTO platform.settings (key, value) VALUES ($1, $2)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
        """)
    private static let insert = PostgresStatement(
        "settings.insert", "INSERT INTO platform.settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")

    public func setting(_ key: String) throws -> String? {
        try pool.withConnection { try $0.query(Self.get, [.text(key)]).first?.decode(String.self, column: 0) }
    }

    public func setSetting(_ key: String, to value: String) throws {
        try pool.withConnection { _ = try $0.query(Self.upsert, [.text(key), .text(value)]) }
    }

    public func insertSettingIfAbsent(_ key: String, value: String) throws -> Bool {
        try pool.withConnection { try $0.query(Self.insert, [.text(key), .text(value)]).affectedRows == 1 }
    }
}
