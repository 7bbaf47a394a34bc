/// An error from the PostgreSQL layer: what failed, the SQLSTATE when the server sent one, and the
/// name of the statement that failed.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// Which part of the layer failed.
    public enum Kind: String, Sendable {
        /// Connecting failed, or the connection broke.
        case connection
        /// The server rejected a statement.
        case query
        /// No pooled connection became free within the acquire timeout.
        case poolTimeout
        /// The pool was closed.
        case poolClosed
        /// A column could not be decoded into the requested Swift type.
        case decoding
        /// Applying migrations failed.
        case migration
        /// The embedded PostgreSQL could not be set up, started or stopped.
        case embedded
    }

    /// Which part failed.
    public let kind: Kind
    /// The five-character SQLSTATE, when the server reported one (for example 40001).
    public let sqlState: String?
    /// The primary message.
    public let message: String
    /// The server's detail line, if any.
    public let detail: String?
    /// The name of the statement that failed, if a statement failed.
    public let statement: String?

    /// An error from its parts.
    public init(_ kind: Kind, _ message: String, sqlState: String? = nil, detail: String? = nil, statement: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.statement = statement
    }

    /// A serialization failure or a deadlock: the transaction may succeed if run again.
    public var isRetryableConflict: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// The statement was cancelled by `statement_timeout`.
    public var isStatementTimeout: Bool { sqlState == "57014" }

    /// A unique-constraint violation.
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        var text = "postgres \(kind.rawValue) error"
        if let statement { text += " in statement \(statement)" }
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }
}
