// Supply-chain-finance receivables: a creditor issues a receivable against a debtor; the holder can
// split it into smaller receivables, transfer it, or have it financed (discounted) by a financier,
// who becomes the holder; the debtor settles it.
//
// Every receivable has a face value (its amount when it was issued or split off), an amount (what
// is still held in it) and a holder. Splitting moves amount from a receivable to new children, so
// the amounts of a whole tree always add up to the root's face value: nothing is ever created.
//
// State: receivable/<id> -> {"id","root","parent","creditor","debtor","holder","face_value","amount",
//                            "children","financed","financier","rate_bp","settled","height","time"}

private let partsMax = 50
private let rateMax: UInt64 = 10_000  // basis points: 100%

private func key(_ id: String) -> String { "receivable/\(id)" }

/// One receivable, as stored.
private struct Receivable {
    var id: String
    var root: String
    var parent: String?
    var creditor: String
    var debtor: String
    var holder: String
    var faceValue: UInt64
    var amount: UInt64
    var children: [String]
    var financed: Bool
    var financier: String?
    var rateBP: UInt64?
    var settled: Bool
    var height: Int64
    var time: Int64

    static func load(_ id: String) -> Receivable {
        guard let json = State.getJSON(key: key(id)) else { Hanse.revert("receivable \(id) does not exist") }
        return Receivable(
            id: json.requireString("id"),
            root: json.requireString("root"),
            parent: json.optionalString("parent"),
            creditor: json.requireString("creditor"),
            debtor: json.requireString("debtor"),
            holder: json.requireString("holder"),
            faceValue: json.requireUInt64("face_value"),
            amount: json.requireUInt64("amount"),
            children: json.requireArray("children").map { $0.stringValue ?? "" },
            financed: json.requireBool("financed"),
            financier: json.optionalString("financier"),
            rateBP: json.optionalUInt64("rate_bp"),
            settled: json.requireBool("settled"),
            height: json["height"]?.int64Value ?? 0,
            time: json["time"]?.int64Value ?? 0)
    }

    var json: JSON {
        [
            "id": .string(id),
            "root": .string(root),
            "parent": .optional(parent),
            "creditor": .string(creditor),
            "debtor": .string(debtor),
            "holder": .string(holder),
            "face_value": .uint(faceValue),
            "amount": .uint(amount),
            "children": .array(children.map { .string($0) }),
            "financed": .bool(financed),
            "financier": .optional(financier),
            "rate_bp": .optional(rateBP),
            "settled": .bool(settled),
            "height": .number(height),
            "time": .number(time),
        ]
    }

    func save() { State.set(key: key(id), json: json) }

    /// Reverts unless the caller holds this receivable and it can still be dealt with.
    func requireHolder(_ caller: String, to action: String) {
        Hanse.require(Hanse.same(holder, caller), "only the holder \(holder) may \(action) receivable \(id)")
        Hanse.require(!settled, "receivable \(id) is settled")
    }
}

private func newID(_ args: JSON, _ field: String) -> String {
    let id = args.requireID(field)
    Hanse.require(!State.has(key: key(id)), "receivable \(id) already exists")
    return id
}

/// issue {"id", "debtor", "face_value"}: the caller is the creditor and first holder.
@_expose(wasm, "issue") @_cdecl("issue")
func issue() {
    let args = Hanse.argsObject()
    args.only(["id", "debtor", "face_value"])
    let id = newID(args, "id")
    let debtor = args.requireAddress("debtor")
    let faceValue = args.requireUInt64("face_value")
    let creditor = Hanse.caller()
    Hanse.require(faceValue > 0, "face_value must be above 0")
    Hanse.require(!Hanse.same(debtor, creditor), "the debtor must not be the creditor")
    let receivable = Receivable(id: id, root: id, parent: nil, creditor: creditor, debtor: debtor, holder: creditor,
                                faceValue: faceValue, amount: faceValue, children: [], financed: false, financier: nil,
                                rateBP: nil, settled: false, height: Hanse.blockHeight(), time: Hanse.blockTime())
    receivable.save()
    Hanse.emit(topic: "issued", data: ["id": .string(id), "creditor": .string(creditor), "debtor": .string(debtor), "face_value": .uint(faceValue)])
    Hanse.returnValue(receivable.json)
}

/// split {"id", "parts": [{"id", "amount"}, ...]}: by the holder. Each part becomes a new
/// receivable held by the caller with that amount (and the parent's financing, if any); the parts
/// together may take at most the parent's amount, which is reduced by their sum.
@_expose(wasm, "split") @_cdecl("split")
func split() {
    let args = Hanse.argsObject()
    args.only(["id", "parts"])
    let caller = Hanse.caller()
    var parent = Receivable.load(args.requireID("id"))
    parent.requireHolder(caller, to: "split")
    let parts = args.requireArray("parts")
    Hanse.require(!parts.isEmpty && parts.count <= partsMax, "parts must list 1 to \(partsMax) parts")
    var children: [Receivable] = []
    var total: UInt64 = 0
    for part in parts {
        Hanse.require(part.isObject, "each part must be an object {\"id\", \"amount\"}")
        part.only(["id", "amount"])
        let id = newID(part, "id")
        Hanse.require(!children.contains { Hanse.same($0.id, id) }, "part id \(id) appears twice")
        let amount = part.requireUInt64("amount")
        Hanse.require(amount > 0, "the amount of part \(id) must be above 0")
        total = Hanse.add(total, amount, "the parts add up to more than 2^64-1")
        children.append(Receivable(id: id, root: parent.root, parent: parent.id, creditor: parent.creditor, debtor: parent.debtor,
                                   holder: caller, faceValue: amount, amount: amount, children: [], financed: parent.financed,
                                   financier: parent.financier, rateBP: parent.rateBP, settled: false, height: Hanse.blockHeight(), time: Hanse.blockTime()))
    }
    Hanse.require(total <= parent.amount, "the parts add up to \(total), more than the \(parent.amount) left in receivable \(parent.id)")
    parent.amount -= total
    parent.children += children.map { $0.id }
    parent.save()
    for child in children { child.save() }
    Hanse.emit(topic: "split", data: [
        "id": .string(parent.id), "holder": .string(caller), "amount_left": .uint(parent.amount),
        "parts": .array(children.map { ["id": .string($0.id), "amount": .uint($0.amount)] }),
    ])
    Hanse.returnValue(["parent": parent.json, "parts": .array(children.map { $0.json })])
}

/// transfer {"id", "to"}: by the holder; "to" becomes the holder.
@_expose(wasm, "transfer") @_cdecl("transfer")
func transfer() {
    let args = Hanse.argsObject()
    args.only(["id", "to"])
    let caller = Hanse.caller()
    var receivable = Receivable.load(args.requireID("id"))
    receivable.requireHolder(caller, to: "transfer")
    let to = args.requireAddress("to")
    Hanse.require(!Hanse.same(to, caller), "cannot transfer receivable \(receivable.id) to its holder")
    Hanse.require(receivable.amount > 0, "receivable \(receivable.id) has nothing left to transfer (all of it was split off)")
    receivable.holder = to
    receivable.save()
    Hanse.emit(topic: "transferred", data: ["id": .string(receivable.id), "from": .string(caller), "to": .string(to), "amount": .uint(receivable.amount)])
    Hanse.returnValue(receivable.json)
}

/// finance {"id", "financier", "rate_bp"}: by the holder; the financier buys the receivable at a
/// discount of rate_bp basis points (0 to 10000) and becomes its holder. A receivable is financed once.
@_expose(wasm, "finance") @_cdecl("finance")
func finance() {
    let args = Hanse.argsObject()
    args.only(["id", "financier", "rate_bp"])
    let caller = Hanse.caller()
    var receivable = Receivable.load(args.requireID("id"))
    receivable.requireHolder(caller, to: "finance")
    let financier = args.requireAddress("financier")
    let rate = args.requireUInt64("rate_bp")
    Hanse.require(rate <= rateMax, "rate_bp must be 0 to \(rateMax)")
    Hanse.require(!receivable.financed, "receivable \(receivable.id) is already financed by \(receivable.financier ?? "?")")
    Hanse.require(!Hanse.same(financier, caller), "the financier must not be the holder")
    Hanse.require(receivable.amount > 0, "receivable \(receivable.id) has nothing left to finance (all of it was split off)")
    // amount * rate / 10000 without overflow: amount = q * 10000 + r.
    let discount = (receivable.amount / rateMax) * rate + (receivable.amount % rateMax) * rate / rateMax
    let advance = receivable.amount - discount
    receivable.financed = true
    receivable.financier = financier
    receivable.rateBP = rate
    receivable.holder = financier
    receivable.save()
    Hanse.emit(topic: "financed", data: [
        "id": .string(receivable.id), "from": .string(caller), "financier": .string(financier),
        "amount": .uint(receivable.amount), "rate_bp": .uint(rate), "advance": .uint(advance),
    ])
    var result = receivable.json
    result.set("advance", .uint(advance))
    Hanse.returnValue(result)
}

/// settle {"id"}: by the debtor, who pays the holder the amount; the receivable is closed.
@_expose(wasm, "settle") @_cdecl("settle")
func settle() {
    let args = Hanse.argsObject()
    args.only(["id"])
    let caller = Hanse.caller()
    var receivable = Receivable.load(args.requireID("id"))
    Hanse.require(Hanse.same(receivable.debtor, caller), "only the debtor \(receivable.debtor) may settle receivable \(receivable.id)")
    Hanse.require(!receivable.settled, "receivable \(receivable.id) is already settled")
    Hanse.require(receivable.amount > 0, "receivable \(receivable.id) has nothing left to settle (settle its parts)")
    receivable.settled = true
    receivable.save()
    Hanse.emit(topic: "settled", data: [
        "id": .string(receivable.id), "debtor": .string(caller), "holder": .string(receivable.holder), "amount": .uint(receivable.amount),
    ])
    Hanse.returnValue(receivable.json)
}

/// get {"id"}: the receivable.
@_expose(wasm, "get") @_cdecl("get")
func get() {
    let args = Hanse.argsObject()
    args.only(["id"])
    Hanse.returnValue(Receivable.load(args.requireID("id")).json)
}
