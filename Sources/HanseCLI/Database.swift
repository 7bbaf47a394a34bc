internal import ArgumentParser
internal import Foundation
internal import HanseCore
internal import Logging
internal import PostgresStorage
internal import Storage

/// Database flags shared by the commands that touch PostgreSQL.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"),
            help: "PostgreSQL URL or libpq connection string (env HANSE_DATABASE_URL). Without one, an embedded PostgreSQL runs under the data directory.")
    var databaseURL: String?

    @Option(help: "Directory for Hanse's local files, including the embedded PostgreSQL (env HANSE_DATA_DIR; default ./.hanse).")
    var dataDir: String?

    @Option(help: "Most PostgreSQL connections this node opens (env HANSE_DATABASE_CONNECTIONS; default 16).")
    var databaseConnections: Int?

    /// Opens the database: the configured server, or the embedded cluster, started if needed.
    func open(logger: Logger, environment: [String: String]) throws -> DatabaseHandle {
        let resolver = SettingResolver(environment: environment)
        var limits = Limits()
        limits.databaseConnectionsMax = try resolver.integer(databaseConnections, "HANSE_DATABASE_CONNECTIONS",
                                                             default: limits.databaseConnectionsMax, range: 1...1000)
        if let url = resolver.string(databaseURL, "HANSE_DATABASE_URL") {
            logger.info("using configured PostgreSQL")
            return DatabaseHandle(pool: PostgresPool(configuration: .init(conninfo: url, limits: limits), logger: logger),
                                  embedded: nil, logger: logger, environment: environment)
        }
        let directory = URL(fileURLWithPath: resolver.string(dataDir, "HANSE_DATA_DIR", default: ".hanse")!)
        let embedded = try EmbeddedPostgres(root: directory.appendingPathComponent("postgres"), logger: logger, limits: limits,
                                            environment: environment)
        let conninfo = try embedded.start()
        logger.info("embedded PostgreSQL ready", metadata: ["socket": "\(embedded.socketDirectory.path)"])
        return DatabaseHandle(pool: PostgresPool(configuration: .init(conninfo: conninfo, limits: limits), logger: logger),
                              embedded: embedded, logger: logger, environment: environment)
    }
}

extension DatabaseOptions {
    /// What every database command does first: bootstrap logging, open the database (starting
    /// the embedded cluster if needed), run `body`, then close it again.
    func withDatabase<T>(logging: LoggingOptions, label: String, _ body: (DatabaseHandle) throws -> T) throws -> T {
        let environment = ProcessInfo.processInfo.environment
        let logger = try logging.bootstrap(label: label, environment: environment)
        let handle = try open(logger: logger, environment: environment)
        defer { handle.close() }
        return try body(handle)
    }
}

/// An open database: the pool and, when Hanse runs its own cluster, the cluster.
final class DatabaseHandle {
    let pool: PostgresPool
    let embedded: EmbeddedPostgres?
    let logger: Logger
    let environment: [String: String]

    init(pool: PostgresPool, embedded: EmbeddedPostgres?, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.pool = pool
        self.embedded = embedded
        self.logger = logger
        self.environment = environment
    }

    /// Applies the platform migrations and logs what it did.
    func migratePlatform(environment: [String: String]) throws -> PostgresMigrator.Report {
        let root = try MigrationCatalog.locateRoot(environment: environment)
        let migrations = try MigrationCatalog.load(directory: root.appendingPathComponent("platform"))
        let report = try PostgresMigrator(pool: pool, logger: logger).migrate(schema: "platform", migrations: migrations)
        logger.info("platform schema up to date", metadata: [
            "applied": "\(report.applied.count)", "already_applied": "\(report.alreadyApplied)",
        ])
        return report
    }

    /// Closes the pool and stops the embedded cluster, if any.
    func close() {
        pool.close()
        do {
            try embedded?.stop()
        } catch {
            logger.error("embedded PostgreSQL did not stop cleanly", metadata: ["error": "\(error)"])
        }
    }
}
