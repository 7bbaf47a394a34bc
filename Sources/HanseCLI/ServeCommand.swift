internal import ArgumentParser
internal import Dispatch
internal import Foundation
internal import Logging
internal import PostgresStorage

/// `hanse serve`: migrate, then serve until SIGINT or SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a Hanse node: migrate the database, then serve until SIGINT or SIGTERM.")

    @Option(help: "Address to listen on (env HANSE_ADDRESS; default 127.0.0.1).")
    var address: String?

    @Option(help: "TCP port to listen on (env HANSE_PORT; default 8080).")
    var port: Int?

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = try logging.bootstrap(label: "hanse", environment: environment)
        let resolver = SettingResolver(environment: environment)
        let address = resolver.string(address, "HANSE_ADDRESS", default: "127.0.0.1")!
        let port = try resolver.integer(port, "HANSE_PORT", default: 8080, range: 1...65535)

        // Signals are handled by a dispatch source from the start, so that a stop during start-up
        // still shuts the embedded cluster down.
        let stop = SignalWaiter(signals: [SIGINT, SIGTERM])
        let handle = try database.open(logger: logger, environment: environment)
        defer { handle.close() }
        _ = try handle.migratePlatform(environment: environment)
        try announceOperatorToken(handle: handle, environment: environment, logger: logger)

        logger.info("ready", metadata: ["address": "\(address)", "port": "\(port)", "pid": "\(getpid())"])
        let signal = stop.wait()
        logger.info("stopping", metadata: ["signal": "\(signal)"])
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
