public import HTTPServer
internal import HTTP1

/// The answers on the transaction path (submit, call, batch), written by hand: byte for byte what
/// `jsonResponse` writes (JSONEncoder with snake_case keys, sorted keys, slashes unescaped, nil
/// members left out), without Foundation's encoder, which cost more than the rest of the answer.
/// `TransactionJSONTests` compares the two on random values.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var first = true

    init() { bytes.reserveCapacity(512) }

    mutating func raw(_ byte: UInt8) { bytes.append(byte) }

    mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        first = true
    }

    mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    /// Starts a member; `name` is already in its final (snake_case) form and needs no escaping.
    mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func member(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func member<N: BinaryInteger>(_ name: StaticString, _ value: N?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5c, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5c, 0x5c])
            case 0x08: bytes.append(contentsOf: [0x5c, UInt8(ascii: "b")])
            case 0x0c: bytes.append(contentsOf: [0x5c, UInt8(ascii: "f")])
            case 0x0a: bytes.append(contentsOf: [0x5c, UInt8(ascii: "n")])
            case 0x0d: bytes.append(contentsOf: [0x5c, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5c, UInt8(ascii: "t")])
            case 0x00..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5c, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func value(_ view: TransactionStatusView) {
        open()
        member("contract", view.contract)
        member("error", view.error)
        if let events = view.events {
            key("events")
            bytes.append(UInt8(ascii: "["))
            for (index, event) in events.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                value(event)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        member("gas_used", view.gasUsed)
        member("height", view.height)
        member("index_in_block", view.indexInBlock)
        member("method", view.method)
        member("result", view.result)
        member("result_base64", view.resultBase64)
        member("signer", view.signer)
        member("status", view.status)
        member("tx_id", view.txId)
        close()
    }

    mutating func value(_ event: EventView) {
        open()
        member("contract", event.contract)
        member("data", event.data)
        member("data_base64", event.dataBase64)
        member("event_index", event.eventIndex)
        member("height", event.height)
        member("id", event.id)
        member("kind", event.kind)
        member("seq", event.seq)
        member("topic", event.topic)
        member("tx_index", event.txIndex)
        close()
    }

    mutating func value(_ item: PlatformRoutes.BatchItem) {
        open()
        if let problem = item.problem {
            key("problem")
            open()
            member("detail", problem.detail)
            member("type", problem.type)
            close()
        }
        member("status", item.status)
        if let transaction = item.transaction {
            key("transaction")
            value(transaction)
        }
        close()
    }

    func response(status: Int) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: .bytes(bytes))
    }
}

extension PlatformRoutes {
    /// A transaction's status as its route answers it: 202 while accepted, else 200.
    static func transactionResponse(_ view: TransactionStatusView) -> HTTPResponse {
        var writer = JSONWriter()
        writer.value(view)
        return writer.response(status: view.status == "accepted" ? 202 : 200)
    }

    /// A batch's answer: `{"results":[…]}` with 207.
    static func batchResponse(_ items: [BatchItem]) -> HTTPResponse {
        var writer = JSONWriter()
        writer.open()
        writer.key("results")
        writer.raw(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { writer.raw(UInt8(ascii: ",")) }
            writer.value(item)
        }
        writer.raw(UInt8(ascii: "]"))
        writer.close()
        return writer.response(status: 207)
    }
}
