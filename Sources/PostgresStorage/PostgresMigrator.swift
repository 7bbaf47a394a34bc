public import Storage
public import Logging
public import HanseCore

/// Applies a set of migrations to one schema, forward-only, each in its own transaction, under an
/// advisory lock so that nodes starting together do not race.
///
/// Applied migrations are recorded in `<schema>.schema_migrations` with their checksum; a recorded
/// file whose text changed, or a recorded version that the binary does not know, stops the run
/// with an error naming the file.
public struct PostgresMigrator: Sendable {
    /// What one run did.
    public struct Report: Sendable, Equatable {
        /// File names applied by this run, in order.
        public var applied: [String] = []
        /// Migrations that were already applied before this run.
        public var alreadyApplied = 0

        /// A report from its parts.
        public init(applied: [String] = [], alreadyApplied: Int = 0) {
            self.applied = applied
            self.alreadyApplied = alreadyApplied
        }
    }

    private let pool: PostgresPool
    private let logger: Logger
    private let lockTimeout: Duration

    /// A migrator over `pool`.
    public init(pool: PostgresPool, logger: Logger = Logger(label: "hanse.migrate"), lockTimeout: Duration = Limits().migrationLockTimeout) {
        self.pool = pool
        self.logger = logger
        self.lockTimeout = lockTimeout
    }

    /// Brings `schema` up to date with `migrations` (sorted by version).
    public func migrate(schema: String, migrations: [Migration]) throws -> Report {
        guard Self.isValidSchemaName(schema) else {
            throw PostgresError(.migration, "schema name \(schema) is not a lower-case identifier of at most 63 characters")
        }
        return try pool.withConnection { connection in
            let previousTimeout = connection.configuredStatementTimeout
            try connection.setStatementTimeout(nil)  // migrations may legitimately run long
            try lock(schema: schema, on: connection)
            defer {
                _ = try? connection.query(Self.unlock, [.text(schema)])
                try? connection.setStatementTimeout(previousTimeout)
            }
            try ensureTable(schema: schema, on: connection)
            return try applyPending(schema: schema, migrations: migrations, on: connection)
        }
    }

    /// Schema names are interpolated into DDL, so only `[a-z_][a-z0-9_]{0,62}` is accepted.
    public static func isValidSchemaName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63 else { return false }
        let isLower = { (b: UInt8) in b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") || b == UInt8(ascii: "_") }
        let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        return isLower(first) && bytes.allSatisfy { isLower($0) || isDigit($0) }
    }

    // MARK: - Private

    private static let lockStatement = PostgresStatement(
        "migrate.lock", "SELECT pg_advisory_lock(hashtext('hanse.migrations'), hashtext($1))")
    private static let unlock = PostgresStatement(
        "migrate.unlock", "SELECT pg_advisory_unlock(hashtext('hanse.migrations'), hashtext($1))")

    private func lock(schema: String, on connection: PostgresConnection) throws {
        try connection.execute("SET lock_timeout = \(max(1, lockTimeout.wholeMilliseconds))", name: "migrate.lock_timeout")
        defer { _ = try? connection.execute("SET lock_timeout = 0", name: "migrate.lock_timeout_reset") }
        do {
            try connection.query(Self.lockStatement, [.text(schema)])
        } catch let error as PostgresError where error.sqlState == "55P03" {
            throw PostgresError(.migration, "another node held the migration lock of schema \(schema) for longer than \(lockTimeout)")
        }
    }

    private func ensureTable(schema: String, on connection: PostgresConnection) throws {
        let quoted = quoteIdentifier(schema)
        try connection.execute("""
            CREATE SCHEMA IF NOT EXISTS \(quoted);
            CREATE TABLE IF NOT EXISTS \(quoted).schema_migrations (
                version    integer PRIMARY KEY CHECK (version >= 0),
                file_name  text NOT NULL CHECK (length(file_name) <= 200),
                checksum   text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """, name: "migrate.ensure_table")
    }

    private func applyPending(schema: String, migrations: [Migration], on connection: PostgresConnection) throws -> Report {
        let quoted = quoteIdentifier(schema)
        let rows = try connection.query(sql: "SELECT version, file_name, checksum FROM \(quoted).schema_migrations ORDER BY version",
                                        name: "migrate.applied")
        var applied: [Int: (file: String, checksum: String)] = [:]
        for row in rows.rows {
            applied[try row.decode(Int.self, column: 0)] = (try row.decode(column: 1), try row.decode(column: 2))
        }
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw PostgresError(.migration, "schema \(schema) has migration \(record.file) applied, which this build does not have; is an older hanse running against a newer database?")
            }
            guard migration.checksum == record.checksum else {
                throw PostgresError(.migration, "migration \(migration.fileName) changed after it was applied to schema \(schema) (checksum \(record.checksum.prefix(12))… recorded, \(migration.checksum.prefix(12))… on disk); add a new migration instead of editing an applied one")
            }
        }

        var report = Report(alreadyApplied: applied.count)
        let pending = migrations.filter { applied[$0.version] == nil }
        for (index, migration) in pending.enumerated() {
            logger.info("applying migration", metadata: [
                "schema": "\(schema)", "file": "\(migration.fileName)", "progress": "\(index + 1)/\(pending.count)",
            ])
            try connection.transaction { connection in
                try connection.execute("SET LOCAL search_path TO \(quoted), public", name: "migrate.search_path")
                do {
                    try connection.execute(migration.sql, name: migration.fileName)
                } catch let error as PostgresError {
                    throw PostgresError(.migration, "migration \(migration.fileName) failed: \(error.message)",
                                        sqlState: error.sqlState, detail: error.detail, statement: migration.fileName)
                }
                try connection.query(sql: "INSERT INTO \(quoted).schema_migrations (version, file_name, checksum) VALUES ($1, $2, $3)",
                                     name: "migrate.record",
                                     [.int(migration.version), .text(migration.fileName), .text(migration.checksum)])
            }
            report.applied.append(migration.fileName)
        }
        return report
    }
}
