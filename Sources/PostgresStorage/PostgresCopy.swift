internal import CLibPQ
internal import Foundation

/// A column of a `COPY`: its name and its PostgreSQL type, which fixes the binary form its values
/// are sent in.
public struct PostgresColumn: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case int2 = "smallint", int4 = "integer", int8 = "bigint", text, bytea, bool = "boolean", float8 = "double precision" }

    public let name: String
    public let kind: Kind

    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

extension PostgresConnection {
    /// Size of the buffer handed to libpq per `PQputCopyData` call. Default: 256 KiB.
    static let copyChunkBytes = 256 * 1024

    /// Bulk-loads `rows` into `table` (optionally `schema.table`) with `COPY … FROM STDIN` in
    /// binary format: values go as they are (bytea and text unescaped, integers as big-endian
    /// words), so neither side spends time on hex digits and escapes. Each row has one value per
    /// column, of the column's kind (or NULL); a row that does not fit aborts the COPY and
    /// stores nothing. Returns the number of rows the server stored. Identifiers are quoted;
    /// nothing is interpolated into SQL unquoted.
    @discardableResult
    public func copy<Rows: Sequence>(into table: String, columns: [PostgresColumn], rows: Rows) throws -> Int where Rows.Element == [PostgresValue] {
        let name = "copy.\(table)"
        let target = table.split(separator: ".", omittingEmptySubsequences: false).map { quoteIdentifier(String($0)) }.joined(separator: ".")
        let columnList = columns.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        _ = try execute("COPY \(target) (\(columnList)) FROM STDIN (FORMAT binary)", name: name)

        var buffer: [UInt8] = Self.binaryCopyHeader
        buffer.reserveCapacity(Self.copyChunkBytes + 4096)
        var failure: PostgresError?
        for row in rows {
            if let problem = Self.appendBinaryRow(row, columns: columns, to: &buffer) {
                failure = PostgresError(.query, problem, statement: name)
                break
            }
            if buffer.count >= Self.copyChunkBytes {
                if let error = send(buffer, statement: name) { failure = error; break }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if failure == nil {
            buffer.append(contentsOf: Self.binaryCopyTrailer)
            failure = send(buffer, statement: name)
        }
        // Ending with an error message makes the server abort the COPY and roll it back.
        let ended = failure.map { PQputCopyEnd(rawHandle, $0.message) } ?? PQputCopyEnd(rawHandle, nil)
        guard ended == 1 else { throw connectionError("COPY end failed", statement: name) }
        let result = try check(PQgetResult(rawHandle), statement: name)
        // Drain: libpq returns NULL after the last result of the command.
        while let extra = PQgetResult(rawHandle) { PQclear(extra) }
        if let failure { throw failure }
        return result.affectedRows
    }

    private func send(_ buffer: [UInt8], statement: String) -> PostgresError? {
        let status = buffer.withUnsafeBytes { raw in
            PQputCopyData(rawHandle, raw.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(raw.count))
        }
        return status == 1 ? nil : connectionError("COPY data failed", statement: statement)
    }

    /// The signature, flags (none) and header extension length (none) of binary COPY data.
    public static let binaryCopyHeader: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]

    /// The end of binary COPY data: a field count of -1.
    public static let binaryCopyTrailer: [UInt8] = [0xFF, 0xFF]

    /// Appends one tuple in COPY's binary format: a 16-bit field count, then per field a 32-bit
    /// length (-1 for NULL) and the value in its type's binary form. Returns why the row does not
    /// fit the columns, appending nothing then.
    public static func appendBinaryRow(_ row: [PostgresValue], columns: [PostgresColumn], to buffer: inout [UInt8]) -> String? {
        guard row.count == columns.count else { return "COPY row has \(row.count) values, want \(columns.count)" }
        let start = buffer.count
        appendBigEndian(UInt16(columns.count), to: &buffer)
        for (value, column) in zip(row, columns) {
            switch (value, column.kind) {
            case (.null, _):
                appendBigEndian(UInt32.max, to: &buffer)
            case (.int(let number), .int8), (.int(let number), .int4), (.int(let number), .int2):
                let fits = switch column.kind {
                case .int4: appendInteger(number, as: Int32.self, to: &buffer)
                case .int2: appendInteger(number, as: Int16.self, to: &buffer)
                default: appendInteger(number, as: Int64.self, to: &buffer)
                }
                guard fits else {
                    buffer.removeSubrange(start...)
                    return "COPY value \(number) does not fit column \(column.name) (\(column.kind.rawValue))"
                }
            case (.text(var string), .text):
                string.withUTF8 { bytes in
                    appendBigEndian(UInt32(bytes.count), to: &buffer)
                    buffer.append(contentsOf: bytes)
                }
            case (.bytea(let bytes), .bytea):
                appendBigEndian(UInt32(bytes.count), to: &buffer)
                buffer.append(contentsOf: bytes)
            case (.bool(let flag), .bool):
                appendBigEndian(UInt32(1), to: &buffer)
                buffer.append(flag ? 1 : 0)
            case (.double(let number), .float8):
                appendBigEndian(UInt32(8), to: &buffer)
                appendBigEndian(number.bitPattern, to: &buffer)
            default:
                buffer.removeSubrange(start...)
                return "COPY value for column \(column.name) (\(column.kind.rawValue)) is of another type: \(value.kindName)"
            }
        }
        return nil
    }

    /// Appends `number` as a field of `Word`'s width; false (appending nothing) if it does not fit.
    private static func appendInteger<Word: FixedWidthInteger & SignedInteger>(_ number: Int64, as _: Word.Type, to buffer: inout [UInt8]) -> Bool {
        guard let narrow = Word(exactly: number) else { return false }
        appendBigEndian(UInt32(MemoryLayout<Word>.size), to: &buffer)
        appendBigEndian(narrow, to: &buffer)
        return true
    }

    private static func appendBigEndian<Word: FixedWidthInteger>(_ word: Word, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: word.bigEndian) { buffer.append(contentsOf: $0) }
    }
}

extension PostgresValue {
    /// What kind of value this is, for messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .text: "text"
        case .int: "integer"
        case .bool: "boolean"
        case .double: "double"
        case .bytea: "bytea"
        }
    }
}

/// Quotes an SQL identifier: wraps it in double quotes and doubles any inside.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
