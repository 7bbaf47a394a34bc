/// A statement parameter. Values are sent in text format except `bytea`, which is sent as raw
/// bytes; the server infers every type from the statement except `bytea`'s.
public enum PostgresValue: Sendable, Equatable {
    case null
    case text(String)
    case int(Int64)
    case bool(Bool)
    case double(Double)
    case bytea([UInt8])

    /// OID sent to the server: 17 (bytea) for bytes, 0 (let the server infer) otherwise.
    var typeOID: UInt32 {
        if case .bytea = self { return 17 }
        return 0
    }

    /// 1 for binary format (bytea), 0 for text.
    var format: Int32 {
        if case .bytea = self { return 1 }
        return 0
    }

    /// The wire bytes of the value, NUL-terminated for text format; nil for SQL NULL.
    var wireBytes: [UInt8]? {
        switch self {
        case .null: return nil
        case .text(let string): return Array(string.utf8) + [0]
        case .int(let value): return Array(String(value).utf8) + [0]
        case .bool(let value): return Array((value ? "t" : "f").utf8) + [0]
        case .double(let value): return Array(value.description.utf8) + [0]
        case .bytea(let bytes): return bytes
        }
    }
}

extension PostgresValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }

    /// An integer parameter.
    public static func int(_ value: Int) -> PostgresValue { .int(Int64(value)) }
}

/// A named SQL statement, prepared once per connection and then executed by name.
///
/// The name appears in errors and logs; SQL must take user data only through `$n` parameters.
public struct PostgresStatement: Sendable, Hashable {
    /// A short dotted name such as `settings.get`, unique per SQL text.
    public let name: String
    /// The SQL with `$1`, `$2`, … placeholders.
    public let sql: String

    /// A statement from its name and SQL.
    public init(_ name: String, _ sql: String) {
        self.name = name
        self.sql = sql
    }
}
