public import HanseCore
public import Logging
internal import Dispatch
internal import Synchronization
internal import Foundation

/// Settings of a connection pool.
public struct PostgresPoolConfiguration: Sendable {
    /// libpq connection string or `postgresql://` URL.
    public var conninfo: String
    /// Most connections open at once; the pool never grows past it.
    public var connectionsMax: Int
    /// How long `withConnection` waits for a free connection before failing.
    public var acquireTimeout: Duration
    /// How long opening one connection may take.
    public var connectTimeout: Duration
    /// `statement_timeout` of every connection.
    public var statementTimeout: Duration
    /// Attempts of a transaction declared safe to retry.
    public var transactionAttemptsMax: Int
    /// `application_name` shown in `pg_stat_activity`.
    public var applicationName: String

    /// A configuration with the bounds of `limits`.
    public init(conninfo: String, limits: Limits = Limits(), applicationName: String = "hanse") {
        self.conninfo = conninfo
        self.connectionsMax = limits.databaseConnectionsMax
        self.acquireTimeout = limits.databaseAcquireTimeout
        self.connectTimeout = limits.databaseConnectTimeout
        self.statementTimeout = limits.databaseStatementTimeout
        self.transactionAttemptsMax = limits.databaseTransactionAttemptsMax
        self.applicationName = applicationName
    }
}

/// Whether a transaction may be run again after a serialization failure or deadlock.
public enum RetryPolicy: Sendable {
    /// Never retried: the closure has effects outside the database, or keeps state across calls.
    case never
    /// The closure only talks to the database and keeps no state across calls, so running it
    /// again after a 40001 or 40P01 is safe. Up to the pool's `transactionAttemptsMax` attempts.
    case safeToRetry
}

/// A bounded pool of PostgreSQL connections for blocking callers.
///
/// Callers wait in FIFO order, at most `acquireTimeout`; the pool never opens more than
/// `connectionsMax` connections; a connection found broken (by a failed statement or by the
/// liveness check at checkout) is closed and replaced by a new one on demand.
public final class PostgresPool: Sendable {
    /// Counters for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Connections open, idle or in use.
        public var open = 0
        /// Connections idle in the pool.
        public var idle = 0
        /// Callers waiting for a connection.
        public var waiting = 0
        /// Connections closed because they were broken.
        public var replaced = 0
        /// Transactions run again after a serialization failure or deadlock.
        public var transactionRetries = 0
        /// Acquisitions that failed on the timeout.
        public var acquireTimeouts = 0
    }

    /// What a waiter is handed: an idle connection, or the right to open one.
    private enum Grant {
        case connection(PostgresConnection)
        case slot
    }

    private final class Waiter: @unchecked Sendable {
        // `grant` is only touched under the pool's lock.
        let semaphore = DispatchSemaphore(value: 0)
        var grant: Grant?
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var waiters: [Waiter] = []
        var closed = false
        var statistics = Statistics()
    }

    /// The configuration the pool was made with.
    public let configuration: PostgresPoolConfiguration
    private let logger: Logger
    private let state = Mutex(State())

    /// A pool that opens connections lazily.
    public init(configuration: PostgresPoolConfiguration, logger: Logger = Logger(label: "hanse.postgres")) {
        precondition(configuration.connectionsMax >= 1)
        self.configuration = configuration
        self.logger = logger
    }

    deinit { close() }

    /// Current counters.
    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.idle = state.idle.count
            statistics.waiting = state.waiters.count
            return statistics
        }
    }

    /// Runs `body` with a connection, returning it to the pool afterwards.
    @discardableResult
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        defer { release(connection) }
        return try body(connection)
    }

    /// Runs `body` in a transaction. With `.safeToRetry`, a serialization failure or deadlock
    /// rolls back, waits a short randomised backoff, and runs `body` again.
    public func transaction<T>(_ isolation: IsolationLevel = .readCommitted, retry: RetryPolicy = .never,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        var attempt = 1
        while true {
            do {
                return try withConnection { connection in try connection.transaction(isolation, body) }
            } catch let error as PostgresError where error.isRetryableConflict {
                guard case .safeToRetry = retry, attempt < configuration.transactionAttemptsMax else { throw error }
                state.withLock { $0.statistics.transactionRetries += 1 }
                logger.debug("retrying transaction", metadata: ["attempt": "\(attempt)", "sqlstate": "\(error.sqlState ?? "")"])
                // Exponential backoff with full jitter: 1, 2, 4 … ms, capped at 100 ms.
                let ceiling = min(100, 1 << attempt)
                usleep(UInt32(Int.random(in: 0...ceiling) * 1000))
                attempt += 1
            }
        }
    }

    /// Takes a connection, waiting up to the acquire timeout. Pair with `release`.
    public func acquire() throws -> PostgresConnection {
        let deadline = DispatchTime.now() + .milliseconds(Int(configuration.acquireTimeout.wholeMilliseconds))
        while true {
            switch try nextGrant(deadline: deadline) {
            case .connection(let connection):
                if connection.checkAlive() { return connection }
                discard(connection, reason: "found closed at checkout")
            case .slot:
                return try openReserved()
            }
        }
    }

    /// Returns a connection. A broken one, or one left inside a transaction that cannot be
    /// rolled back, is closed instead of reused.
    public func release(_ connection: PostgresConnection) {
        if !connection.isBroken && !connection.isIdle {
            _ = try? connection.execute("ROLLBACK", name: "pool.release_rollback")
        }
        if connection.isBroken || !connection.isIdle {
            discard(connection, reason: "broken or stuck in a transaction")
            return
        }
        let waiter: Waiter? = state.withLock { state in
            if state.closed {
                state.statistics.open -= 1
                return nil
            }
            guard !state.waiters.isEmpty else {
                state.idle.append(connection)
                return nil
            }
            let waiter = state.waiters.removeFirst()
            waiter.grant = .connection(connection)
            return waiter
        }
        waiter?.semaphore.signal()
    }

    /// Closes idle connections and fails current and future waiters. Connections in use are
    /// closed when they come back.
    public func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll(); state.waiters.removeAll() }
            state.statistics.open -= state.idle.count
            return (state.idle, state.waiters)
        }
        _ = idle  // released here, outside the lock; deinit closes each connection
        for waiter in waiters { waiter.semaphore.signal() }
    }

    // MARK: - Private

    private func nextGrant(deadline: DispatchTime) throws -> Grant {
        let immediate: Result<Grant, PostgresError>? = state.withLock { state in
            if state.closed { return .failure(PostgresError(.poolClosed, "the connection pool is closed")) }
            if let connection = state.idle.popLast() { return .success(.connection(connection)) }
            if state.statistics.open < configuration.connectionsMax {
                state.statistics.open += 1
                return .success(.slot)
            }
            return nil
        }
        if let immediate { return try immediate.get() }

        let waiter = Waiter()
        state.withLock { $0.waiters.append(waiter) }
        let timedOut = waiter.semaphore.wait(timeout: deadline) == .timedOut
        let outcome: Result<Grant, PostgresError> = state.withLock { state in
            if let grant = waiter.grant { return .success(grant) }
            state.waiters.removeAll { $0 === waiter }
            if state.closed { return .failure(PostgresError(.poolClosed, "the connection pool is closed")) }
            state.statistics.acquireTimeouts += 1
            let message = "no database connection free within \(configuration.acquireTimeout) (\(configuration.connectionsMax) in use)"
            return .failure(PostgresError(.poolTimeout, timedOut ? message : "woken without a connection"))
        }
        return try outcome.get()
    }

    /// Opens a connection in a slot already counted in `open`; gives the slot back on failure.
    private func openReserved() throws -> PostgresConnection {
        do {
            return try PostgresConnection(conninfo: configuration.conninfo, connectTimeout: configuration.connectTimeout,
                                          statementTimeout: configuration.statementTimeout,
                                          applicationName: configuration.applicationName)
        } catch {
            freeSlot()
            throw error
        }
    }

    private func discard(_ connection: PostgresConnection, reason: String) {
        logger.warning("closing database connection", metadata: ["reason": "\(reason)", "pid": "\(connection.backendPID)"])
        state.withLock { $0.statistics.replaced += 1 }
        freeSlot()
    }

    /// Gives a slot back; a waiter, if any, gets the right to open a connection in it.
    private func freeSlot() {
        let waiter: Waiter? = state.withLock { state in
            guard !state.closed, !state.waiters.isEmpty else {
                state.statistics.open -= 1
                return nil
            }
            let waiter = state.waiters.removeFirst()
            waiter.grant = .slot
            return waiter
        }
        waiter?.semaphore.signal()
    }
}
