public import Foundation
public import Logging
public import HanseCore
internal import Glibc

/// A private PostgreSQL cluster under a data directory, for `hanse serve` without a database URL
/// and for the tests.
///
/// Layout under `root` (for example `./.hanse/postgres`): `data/` (PGDATA), `run/` (the Unix
/// socket; the server listens on no TCP port), `postgres.log`. Run as root, every PostgreSQL program
/// runs as the `postgres` user, which owns `root`, because PostgreSQL refuses to run as root.
public final class EmbeddedPostgres: @unchecked Sendable {
    // Mutable state (`startedHere`) is touched only by the thread that starts and stops the cluster.

    /// The directory holding the cluster.
    public let root: URL
    /// Name of the superuser role and of the database Hanse uses.
    public let user = "hanse"
    /// The database created for Hanse.
    public let database = "hanse"
    private let logger: Logger
    private let limits: Limits
    private let binaries: URL
    private let runAsPostgres: Bool
    private var startedHere = false

    /// Finds the PostgreSQL server programs; throws a clear error naming the Debian package if
    /// they are missing.
    public init(root: URL, logger: Logger, limits: Limits = Limits(),
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.root = root.standardizedFileURL
        self.logger = logger
        self.limits = limits
        self.binaries = try Self.locateBinaries(environment: environment)
        self.runAsPostgres = geteuid() == 0
    }

    /// PGDATA.
    public var dataDirectory: URL { root.appendingPathComponent("data") }
    /// The server log.
    public var logFile: URL { root.appendingPathComponent("postgres.log") }

    /// Directory of the Unix socket. Kept under `root` unless that path is too long for a socket
    /// address (107 bytes), in which case a directory under /tmp named after `root` is used.
    public var socketDirectory: URL {
        let local = root.appendingPathComponent("run")
        if local.path.utf8.count + "/.s.PGSQL.5432".utf8.count <= 100 { return local }
        let digest = root.path.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
        return URL(fileURLWithPath: "/tmp/hanse-pg-\(String(digest, radix: 16))")
    }

    /// A libpq connection string for `database` (default: Hanse's database).
    public func conninfo(database: String? = nil) -> String {
        "host='\(socketDirectory.path)' port=5432 user=\(user) dbname=\(database ?? self.database)"
    }

    /// The postmaster's process id, if a postmaster for this data directory is running.
    public var runningPID: Int32? {
        guard let text = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8),
              let pid = Int32(text.split(separator: "\n").first ?? "") , pid > 0 else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        // The pid may have been reused by an unrelated process after a crash.
        guard let commandLine = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return nil }
        let arguments = commandLine.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.first.map({ $0.hasSuffix("postgres") || $0.hasSuffix("postmaster") }) == true,
              arguments.contains(dataDirectory.path) else { return nil }
        return pid
    }

    /// Creates the cluster if needed, starts it (or adopts one already running for this data
    /// directory, as after a `kill -9` of Hanse), waits until it accepts connections, creates
    /// Hanse's database, and returns its connection string.
    @discardableResult
    public func start() throws -> String {
        try prepareDirectories()
        if !FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            try initialise()
        }
        if let pid = runningPID {
            logger.info("embedded PostgreSQL already running; adopting it", metadata: ["pid": "\(pid)"])
        } else {
            try removeStaleFiles()
            try startServer()
        }
        startedHere = true
        try waitUntilAccepting()
        try ensureDatabase(database)
        return conninfo()
    }

    /// Stops the cluster with a fast shutdown (open sessions are disconnected, nothing is lost).
    public func stop() throws {
        guard runningPID != nil else { return }
        logger.info("stopping embedded PostgreSQL")
        let outcome = try pg("pg_ctl", ["stop", "-D", dataDirectory.path, "-m", "fast", "-w", "-t", timeoutSeconds])
        guard outcome.status == 0 else {
            throw PostgresError(.embedded, "pg_ctl stop failed: \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        startedHere = false
    }

    /// Creates `name` if it does not exist.
    public func ensureDatabase(_ name: String) throws {
        guard PostgresMigrator.isValidSchemaName(name) else { throw PostgresError(.embedded, "bad database name \(name)") }
        let connection = try PostgresConnection(conninfo: conninfo(database: "postgres"), applicationName: "hanse-embedded")
        let exists = try connection.query(sql: "SELECT 1 FROM pg_database WHERE datname = $1", name: "embedded.db_exists", [.text(name)])
        if exists.count == 0 {
            try connection.execute("CREATE DATABASE \(quoteIdentifier(name)) ENCODING 'UTF8' TEMPLATE template0", name: "embedded.create_db")
        }
    }

    /// Drops `name` if it exists, disconnecting its sessions.
    public func dropDatabase(_ name: String) throws {
        guard PostgresMigrator.isValidSchemaName(name) else { throw PostgresError(.embedded, "bad database name \(name)") }
        let connection = try PostgresConnection(conninfo: conninfo(database: "postgres"), applicationName: "hanse-embedded")
        try connection.execute("DROP DATABASE IF EXISTS \(quoteIdentifier(name)) WITH (FORCE)", name: "embedded.drop_db")
    }

    /// How to run a program of the cluster as a shell command line, for watchdog scripts.
    public func shellCommand(_ program: String, _ arguments: [String]) -> String {
        let command = ([binaries.appendingPathComponent(program).path] + arguments).map(shellQuote).joined(separator: " ")
        return runAsPostgres ? "runuser -u postgres -- \(command)" : command
    }

    // MARK: - Private

    private var timeoutSeconds: String { String(limits.embeddedPostgresStartTimeout.components.seconds) }

    private static func locateBinaries(environment: [String: String]) throws -> URL {
        let programs = ["initdb", "pg_ctl", "postgres"]
        let hasPrograms = { (directory: URL) in
            programs.allSatisfy { FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent($0).path) }
        }
        if let configured = environment["HANSE_PG_BINDIR"], !configured.isEmpty {
            let directory = URL(fileURLWithPath: configured)
            guard hasPrograms(directory) else {
                throw PostgresError(.embedded, "HANSE_PG_BINDIR=\(configured) does not hold initdb, pg_ctl and postgres; install the Debian package 'postgresql' or correct the path")
            }
            return directory
        }
        var candidates: [URL] = []
        let debianRoot = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: debianRoot)) ?? []
        for version in versions.compactMap(Int.init).sorted(by: >) {
            candidates.append(URL(fileURLWithPath: "\(debianRoot)/\(version)/bin"))
        }
        for directory in (environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            candidates.append(URL(fileURLWithPath: String(directory)))
        }
        guard let found = candidates.first(where: hasPrograms) else {
            throw PostgresError(.embedded, """
                PostgreSQL server programs (initdb, pg_ctl, postgres) not found. Install the Debian package \
                'postgresql' (apt-get install postgresql), set HANSE_PG_BINDIR to their directory, or set \
                HANSE_DATABASE_URL to use an existing PostgreSQL server.
                """)
        }
        return found
    }

    private func prepareDirectories() throws {
        let manager = FileManager.default
        // Parents stay traversable (0755) so that the postgres user can reach its own 0700 root.
        try manager.createDirectory(at: root.deletingLastPathComponent(), withIntermediateDirectories: true,
                                    attributes: [.posixPermissions: 0o755])
        try manager.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try manager.createDirectory(at: socketDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard runAsPostgres else { return }
        guard let account = getpwnam("postgres") else {
            throw PostgresError(.embedded, "running as root, but there is no 'postgres' user to run PostgreSQL as; install the Debian package 'postgresql' or run hanse as another user")
        }
        let (uid, gid) = (account.pointee.pw_uid, account.pointee.pw_gid)
        for directory in [root, socketDirectory] where chown(directory.path, uid, gid) != 0 {
            throw PostgresError(.embedded, "cannot give \(directory.path) to the postgres user: \(String(cString: strerror(errno)))")
        }
        // Everything inside root that root created (an old log file, say) goes to postgres too.
        let enumerator = manager.enumerator(atPath: root.path)
        while let relative = enumerator?.nextObject() as? String {
            _ = chown(root.appendingPathComponent(relative).path, uid, gid)
        }
        let reach = try ProcessRunner.run("/usr/sbin/runuser", ["-u", "postgres", "--", "test", "-w", root.path], timeout: .seconds(10))
        guard reach.status == 0 else {
            throw PostgresError(.embedded, "the postgres user cannot reach \(root.path) (a parent directory is private); choose a data directory it can reach, such as /var/lib/hanse, or set HANSE_DATABASE_URL")
        }
    }

    private func initialise() throws {
        logger.info("creating embedded PostgreSQL cluster", metadata: ["path": "\(dataDirectory.path)"])
        let outcome = try pg("initdb", ["-D", dataDirectory.path, "-U", user, "-E", "UTF8", "--locale=C",
                                        "--auth=trust", "--no-instructions"])
        guard outcome.status == 0 else {
            throw PostgresError(.embedded, "initdb failed: \(outcome.output.suffix(2000))")
        }
    }

    /// After a crash the pid file may name a dead or unrelated process; PostgreSQL would refuse to
    /// start on a pid that was reused, so remove what a running postmaster would own.
    private func removeStaleFiles() throws {
        let manager = FileManager.default
        let pidFile = dataDirectory.appendingPathComponent("postmaster.pid")
        if manager.fileExists(atPath: pidFile.path) {
            logger.warning("removing stale postmaster.pid left by a crash", metadata: ["path": "\(pidFile.path)"])
            try manager.removeItem(at: pidFile)
        }
        for name in [".s.PGSQL.5432", ".s.PGSQL.5432.lock"] {
            let path = socketDirectory.appendingPathComponent(name).path
            if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
        }
    }

    private func startServer() throws {
        logger.info("starting embedded PostgreSQL", metadata: ["socket": "\(socketDirectory.path)"])
        let options = "-c listen_addresses='' -k \(shellQuote(socketDirectory.path)) -c unix_socket_permissions=0700 -p 5432"
        var lastOutput = ""
        // Right after a kill -9 the old server's children may hold its shared memory for a moment.
        for attempt in 1...3 {
            let outcome = try pg("pg_ctl", ["start", "-D", dataDirectory.path, "-l", logFile.path, "-w",
                                            "-t", timeoutSeconds, "-s", "-o", options])
            if outcome.status == 0 { return }
            lastOutput = outcome.output
            logger.warning("embedded PostgreSQL did not start; retrying", metadata: ["attempt": "\(attempt)", "output": "\(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))", "status": "\(outcome.status)"])
            sleep(UInt32(attempt))
            try? removeStaleFiles()
        }
        let log = (try? String(contentsOf: logFile, encoding: .utf8)).map { String($0.suffix(1500)) } ?? ""
        throw PostgresError(.embedded, "pg_ctl start failed: \(lastOutput.trimmingCharacters(in: .whitespacesAndNewlines)); log tail: \(log)")
    }

    private func waitUntilAccepting() throws {
        let deadline = Date().addingTimeInterval(limits.embeddedPostgresStartTimeout.secondsDouble)
        var lastError: (any Error)?
        while Date() < deadline {
            do {
                _ = try PostgresConnection(conninfo: conninfo(database: "postgres"), connectTimeout: .seconds(5),
                                           applicationName: "hanse-embedded")
                return
            } catch {
                lastError = error
                usleep(100_000)
            }
        }
        throw PostgresError(.embedded, "embedded PostgreSQL did not accept connections within \(limits.embeddedPostgresStartTimeout): \(lastError.map { "\($0)" } ?? "")")
    }

    private func pg(_ program: String, _ arguments: [String]) throws -> ProcessRunner.Outcome {
        let path = binaries.appendingPathComponent(program).path
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        environment.removeValue(forKey: "PGDATA")
        if runAsPostgres {
            return try ProcessRunner.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments,
                                         environment: environment, timeout: limits.embeddedPostgresStartTimeout + .seconds(10))
        }
        return try ProcessRunner.run(path, arguments, environment: environment, timeout: limits.embeddedPostgresStartTimeout + .seconds(10))
    }
}

/// Quotes a word for a POSIX shell.
func shellQuote(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
