public import Foundation
public import PostgresStorage
internal import Logging
internal import Glibc
internal import XCTest
internal import Synchronization

/// The one embedded PostgreSQL cluster of a test run, started on first use with the same launcher
/// `hanse serve` uses.
///
/// Each suite takes a fresh database with `makeDatabase`. The cluster is stopped and its directory
/// removed when the test bundle finishes; a watchdog process does the same if the test process
/// dies first, so nothing is left running.
public final class TestCluster: Sendable {
    /// The shared cluster; the first access creates and starts it.
    public static var shared: TestCluster {
        get throws { try sharedResult.get() }
    }

    private static let sharedResult: Result<TestCluster, any Error> = Result { try TestCluster() }

    /// The launcher, for tests of the launcher itself.
    public let embedded: EmbeddedPostgres
    private let directory: URL
    private let counter = Mutex(0)

    private init() throws {
        // /tmp is reachable by the postgres user when the tests run as root.
        directory = URL(fileURLWithPath: "/tmp/hanse-test-\(getpid())-\(UUID().uuidString.prefix(8))")
        var logger = Logger(label: "hanse.test-cluster")
        logger.logLevel = .warning
        embedded = try EmbeddedPostgres(root: directory.appendingPathComponent("postgres"), logger: logger)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try embedded.start()
        startWatchdog()
        let observer = BundleObserver { [embedded, directory] in
            try? embedded.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        DispatchQueue.main.async { XCTestObservationCenter.shared.addTestObserver(observer) }
        Self.observers.withLock { $0.append(observer) }
    }

    private static let observers = Mutex<[BundleObserver]>([])

    /// Creates an empty database named after `label` and returns its connection string.
    public func makeDatabase(_ label: String) throws -> (name: String, conninfo: String) {
        let number = counter.withLock { value in value += 1; return value }
        let cleaned = label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30)
        let name = "t_\(cleaned)_\(number)"
        try embedded.ensureDatabase(name)
        return (name, embedded.conninfo(database: name))
    }

    /// Drops a database made by `makeDatabase`.
    public func dropDatabase(_ name: String) {
        try? embedded.dropDatabase(name)
    }

    /// A fresh directory under the run's directory, reachable by the postgres user.
    public func makeDirectory(_ label: String) throws -> URL {
        let url = directory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return url
    }

    /// Stops the cluster when this process is gone, however it ended.
    private func startWatchdog() {
        let stop = embedded.shellCommand("pg_ctl", ["stop", "-D", embedded.dataDirectory.path, "-m", "immediate", "-w"])
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done
            \(stop) >/dev/null 2>&1
            pkill -INT -f 'bin/postgres -D [/]\(directory.path.dropFirst())/'
            sleep 1
            rm -rf '\(directory.path)'
            """
        _ = try? ProcessRunner.run("/usr/bin/setsid", ["-f", "/bin/sh", "-c", script], timeout: .seconds(10))
    }
}

/// Calls `onFinish` when the XCTest bundle has run every test.
private final class BundleObserver: NSObject, XCTestObservation, Sendable {
    private let onFinish: @Sendable () -> Void

    init(onFinish: @escaping @Sendable () -> Void) { self.onFinish = onFinish }

    func testBundleDidFinish(_ testBundle: Bundle) { onFinish() }
}
