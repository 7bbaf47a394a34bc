// Evidence notarisation: anchor the SHA-256 of a document on the chain, with who anchored it and
// when; anyone can check a hash later; the owner can revoke (the record stays, marked revoked).
//
// State: evidence/<hash> -> {"hash","owner","metadata","height","time","tx","revoked",...}

private let metadataMax = 4096
private let reasonMax = 1024

private func key(_ hash: String) -> String { "evidence/\(hash)" }

/// The "hash" argument: 64 hex digits, upper- or lower-case, returned lower-case.
private func hashArgument(_ args: JSON) -> String {
    let text = args.requireString("hash")
    var digits: [UInt8] = []
    let valid = Hanse.utf8(text) { bytes -> Bool in
        guard bytes.count == 64 else { return false }
        for c in bytes {
            switch c {
            case 48...57, 97...102: digits.append(c)
            case 65...70: digits.append(c + 32)
            default: return false
            }
        }
        return true
    }
    Hanse.require(valid, "field \"hash\" must be a SHA-256 digest: 64 hex digits")
    return String(decoding: digits, as: UTF8.self)
}

/// notarise {"hash": "<64 hex digits>", "metadata": "<text>"}: records the hash with the caller as
/// owner. Refuses a hash that is already recorded (revoked or not).
@_expose(wasm, "notarise") @_cdecl("notarise")
func notarise() {
    let args = Hanse.argsObject()
    args.only(["hash", "metadata"])
    let hash = hashArgument(args)
    let metadata = args.requireString("metadata")
    Hanse.require(metadata.utf8.count <= metadataMax, "metadata is longer than \(metadataMax) bytes")
    if let existing = State.getJSON(key: key(hash)) {
        let owner = existing["owner"]?.stringValue ?? "?"
        let height = existing["height"]?.uint64Value ?? 0
        Hanse.revert("evidence \(hash) is already notarised (owner \(owner), height \(height))")
    }
    let owner = Hanse.caller()
    let record: JSON = [
        "hash": .string(hash),
        "owner": .string(owner),
        "metadata": .string(metadata),
        "height": .number(Hanse.blockHeight()),
        "time": .number(Hanse.blockTime()),
        "tx": .string(Hanse.txHex()),
        "revoked": false,
    ]
    State.set(key: key(hash), json: record)
    Hanse.emit(topic: "notarised", data: ["hash": .string(hash), "owner": .string(owner), "height": .number(Hanse.blockHeight())])
    Hanse.returnValue(record)
}

/// verify {"hash"}: {"found": true, ...the record} or {"found": false, "hash": ...}.
@_expose(wasm, "verify") @_cdecl("verify")
func verify() {
    let args = Hanse.argsObject()
    args.only(["hash"])
    let hash = hashArgument(args)
    guard let record = State.getJSON(key: key(hash)), let members = record.members else {
        Hanse.returnValue(["found": false, "hash": .string(hash)])
        return
    }
    Hanse.returnValue(.object([("found", true)] + members))
}

/// revoke {"hash", "reason"?}: by the owner only; marks the record revoked, keeping it.
@_expose(wasm, "revoke") @_cdecl("revoke")
func revoke() {
    let args = Hanse.argsObject()
    args.only(["hash", "reason"])
    let hash = hashArgument(args)
    let reason = args.optionalString("reason") ?? ""
    Hanse.require(reason.utf8.count <= reasonMax, "reason is longer than \(reasonMax) bytes")
    guard var record = State.getJSON(key: key(hash)) else { Hanse.revert("evidence \(hash) is not notarised") }
    let owner = record.requireString("owner")
    let caller = Hanse.caller()
    Hanse.require(Hanse.same(owner, caller), "only the owner \(owner) may revoke evidence \(hash)")
    Hanse.require(record["revoked"]?.boolValue != true, "evidence \(hash) is already revoked")
    record.set("revoked", true)
    record.set("revoked_height", .number(Hanse.blockHeight()))
    record.set("revoked_time", .number(Hanse.blockTime()))
    record.set("revoked_reason", .string(reason))
    State.set(key: key(hash), json: record)
    Hanse.emit(topic: "revoked", data: ["hash": .string(hash), "owner": .string(owner), "reason": .string(reason)])
    Hanse.returnValue(record)
}
