internal import ArgumentParser
internal import Dispatch
internal import Foundation
internal import Logging
internal import PostgresStorage
internal import API
internal import HTTPServer
internal import HTTP1
internal import HanseCore
internal import Storage
internal import Crypto
internal import Node

/// `hanse serve`: migrate, then serve until SIGINT or SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a Hanse node: migrate the database, then serve until SIGINT or SIGTERM.")

    @Option(help: "Address to listen on (env HANSE_ADDRESS; default 127.0.0.1).")
    var address: String?

    @Option(help: "TCP port to listen on; 0 picks a free one, logged in the ready line (env HANSE_PORT; default 8080).")
    var port: Int?

    @Option(help: "Event-loop threads serving HTTP (env HANSE_EVENT_LOOPS; default: half the cores, at least 1).")
    var eventLoops: Int?

    @Option(help: "Origins allowed to call the API from a browser, comma-separated, or * (env HANSE_CORS_ORIGINS; default none).")
    var corsOrigins: String?

    @Flag(help: "Let webhooks go to loopback, private and link-local addresses (env HANSE_WEBHOOK_ALLOW_PRIVATE=true; default: refused).")
    var webhookAllowPrivate = false

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = try logging.bootstrap(label: "hanse", environment: environment)
        let resolver = SettingResolver(environment: environment)
        let address = resolver.string(address, "HANSE_ADDRESS", default: "127.0.0.1")!
        let port = try resolver.integer(port, "HANSE_PORT", default: 8080, range: 0...65535)

        // Signals are handled by a dispatch source from the start, so that a stop during start-up
        // still shuts the embedded cluster down.
        let stop = SignalWaiter(signals: [SIGINT, SIGTERM])
        let handle = try database.open(logger: logger, environment: environment)
        defer { handle.close() }
        _ = try handle.migratePlatform(environment: environment)
        try announceOperatorToken(handle: handle, environment: environment, logger: logger)

        let limits = Limits()
        // The defaults hold together; the check guards whoever changes them.
        if let problem = limits.validate() { throw ValidationError("inconsistent limits: \(problem)") }
        let platform = try makePlatform(handle: handle, limits: limits, logger: logger, environment: environment)
        defer { platform.stop() }
        try platform.start()
        let application = try makeApplication(handle: handle, platform: platform, limits: limits, logger: logger,
                                              corsOrigins: resolver.string(corsOrigins, "HANSE_CORS_ORIGINS"))
        let server: HTTPServer
        do {
            let loops = try resolver.integer(eventLoops, "HANSE_EVENT_LOOPS", default: 0, range: 0...256)
            server = try HTTPServer(address: address, port: port, handler: application, limits: limits,
                                    loopCount: loops == 0 ? nil : loops)
        } catch {
            throw ValidationError("cannot listen on \(address):\(port): \(error)")
        }
        application.attach(server)
        logger.info("ready", metadata: ["address": "\(address)", "port": "\(server.port)", "pid": "\(getpid())"])
        let signal = stop.wait()
        logger.info("stopping", metadata: ["signal": "\(signal)", "grace": "\(limits.httpShutdownGrace)"])
        // Live event streams never end on their own: end them first (each client gets a last
        // event saying so, and resumes elsewhere with Last-Event-ID), so that the grace period
        // is spent on requests that do end.
        platform.streams.closeAll()
        server.shutdown()
        logger.info("HTTP server stopped", metadata: ["requests_served": "\(server.statistics.requestsServed)"])
    }

    /// The platform: the master key (HANSE_MASTER_KEY, or a key file in the data directory made on
    /// first start), the chain migrations, and the chains' workers.
    private func makePlatform(handle: DatabaseHandle, limits: Limits, logger: Logger, environment: [String: String]) throws -> Platform {
        let resolver = SettingResolver(environment: environment)
        let directory = URL(fileURLWithPath: resolver.string(database.dataDir, "HANSE_DATA_DIR", default: ".hanse")!)
        let keyFile = directory.appendingPathComponent("master.key")
        let (masterKey, created) = try KeyVault.loadMasterKey(configured: environment["HANSE_MASTER_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                                                              file: keyFile)
        if created {
            logger.notice("generated the platform master key; back it up: without it no validator or custodial key opens",
                          metadata: ["file": "\(keyFile.path)"])
        }
        let root = try MigrationCatalog.locateRoot(environment: environment)
        let chainMigrations = try MigrationCatalog.load(directory: root.appendingPathComponent("chain"))
        return Platform(pool: handle.pool, vault: try KeyVault(masterKey: masterKey), chainMigrations: chainMigrations, limits: limits,
                        logger: logger, streams: try streamSettings(environment), webhooks: try webhookSettings(environment))
    }

    /// Webhook delivery settings: the SSRF switch, and timings from HANSE_WEBHOOK_* (milliseconds).
    private func webhookSettings(_ environment: [String: String]) throws -> WebhookSettings {
        let resolver = SettingResolver(environment: environment)
        var settings = WebhookSettings()
        let allow = resolver.string(nil, "HANSE_WEBHOOK_ALLOW_PRIVATE", default: "false")!.lowercased()
        guard ["true", "false", "1", "0"].contains(allow) else { throw ValidationError("HANSE_WEBHOOK_ALLOW_PRIVATE=\(allow) is not true or false") }
        settings.policy = WebhookTargetPolicy(allowPrivate: webhookAllowPrivate || allow == "true" || allow == "1")
        settings.timeout = .milliseconds(try resolver.integer(nil, "HANSE_WEBHOOK_TIMEOUT_MS", default: 10_000, range: 100...120_000))
        settings.backoffBase = .milliseconds(try resolver.integer(nil, "HANSE_WEBHOOK_BACKOFF_MS", default: 1_000, range: 1...3_600_000))
        settings.backoffMax = .milliseconds(try resolver.integer(nil, "HANSE_WEBHOOK_BACKOFF_MAX_MS", default: 600_000, range: 1...86_400_000))
        settings.sweepInterval = .milliseconds(try resolver.integer(nil, "HANSE_WEBHOOK_SWEEP_MS", default: 1_000, range: 10...60_000))
        settings.concurrency = try resolver.integer(nil, "HANSE_WEBHOOK_CONCURRENCY", default: 16, range: 1...256)
        return settings
    }

    /// Live stream settings from HANSE_SSE_* (heartbeat in milliseconds).
    private func streamSettings(_ environment: [String: String]) throws -> EventStreams.Settings {
        let resolver = SettingResolver(environment: environment)
        var settings = EventStreams.Settings()
        settings.heartbeat = .milliseconds(try resolver.integer(nil, "HANSE_SSE_HEARTBEAT_MS", default: 15_000, range: 100...300_000))
        settings.perTenantMax = try resolver.integer(nil, "HANSE_SSE_STREAMS_PER_TENANT", default: 100, range: 1...10_000)
        return settings
    }

    private func makeApplication(handle: DatabaseHandle, platform: Platform, limits: Limits, logger: Logger, corsOrigins: String?) throws -> ServedApplication {
        let tokenHash = try PostgresSettingsStore(pool: handle.pool).setting(SettingKey.operatorTokenHash).flatMap(Hex.decode) ?? []
        let pool = handle.pool
        let started = ContinuousClock.now
        let served = ServedApplication()
        let routes = HealthRoutes.routes(
            checkDatabase: {
                do {
                    try pool.withConnection { _ = try $0.query(sql: "SELECT 1", name: "readyz.ping") }
                    return nil
                } catch {
                    return "\(error)"
                }
            },
            status: { [served] in
                let http = served.server?.statistics
                let database = pool.statistics
                return PlatformStatus(version: HanseVersion.current, uptimeSeconds: Int((ContinuousClock.now - started).components.seconds),
                                      openConnections: http?.openConnections ?? 0, requestsServed: http?.requestsServed ?? 0,
                                      refusedConnections: http?.refusedConnections ?? 0,
                                      databaseConnectionsOpen: database.open, databaseConnectionsIdle: database.idle)
            })
        let origins = corsOrigins.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
        let configuration = APIConfiguration(
            limits: limits, cors: origins.isEmpty ? nil : CORSConfiguration(allowedOrigins: origins),
            verifyOperatorToken: { presented in !tokenHash.isEmpty && constantTimeEquals(SHA256.hash(utf8: presented), tokenHash) },
            // Requests per second per tenant (and per address for anonymous callers); transactions
            // per second are limited separately by each tenant's quota.
            rateLimiter: TokenBucketRateLimiter(ratePerSecond: 5_000, burst: 10_000),
            authenticateAPIKey: { platform.authenticate(apiKey: $0) },
            audit: { platform.audit($0, status: $1) },
            idempotency: platform)
        served.application = APIApplication(router: try Router(routes + PlatformRoutes.routes(platform, limits: limits)
                                                                 + PlatformRoutes.eventRoutes(platform)),
                                            configuration: configuration, logger: logger)
        return served
    }

    private func announceOperatorToken(handle: DatabaseHandle, environment: [String: String], logger: Logger) throws {
        let store = PostgresSettingsStore(pool: handle.pool)
        switch try OperatorToken.ensure(store: store, configured: environment["HANSE_OPERATOR_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }) {
        case .generated(let token):
            // Printed once, on standard output, apart from the logs; only its hash is stored.
            let banner = "Operator token (shown once; only its hash is stored, keep it safe):\n\(token)\n"
            FileHandle.standardOutput.write(Data(banner.utf8))
            logger.notice("generated the operator token and printed it once on standard output")
        case .configured:
            logger.info("operator token taken from HANSE_OPERATOR_TOKEN")
        case .existing:
            logger.info("operator token already set")
        }
    }
}

/// The application and, once listening, the server (the status route reports its counters).
final class ServedApplication: HTTPHandler, @unchecked Sendable {
    // Both are set once during start-up, before the server accepts its first connection.
    var application: APIApplication!
    private(set) var server: HTTPServer?

    func attach(_ server: HTTPServer) { self.server = server }

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) { application.handle(request, responder: responder) }
    func bodyLimit(for head: HTTPRequestHead) -> Int { application.bodyLimit(for: head) }
    func errorResponse(status: Int, detail: String) -> HTTPResponse { application.errorResponse(status: status, detail: detail) }
}

/// Waits for one of a set of signals, delivered through dispatch sources.
final class SignalWaiter: @unchecked Sendable {
    // `received` is written by the dispatch queue before `semaphore` is signalled, read after it.
    private let semaphore = DispatchSemaphore(value: 0)
    private var sources: [any DispatchSourceSignal] = []
    private var received: Int32 = 0

    init(signals: [Int32]) {
        for number in signals {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in
                self.received = number
                self.semaphore.signal()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Blocks until a signal arrives; returns its number.
    func wait() -> Int32 {
        semaphore.wait()
        return received
    }
}
