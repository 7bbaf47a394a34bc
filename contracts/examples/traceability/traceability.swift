// Product traceability: an item is registered once by its creator; then any party (a carrier, a
// warehouse, a retailer, an inspector) appends lifecycle events, each recorded with its signer;
// history returns the events in order.
//
// State: item/<item>                      -> {"item","product","creator","height","time","events","last_stage"}
//        event/<item>/<seq, 10 digits>    -> {"item","seq","stage","location","note","by","height","time","tx"}
// The zero-padded sequence number makes key order equal event order for state_scan.

private let productMax = 256
private let stageMax = 64
private let locationMax = 256
private let noteMax = 1024

private func itemKey(_ item: String) -> String { "item/\(item)" }
private func eventPrefix(_ item: String) -> String { "event/\(item)/" }
private func eventKey(_ item: String, _ seq: UInt64) -> String { eventPrefix(item) + Hanse.padded(seq, width: 10) }

private func text(_ args: JSON, _ field: String, max: Int, required: Bool) -> String {
    let value = required ? args.requireString(field) : (args.optionalString(field) ?? "")
    if required { Hanse.require(!value.isEmpty, "field \"\(field)\" must not be empty") }
    Hanse.require(value.utf8.count <= max, "field \"\(field)\" is longer than \(max) bytes")
    return value
}

private func loadItem(_ item: String) -> JSON {
    guard let record = State.getJSON(key: itemKey(item)) else { Hanse.revert("item \(item) is not registered") }
    return record
}

/// register {"item", "product"}: the caller becomes the item's creator.
@_expose(wasm, "register") @_cdecl("register")
func register() {
    let args = Hanse.argsObject()
    args.only(["item", "product"])
    let item = args.requireID("item")
    let product = text(args, "product", max: productMax, required: true)
    Hanse.require(!State.has(key: itemKey(item)), "item \(item) is already registered")
    let creator = Hanse.caller()
    let record: JSON = [
        "item": .string(item),
        "product": .string(product),
        "creator": .string(creator),
        "height": .number(Hanse.blockHeight()),
        "time": .number(Hanse.blockTime()),
        "events": 0,
        "last_stage": nil,
    ]
    State.set(key: itemKey(item), json: record)
    Hanse.emit(topic: "item_registered", data: ["item": .string(item), "product": .string(product), "creator": .string(creator)])
    Hanse.returnValue(record)
}

/// add_event {"item", "stage", "location", "note"?}: by any party; the caller is recorded as "by".
@_expose(wasm, "add_event") @_cdecl("add_event")
func addEvent() {
    let args = Hanse.argsObject()
    args.only(["item", "stage", "location", "note"])
    let item = args.requireID("item")
    let stage = text(args, "stage", max: stageMax, required: true)
    let location = text(args, "location", max: locationMax, required: true)
    let note = text(args, "note", max: noteMax, required: false)
    var record = loadItem(item)
    let seq = (record["events"]?.uint64Value ?? 0) + 1
    let by = Hanse.caller()
    let event: JSON = [
        "item": .string(item),
        "seq": .uint(seq),
        "stage": .string(stage),
        "location": .string(location),
        "note": .string(note),
        "by": .string(by),
        "height": .number(Hanse.blockHeight()),
        "time": .number(Hanse.blockTime()),
        "tx": .string(Hanse.txHex()),
    ]
    State.set(key: eventKey(item, seq), json: event)
    record.set("events", .uint(seq))
    record.set("last_stage", .string(stage))
    State.set(key: itemKey(item), json: record)
    Hanse.emit(topic: "item_event", data: ["item": .string(item), "seq": .uint(seq), "stage": .string(stage), "by": .string(by)])
    Hanse.returnValue(event)
}

/// history {"item", "after"?, "limit"?}: {"item": {...}, "events": [...], "next": seq or null}.
/// Without "limit" every event is returned; with it (1 to 100) one page of events whose seq is
/// above "after" (default 0), and "next" is the "after" of the following page when there is one.
@_expose(wasm, "history") @_cdecl("history")
func history() {
    let args = Hanse.argsObject()
    args.only(["item", "after", "limit"])
    let item = args.requireID("item")
    let after = args.optionalUInt64("after") ?? 0
    let limit = args.optionalUInt64("limit")
    if let limit { Hanse.require(limit >= 1 && limit <= 100, "field \"limit\" must be 1 to 100") }
    let record = loadItem(item)
    let total = record["events"]?.uint64Value ?? 0
    var events: [JSON] = []
    var cursor: String? = after > 0 ? eventKey(item, after) : nil
    var last = after
    while true {
        let want = limit.map { Int($0) - events.count } ?? 100
        if want <= 0 { break }
        let page = State.scan(prefix: eventPrefix(item), after: cursor, limit: min(want, 100))
        for entry in page {
            let event = entry.json
            last = event["seq"]?.uint64Value ?? last
            events.append(event)
        }
        if page.count < min(want, 100) { break }
        cursor = page[page.count - 1].key
    }
    let next: JSON = limit != nil && last < total ? .uint(last) : .null
    Hanse.returnValue(["item": record, "events": .array(events), "next": next])
}
