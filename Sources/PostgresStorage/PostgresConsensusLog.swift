internal import HanseCore

/// A chain's consensus write-ahead log in PostgreSQL (`consensus_wal`): the latest persisted state
/// of each validator the node hosts, as the consensus layer encoded it.
public struct PostgresConsensusLog: Sendable {
    public let schema: String
    private let table: String

    public init(schema: String) throws {
        guard PostgresMigrator.isValidSchemaName(schema) else { throw PostgresError(.query, "bad schema name \(schema)") }
        self.schema = schema
        self.table = "\(quoteIdentifier(schema)).consensus_wal"
    }

    /// Replaces `validator`'s state on `connection`. Durable when the caller's transaction
    /// commits (PostgreSQL's synchronous commit is on); the worker writes all hosted validators'
    /// states of a round of steps in one transaction.
    public func save(validator: Int, height: UInt64, state: String, on connection: PostgresConnection) throws {
        _ = try connection.query(PostgresStatement("wal.save.\(schema)", """
            INSERT INTO \(table) (validator, height, state) VALUES ($1, $2, $3::jsonb)
            ON CONFLICT (validator) DO UPDATE SET height = EXCLUDED.height, state = EXCLUDED.state, updated_at = now()
            """), [.int(Int64(validator)), .int(Int64(height)), .text(state)])
    }

    /// Stores a proposed value of `height` once (by its hash) on `connection`, and drops values
    /// of heights below it.
    public func saveValue(height: UInt64, hash: [UInt8], value: [UInt8], on connection: PostgresConnection) throws {
        _ = try connection.query(PostgresStatement("wal.value.save.\(schema)", """
            INSERT INTO \(quoteIdentifier(schema)).consensus_values (height, hash, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
            """), [.int(Int64(height)), .bytea(hash), .bytea(value)])
        _ = try connection.query(PostgresStatement("wal.value.prune.\(schema)", """
            DELETE FROM \(quoteIdentifier(schema)).consensus_values WHERE height < $1
            """), [.int(Int64(height))])
    }

    /// The stored values of `height`, by hash.
    public func values(height: UInt64, pool: PostgresPool) throws -> [[UInt8]: [UInt8]] {
        try pool.withConnection { connection in
            var values: [[UInt8]: [UInt8]] = [:]
            for row in try connection.query(PostgresStatement("wal.value.load.\(schema)", """
                SELECT hash, value FROM \(quoteIdentifier(schema)).consensus_values WHERE height = $1
                """), [.int(Int64(height))]).rows {
                values[try row.decode([UInt8].self, column: 0)] = try row.decode([UInt8].self, column: 1)
            }
            return values
        }
    }

    /// Every validator's last saved state.
    public func load(pool: PostgresPool) throws -> [Int: (height: UInt64, state: String)] {
        try pool.withConnection { connection in
            var states: [Int: (UInt64, String)] = [:]
            for row in try connection.query(PostgresStatement("wal.load.\(schema)", "SELECT validator, height, state::text FROM \(table)")).rows {
                states[try row.decode(Int.self, column: 0)] = (UInt64(try row.decode(Int64.self, column: 1)), try row.decode(String.self, column: 2))
            }
            return states
        }
    }
}
