internal import CLibPQ
internal import Foundation

extension PostgresConnection {
    /// Size of the buffer handed to libpq per `PQputCopyData` call. Default: 256 KiB.
    static let copyChunkBytes = 256 * 1024

    /// Bulk-loads `rows` into `table` (optionally `schema.table`) with `COPY … FROM STDIN` in text
    /// format. Each row has one value per column; returns the number of rows the server stored.
    /// Identifiers are quoted, values escaped; nothing is interpolated into SQL unquoted.
    @discardableResult
    public func copy<Rows: Sequence>(into table: String, columns: [String], rows: Rows) throws -> Int where Rows.Element == [PostgresValue] {
        let name = "copy.\(table)"
        let target = table.split(separator: ".", omittingEmptySubsequences: false).map { quoteIdentifier(String($0)) }.joined(separator: ".")
        let columnList = columns.map(quoteIdentifier).joined(separator: ", ")
        _ = try execute("COPY \(target) (\(columnList)) FROM STDIN", name: name)

        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.copyChunkBytes + 4096)
        var failure: PostgresError?
        for row in rows {
            guard row.count == columns.count else {
                failure = PostgresError(.query, "COPY row has \(row.count) values, want \(columns.count)", statement: name)
                break
            }
            Self.appendCopyRow(row, to: &buffer)
            if buffer.count >= Self.copyChunkBytes {
                if let error = send(buffer, statement: name) { failure = error; break }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if failure == nil, !buffer.isEmpty { failure = send(buffer, statement: name) }
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

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends one row in COPY text format: tab-separated, `\N` for NULL, backslash escapes.
    public static func appendCopyRow(_ row: [PostgresValue], to buffer: inout [UInt8]) {
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            switch value {
            case .null:
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
            case .bytea(let bytes):
                // bytea hex input `\x…`, with the backslash itself escaped for COPY.
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
                for byte in bytes {
                    buffer.append(hexDigits[Int(byte >> 4)])
                    buffer.append(hexDigits[Int(byte & 0x0F)])
                }
            case .text(let string):
                var string = string
                string.withUTF8 { appendEscaped($0, to: &buffer) }
            case .int(let number):
                buffer.append(contentsOf: String(number).utf8)
            case .bool(let flag):
                buffer.append(flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
            case .double(let number):
                buffer.append(contentsOf: number.description.utf8)
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    /// Appends text with COPY's backslash escapes; text without special bytes is copied whole.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        let special = { (byte: UInt8) in byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t") }
        guard bytes.contains(where: special) else {
            buffer.append(contentsOf: bytes)
            return
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            default: buffer.append(byte)
            }
        }
    }
}

/// Quotes an SQL identifier: wraps it in double quotes and doubles any inside.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
