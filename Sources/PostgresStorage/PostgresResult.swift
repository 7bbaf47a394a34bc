internal import CLibPQ

/// The rows of a completed statement. Owns the libpq result and frees it.
public final class PostgresResult: @unchecked Sendable {
    // Safe to share: a PGresult is immutable once complete, and this class only reads it.
    private let handle: OpaquePointer
    /// The statement name, for decoding errors.
    public let statement: String

    init(handle: OpaquePointer, statement: String) {
        self.handle = handle
        self.statement = statement
    }

    deinit { PQclear(handle) }

    /// Number of rows returned.
    public var count: Int { Int(PQntuples(handle)) }

    /// Number of rows the command affected (INSERT, UPDATE, DELETE, COPY), 0 if not reported.
    public var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    /// Column names in order.
    public var columns: [String] {
        (0..<PQnfields(handle)).map { String(cString: PQfname(handle, $0)) }
    }

    /// The rows, in order.
    public var rows: [PostgresRow] { (0..<count).map { PostgresRow(result: self, index: Int32($0)) } }

    /// The first row, or nil if there is none.
    public var first: PostgresRow? { count > 0 ? PostgresRow(result: self, index: 0) : nil }

    func columnIndex(_ name: String) -> Int32? {
        let index = PQfnumber(handle, name)
        return index >= 0 ? index : nil
    }

    func withRaw<T>(row: Int32, column: Int32, _ body: (UnsafeRawBufferPointer?) throws -> T) rethrows -> T {
        if PQgetisnull(handle, row, column) == 1 { return try body(nil) }
        let length = Int(PQgetlength(handle, row, column))
        let pointer = UnsafeRawPointer(PQgetvalue(handle, row, column)!)
        return try body(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    var columnCount: Int32 { PQnfields(handle) }
}

/// One row of a result; decode columns by position or name.
public struct PostgresRow: Sendable {
    let result: PostgresResult
    let index: Int32

    /// The value of column `column` (0-based) as `T`; throws if it is NULL for a non-optional `T`
    /// or does not parse as `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column: Int) throws -> T {
        guard column >= 0, Int32(column) < result.columnCount else {
            throw PostgresError(.decoding, "column \(column) out of range, result has \(result.columnCount)", statement: result.statement)
        }
        return try result.withRaw(row: index, column: Int32(column)) { raw in
            if let value = T.decode(postgresText: raw) { return value }
            let got = raw.map { "'\(String(decoding: $0.prefix(40), as: UTF8.self))'" } ?? "NULL"
            throw PostgresError(.decoding, "column \(result.columns[column]): got \(got), want \(T.self)", statement: result.statement)
        }
    }

    /// The value of the column named `name` as `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ name: String) throws -> T {
        guard let column = result.columnIndex(name) else {
            throw PostgresError(.decoding, "no column named \(name) (columns: \(result.columns.joined(separator: ", ")))", statement: result.statement)
        }
        return try decode(type, column: Int(column))
    }
}

/// A Swift type that can be read from PostgreSQL's text output format.
public protocol PostgresDecodable {
    /// The value for `postgresText` (nil means SQL NULL), or nil if it does not parse.
    static func decode(postgresText: UnsafeRawBufferPointer?) -> Self?
}

extension String: PostgresDecodable {
    public static func decode(postgresText: UnsafeRawBufferPointer?) -> String? {
        postgresText.map { String(decoding: $0, as: UTF8.self) }
    }
}

extension Int64: PostgresDecodable {
    public static func decode(postgresText: UnsafeRawBufferPointer?) -> Int64? {
        postgresText.flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
    }
}

extension Int: PostgresDecodable {
    public static func decode(postgresText: UnsafeRawBufferPointer?) -> Int? {
        postgresText.flatMap { Int(String(decoding: $0, as: UTF8.self)) }
    }
}

extension Int32: PostgresDecodable {
    public static func decode(postgresText: UnsafeRawBufferPointer?) -> Int32? {
        postgresText.flatMap { Int32(String(decoding: $0, as: UTF8.self)) }
    }
}

extension Double: PostgresDecodable {
    public static func decode(postgresText: UnsafeRawBufferPointer?) -> Double? {
        postgresText.flatMap { Double(String(decoding: $0, as: UTF8.self)) }
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresText: UnsafeRawBufferPointer?) -> Bool? {
        guard let text = postgresText, text.count == 1 else { return nil }
        switch text[0] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// Decodes `bytea` in PostgreSQL's hex output format (`\x0a1b…`).
    public static func decode(postgresText: UnsafeRawBufferPointer?) -> [UInt8]? {
        guard let text = postgresText, text.count >= 2,
              text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index + 1 < text.count {
            guard let high = hexValue(text[index]), let low = hexValue(text[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return index == text.count ? out : nil
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit &- UInt8(ascii: "a") &+ 10
        default: return nil
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText: UnsafeRawBufferPointer?) -> Wrapped?? {
        guard let postgresText else { return .some(nil) }
        guard let value = Wrapped.decode(postgresText: postgresText) else { return nil }
        return .some(value)
    }
}
