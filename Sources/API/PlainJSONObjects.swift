/// A fast path for the request bodies of the hot routes (transaction submission, single and
/// batch): JSON objects whose values are plain strings (ASCII, no escapes), or arrays of such
/// objects. A body of exactly that shape, with only known fields, each once, is read here in one
/// pass; anything else (other types, escapes, unknown or repeated fields, bad JSON) returns nil
/// and goes through the general decoder, which also phrases the errors. Either way the result is
/// the same value.
struct PlainJSONReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Skips JSON whitespace.
    private mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    /// Consumes `byte` (after whitespace) if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// A string of printable ASCII without escapes; nil for anything else.
    mutating func plainString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
            }
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            index += 1
        }
        return nil
    }

    /// Whether only whitespace is left.
    mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    /// An object whose fields are all in `known`, each once, each a plain string; the values by
    /// field name.
    mutating func plainObject(known: Set<String>) -> [String: String]? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var fields: [String: String] = [:]
        if take(UInt8(ascii: "}")) { return fields }
        repeat {
            guard let name = plainString(), known.contains(name), fields[name] == nil, take(UInt8(ascii: ":")),
                  let value = plainString() else { return nil }
            fields[name] = value
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? fields : nil
    }
}

extension SubmitTransactionRequest {
    /// The request if `body` is a plain object of its two fields, else nil.
    public static func plain(_ body: [UInt8]) -> SubmitTransactionRequest? {
        var reader = PlainJSONReader(body)
        guard let request = plain(&reader), reader.atEnd() else { return nil }
        return request
    }

    static func plain(_ reader: inout PlainJSONReader) -> SubmitTransactionRequest? {
        guard let fields = reader.plainObject(known: fields), let signedBytes = fields["signed_bytes"],
              let signature = fields["signature"] else { return nil }
        return SubmitTransactionRequest(signedBytes: signedBytes, signature: signature)
    }
}

extension BatchSubmitRequest {
    /// The request if `body` is `{"transactions": [plain submissions]}`, else nil.
    public static func plain(_ body: [UInt8]) -> BatchSubmitRequest? {
        var reader = PlainJSONReader(body)
        guard reader.take(UInt8(ascii: "{")), reader.plainString() == "transactions", reader.take(UInt8(ascii: ":")),
              reader.take(UInt8(ascii: "[")) else { return nil }
        var transactions: [SubmitTransactionRequest] = []
        if !reader.take(UInt8(ascii: "]")) {
            repeat {
                guard let transaction = SubmitTransactionRequest.plain(&reader) else { return nil }
                transactions.append(transaction)
            } while reader.take(UInt8(ascii: ","))
            guard reader.take(UInt8(ascii: "]")) else { return nil }
        }
        guard reader.take(UInt8(ascii: "}")), reader.atEnd() else { return nil }
        return BatchSubmitRequest(transactions: transactions)
    }
}
