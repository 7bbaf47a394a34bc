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

    // MARK: Ledger

    /// Longest chain id, contract name or method name in a transaction, in bytes. Default: 64.
    public var txNameBytesMax: Int = 64
    /// Largest transaction argument document (JSON bytes). Default: 64 KiB.
    public var txArgsBytesMax: Int = 64 * 1024
    /// Shortest and longest client nonce: long enough to be unguessable. Default: 16 and 64 bytes.
    public var txNonceBytesMin: Int = 16
    public var txNonceBytesMax: Int = 64
    /// Largest argument document of a `_system` transaction, which carries contract code as
    /// base64: the code limit times 4/3 plus room for the other fields. Default: 720 KiB.
    public var systemArgsBytesMax: Int = 720 * 1024
    /// Largest gas limit a transaction may name; a chain may cap it lower. Default: 10^10.
    public var txGasLimitMax: UInt64 = 10_000_000_000
    /// Most validators of one chain (index fits the certificate encoding). Default: 100.
    public var chainValidatorsMax: Int = 100

    // MARK: Chains
    /// Transactions waiting in one chain's mempool; a full mempool answers "try later". Default:
    /// 50,000 (ten blocks of the largest size).
    public var mempoolTransactionsMax: Int = 50_000
    /// Bytes of signed transactions waiting in one chain's mempool. Default: 64 MiB.
    public var mempoolBytesMax: Int = 64 << 20
    /// Transactions one signer may have waiting, so that one busy client cannot fill the
    /// mempool for everyone. Default: 5,000.
    public var mempoolPerSignerMax: Int = 5_000
    /// Most transactions and bytes in one block, and how long a proposer waits to fill one: it
    /// proposes when a block's worth waits, or when the oldest waiting transaction has waited
    /// `blockMaxDelay`. Defaults: 5,000 transactions, 16 MiB, 20 ms (one consensus tick).
    public var blockTransactionsMax: Int = 5_000
    public var blockBytesMax: Int = 16 << 20
    public var blockMaxDelay: Duration = .milliseconds(20)
    /// Length of a consensus tick: timeouts are counted in ticks. Default: 20 ms.
    public var consensusTick: Duration = .milliseconds(20)

    // MARK: Contracts
    /// Largest Wasm module a deploy may carry. Default: 512 KiB (an Embedded Swift contract with
    /// JSON is 20 to 60 KiB).
    public var contractCodeBytesMax: Int = 512 * 1024
    /// Largest linear memory a module may declare, in 64 KiB pages; a module must declare a
    /// maximum. Default: 256 pages = 16 MiB.
    public var contractMemoryPagesMax: UInt64 = 256
    /// Largest table a module may declare, in elements. Default: 10,000.
    public var contractTableElementsMax: UInt64 = 10_000
    /// Most functions, globals, exports or data segments a module may define. Default: 10,000.
    public var contractModuleItemsMax: Int = 10_000
    /// Most fuel one call may burn on this chain, whatever the transaction asks. Default: 10^9
    /// (about a second of interpretation).
    public var contractFuelMax: UInt64 = 1_000_000_000
    /// Fuel of a read-only query (queries carry no gas limit). Default: 10^8.
    public var contractQueryFuel: UInt64 = 100_000_000
    /// Compiled modules kept in memory, by code hash. Default: 64.
    public var contractModuleCacheEntries: Int = 64
    /// Warm instances kept idle per module, reset between calls (0: a fresh store for every
    /// call). Default: 4.
    public var contractWarmInstancesPerModule: Int = 4
    /// Most bytes (memory and its reset image) all idle warm instances may hold. Default: 256 MiB.
    public var contractWarmInstanceBytesMax: Int = 256 << 20
    /// Longest state key. Default: 1 KiB (the schema's CHECK).
    public var contractKeyBytesMax: Int = 1024
    /// Largest state value one write may store. Default: 256 KiB (the schema allows 1 MiB).
    public var contractValueBytesMax: Int = 256 * 1024
    /// Most state writes of one call. Default: 1,024.
    public var contractWritesMax: Int = 1024
    /// Most bytes (keys + values) one call may write. Default: 4 MiB.
    public var contractWriteBytesMax: Int = 4 << 20
    /// Most state reads (gets and scanned entries) of one call. Default: 10,000.
    public var contractReadsMax: Int = 10_000
    /// Most entries one range scan returns. Default: 100.
    public var contractScanEntriesMax: Int = 100
    /// Most events of one call, longest topic and largest event data (the schema's CHECKs).
    /// Defaults: 256, 128 bytes, 64 KiB.
    public var contractEventsMax: Int = 256
    public var contractEventTopicBytesMax: Int = 128
    public var contractEventDataBytesMax: Int = 64 * 1024
    /// Largest return value and revert message (the schema's CHECKs). Defaults: 64 KiB, 1 KiB.
    public var contractResultBytesMax: Int = 64 * 1024
    public var contractRevertBytesMax: Int = 1024
    /// Debug log lines one call may write, and their length. Defaults: 100 lines, 1 KiB each.
    public var contractLogLinesMax: Int = 100
    public var contractLogLineBytesMax: Int = 1024

    // MARK: HTTP

    /// Longest request line (method, target, version). Longer gets 414. Default: 8 KiB, as nginx's
    /// `large_client_header_buffers` and far above any URL our API produces.
    public var httpRequestLineBytesMax: Int = 8 * 1024
    /// Largest header section (all field lines, or all trailer lines). Larger gets 431.
    /// Default: 16 KiB, enough for bearer tokens and tracing headers.
    public var httpHeaderSectionBytesMax: Int = 16 * 1024
    /// Most header fields (or trailer fields) in one request. More gets 431. Default: 100.
    public var httpHeaderFieldsMax: Int = 100
    /// Longest chunk-size line, extensions included. Longer gets 400. Default: 1 KiB.
    public var httpChunkLineBytesMax: Int = 1024
    /// Largest request body unless a route sets its own. Larger gets 413. Default: 1 MiB.
    public var httpRequestBodyBytesMax: Int = 1 << 20
    /// Largest request body any route may allow (contract uploads). Default: 8 MiB.
    public var httpRouteBodyBytesMax: Int = 8 << 20
    /// Time for a client to send a complete request head once it started one. Default: 10 s.
    public var httpHeaderTimeout: Duration = .seconds(10)
    /// Time for a client to send a body, restarted by every read that makes progress. Default: 30 s.
    public var httpBodyTimeout: Duration = .seconds(30)
    /// Time a keep-alive connection may sit idle between requests. Default: 60 s.
    public var httpIdleTimeout: Duration = .seconds(60)
    /// Time for a response to drain to a client that stopped reading. Default: 30 s.
    public var httpWriteTimeout: Duration = .seconds(30)
    /// Connections served at once; the excess gets a 503 and is closed. Default: 4,096 (the
    /// default `ulimit -n` allows 1,024, so raise it for more).
    public var httpConnectionsMax: Int = 4096
    /// Responses buffered for one connection before it stops reading pipelined requests.
    /// Default: 1 MiB.
    public var httpPendingWriteBytesMax: Int = 1 << 20
    /// Threads that run handlers which wait on the database. Twice the database connections, so
    /// that a thread is free while others wait for a connection. Default: 32.
    public var httpWorkerThreads: Int = 32
    /// Requests queued for a worker thread before new ones get 503. Default: 1,024.
    public var httpWorkerQueueMax: Int = 1024
    /// How long a graceful shutdown waits for in-flight requests. Default: 25 s (inside
    /// Kubernetes' default 30 s grace period).
    public var httpShutdownGrace: Duration = .seconds(25)

    // MARK: Tenant API

    /// Transactions in one batch submit.
    public var apiBatchTransactionsMax: Int = 1000
    /// Chains provisioned at the same time on this node (each creates a schema and signs a genesis).
    public var provisioningConcurrentMax: Int = 4
    /// Transaction ids remembered per chain after they expired in the mempool, so that their
    /// status reads `expired` rather than unknown.
    public var expiredRememberedMax: Int = 100_000

    /// The defaults described above.
    public init() {}

    /// Checks the relations between limits; returns the first broken one as a sentence.
    public func validate() -> String? {
        if databaseConnectionsMax < 1 { return "databaseConnectionsMax must be at least 1, got \(databaseConnectionsMax)" }
        if databaseConnectionsMax > 1000 { return "databaseConnectionsMax must be at most 1000, got \(databaseConnectionsMax)" }
        if databaseTransactionAttemptsMax < 1 { return "databaseTransactionAttemptsMax must be at least 1" }
        if databaseAcquireTimeout <= .zero { return "databaseAcquireTimeout must be positive" }
        if databaseStatementTimeout <= .zero { return "databaseStatementTimeout must be positive" }
        if httpRequestBodyBytesMax > httpRouteBodyBytesMax {
            return "httpRequestBodyBytesMax (\(httpRequestBodyBytesMax)) must not exceed httpRouteBodyBytesMax (\(httpRouteBodyBytesMax))"
        }
        if httpRequestLineBytesMax < 64 || httpHeaderSectionBytesMax < 256 { return "HTTP line and header limits are too small to serve any client" }
        if httpConnectionsMax < 1 { return "httpConnectionsMax must be at least 1" }
        if consensusTick <= .zero { return "consensusTick must be positive" }
        if blockMaxDelay < .zero { return "blockMaxDelay must not be negative" }
        if blockTransactionsMax < 1 || blockTransactionsMax > mempoolTransactionsMax {
            return "blockTransactionsMax (\(blockTransactionsMax)) must be 1 to mempoolTransactionsMax (\(mempoolTransactionsMax))"
        }
        if blockBytesMax > mempoolBytesMax { return "blockBytesMax (\(blockBytesMax)) must not exceed mempoolBytesMax (\(mempoolBytesMax))" }
        // A deploy carries the code in base64 inside the _system args.
        if systemArgsBytesMax < contractCodeBytesMax / 3 * 4 + 4 + 1024 {
            return "systemArgsBytesMax (\(systemArgsBytesMax)) must hold contractCodeBytesMax (\(contractCodeBytesMax)) in base64 plus 1 KiB"
        }
        if contractQueryFuel > contractFuelMax { return "contractQueryFuel must not exceed contractFuelMax" }
        if !(0...64).contains(contractWarmInstancesPerModule) {
            return "contractWarmInstancesPerModule must be 0 to 64, got \(contractWarmInstancesPerModule)"
        }
        if contractWarmInstanceBytesMax < 0 { return "contractWarmInstanceBytesMax must not be negative" }
        if contractFuelMax > txGasLimitMax { return "contractFuelMax must not exceed txGasLimitMax" }
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
