/// Every bound of the platform in one place, each with the reason for its default.
///
/// Limits are plain values so that tests and operators can tighten them; `validate()` checks the
/// relations between them once, at start-up. Where a limit applies to stored data, the schema in
/// `Migrations/` carries a matching `CHECK` constraint.
public struct Limits: Sendable, Equatable {
    /// Connections one node opens to PostgreSQL. PostgreSQL's default `max_connections` is 100 and
    /// several nodes may share a cluster. Default: 16.
    public var databaseConnectionsMax: Int = 16
    /// How long a caller waits for a pooled connection before failing with "pool exhausted".
    /// Long enough to ride out a burst, short enough that an HTTP request fails fast. Default: 5 s.
    public var databaseAcquireTimeout: Duration = .seconds(5)
    /// How long opening one PostgreSQL connection may take. Default: 10 s.
    public var databaseConnectTimeout: Duration = .seconds(10)
    /// Server-side `statement_timeout` of every pooled connection: no query runs away. Default: 30 s.
    public var databaseStatementTimeout: Duration = .seconds(30)
    /// Attempts of a transaction that is safe to retry after a serialization failure or a
    /// deadlock (SQLSTATE 40001, 40P01). Default: 5.
    public var databaseTransactionAttemptsMax: Int = 5
    /// How long `migrate` waits for another node's migration lock. Default: 120 s.
    public var migrationLockTimeout: Duration = .seconds(120)
    /// How long the embedded PostgreSQL may take to start or stop. Default: 120 s (crash
    /// recovery after `kill -9` replays WAL first).
    public var embeddedPostgresStartTimeout: Duration = .seconds(120)
    /// Largest migration file accepted. Default: 1 MiB.
    public var migrationFileBytesMax: Int = 1 << 20

    /// The defaults described above.
    public init() {}

    /// Checks the relations between limits; returns the first broken one as a sentence.
    public func validate() -> String? {
        if databaseConnectionsMax < 1 { return "databaseConnectionsMax must be at least 1, got \(databaseConnectionsMax)" }
        if databaseConnectionsMax > 1000 { return "databaseConnectionsMax must be at most 1000, got \(databaseConnectionsMax)" }
        if databaseTransactionAttemptsMax < 1 { return "databaseTransactionAttemptsMax must be at least 1" }
        if databaseAcquireTimeout <= .zero { return "databaseAcquireTimeout must be positive" }
        if databaseStatementTimeout <= .zero { return "databaseStatementTimeout must be positive" }
        return nil
    }
}

extension Duration {
    /// Whole milliseconds, rounded down, for APIs that take milliseconds.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point number, for APIs that take `TimeInterval`.
    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
