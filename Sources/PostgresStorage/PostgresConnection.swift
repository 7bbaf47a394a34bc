internal import CLibPQ
public import HanseCore
internal import Glibc
internal import Foundation

/// One libpq connection. Owns its `PGconn` and closes it in `deinit`.
///
/// A connection is used by one thread at a time: the pool hands it to exactly one holder, which
/// is why it can be `Sendable` without a lock of its own.
public final class PostgresConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private var prepared: Set<String> = []
    private var statementTimeout: Duration?
    /// Set when a statement failed because the connection itself broke.
    public private(set) var isBroken = false

    /// Opens a connection. `conninfo` is a libpq connection string or a `postgresql://` URL.
    public init(conninfo: String, connectTimeout: Duration = Limits().databaseConnectTimeout,
                statementTimeout: Duration? = Limits().databaseStatementTimeout,
                applicationName: String = "hanse") throws {
        let timeoutSeconds = String(max(2, Int(connectTimeout.secondsDouble.rounded(.up))))
        let keywords = ["dbname", "connect_timeout", "application_name", "client_encoding"]
        let values = [conninfo, timeoutSeconds, applicationName, "UTF8"]
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else { throw PostgresError(.connection, "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(.connection, "cannot connect to PostgreSQL: \(message)")
        }
        handle = connection
        // Notices (such as "schema already exists, skipping") would otherwise go to stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        try setStatementTimeout(statementTimeout)
        // Our statements are short and planned for index probes; a block's lookups over thousands
        // of keys are estimated costly enough for PostgreSQL to compile them with LLVM first,
        // which takes longer than running them.
        try execute("SET jit = off", name: "connection.jit")
    }

    deinit { PQfinish(handle) }

    /// The server process id serving this connection (for `pg_terminate_backend` in tests and logs).
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// True if no transaction is open on the connection.
    public var isIdle: Bool { PQtransactionStatus(handle) == PQTRANS_IDLE }

    /// Sets the server-side `statement_timeout`; nil disables it.
    public func setStatementTimeout(_ timeout: Duration?) throws {
        let milliseconds = timeout.map { max(1, $0.wholeMilliseconds) } ?? 0
        try execute("SET statement_timeout = \(milliseconds)", name: "connection.statement_timeout")
        statementTimeout = timeout
    }

    /// The `statement_timeout` the connection was last given.
    public var configuredStatementTimeout: Duration? { statementTimeout }

    /// Executes a prepared statement with parameters and returns its rows. The statement is
    /// prepared on first use on this connection.
    @discardableResult
    public func query(_ statement: PostgresStatement, _ parameters: [PostgresValue] = []) throws -> PostgresResult {
        if !prepared.contains(statement.name) {
            try prepare(statement, parameters: parameters)
        }
        return try withParameters(parameters) { values, lengths, formats in
            let result = PQexecPrepared(handle, statement.name, Int32(parameters.count), values, lengths, formats, 0)
            return try check(result, statement: statement.name)
        }
    }

    /// Executes one SQL statement with parameters without preparing it (for statements run once).
    @discardableResult
    public func query(sql: String, name: String, _ parameters: [PostgresValue] = []) throws -> PostgresResult {
        let types = parameters.map(\.typeOID)
        return try withParameters(parameters) { values, lengths, formats in
            let result = types.withUnsafeBufferPointer { typePointer in
                PQexecParams(handle, sql, Int32(parameters.count), typePointer.baseAddress, values, lengths, formats, 0)
            }
            return try check(result, statement: name)
        }
    }

    /// Executes SQL text that may hold several statements and no parameters (migrations, `SET`).
    /// Never pass text that contains user data.
    @discardableResult
    public func execute(_ sql: String, name: String) throws -> PostgresResult {
        try check(PQexec(handle, sql), statement: name)
    }

    /// Runs `body` inside `BEGIN … COMMIT`, rolling back if it throws.
    public func transaction<T>(_ isolation: IsolationLevel = .readCommitted, _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute("BEGIN ISOLATION LEVEL \(isolation.rawValue)", name: "transaction.begin")
        do {
            let value = try body(self)
            try execute("COMMIT", name: "transaction.commit")
            return value
        } catch {
            if !isIdle && !isBroken { _ = try? execute("ROLLBACK", name: "transaction.rollback") }
            throw error
        }
    }

    /// Checks, without blocking, whether the connection is still usable after sitting idle.
    ///
    /// An idle connection (we use no LISTEN) has nothing to read unless the server ended the
    /// session: `pg_terminate_backend`, a restart, an idle timeout all send a FATAL message and
    /// close. So a readable socket marks the connection broken; in the rare benign case (an
    /// asynchronous notice) the pool merely opens a fresh connection.
    public func checkAlive() -> Bool {
        if isBroken || PQstatus(handle) != CONNECTION_OK {
            isBroken = true
            return false
        }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, 0) != 0 { isBroken = true }
        return !isBroken
    }

    // MARK: - Internals used by COPY

    var rawHandle: OpaquePointer { handle }

    func markBrokenIfDisconnected() {
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
    }

    func connectionError(_ message: String, statement: String) -> PostgresError {
        markBrokenIfDisconnected()
        return PostgresError(isBroken ? .connection : .query, "\(message): \(Self.trimmed(PQerrorMessage(handle)))", statement: statement)
    }

    // MARK: - Private

    private func prepare(_ statement: PostgresStatement, parameters: [PostgresValue]) throws {
        let types = parameters.map(\.typeOID)
        let result = types.withUnsafeBufferPointer { typePointer in
            PQprepare(handle, statement.name, statement.sql, Int32(parameters.count), typePointer.baseAddress)
        }
        _ = try check(result, statement: statement.name)
        prepared.insert(statement.name)
    }

    /// Turns a libpq result into a `PostgresResult` or a `PostgresError`.
    func check(_ result: OpaquePointer?, statement: String) throws -> PostgresResult {
        guard let result else { throw connectionError("no result", statement: statement) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN:
            return PostgresResult(handle: result, statement: statement)
        default:
            let error = Self.error(from: result, statement: statement)
            PQclear(result)
            markBrokenIfDisconnected()
            if isBroken {
                throw PostgresError(.connection, error.message, sqlState: error.sqlState, detail: error.detail, statement: statement)
            }
            throw error
        }
    }

    static func error(from result: OpaquePointer, statement: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let message = field("M") ?? trimmed(PQresultErrorMessage(result))
        return PostgresError(.query, message, sqlState: field("C"), detail: field("D"), statement: statement)
    }

    static func trimmed(_ text: UnsafeMutablePointer<CChar>?) -> String {
        guard let text else { return "unknown error" }
        let message = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
        return message.isEmpty ? "unknown error" : message
    }

    /// Lays parameters out in one buffer and passes libpq the pointer, length and format arrays.
    private func withParameters<T>(_ parameters: [PostgresValue],
                                   _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) throws -> T) rethrows -> T {
        var storage: [UInt8] = []
        var offsets: [Int?] = []
        var lengths: [Int32] = []
        for parameter in parameters {
            if let bytes = parameter.wireBytes {
                offsets.append(storage.count)
                storage.append(contentsOf: bytes)
                lengths.append(Int32(bytes.count))
            } else {
                offsets.append(nil)
                lengths.append(0)
            }
        }
        let formats = parameters.map(\.format)
        if storage.isEmpty { storage.append(0) }
        return try storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let pointers: [UnsafePointer<CChar>?] = offsets.map { $0.map { base + $0 } }
            return try pointers.withUnsafeBufferPointer { values in
                try lengths.withUnsafeBufferPointer { lengthPointer in
                    try formats.withUnsafeBufferPointer { formatPointer in
                        try body(values.baseAddress, lengthPointer.baseAddress, formatPointer.baseAddress)
                    }
                }
            }
        }
    }
}

/// Transaction isolation levels.
public enum IsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

/// Calls `body` with a NULL-terminated array of C strings.
private func withCStringArray<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicates.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
