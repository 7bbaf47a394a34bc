// Hanse contract SDK for Embedded Swift: the host API (module "hanse", see docs/contracts.md and
// Sources/Contracts/HostAPI.swift), a small JSON reader and writer, and state helpers.
//
// A method is an exported function taking and returning nothing:
//
//     @_expose(wasm, "hello") @_cdecl("hello")
//     func hello() {
//         let args = Hanse.argsJSON()
//         let name = args.requireString("name")
//         Hanse.returnValue(["hello": .string(name)])
//     }
//
// contracts/build.sh compiles this file together with the contract in one module and links
// contracts/sdk/c/hanse_libc.c (the allocator Embedded Swift needs). Only functions marked
// `@_expose(wasm, ...)` are exported.
//
// Rules of the road in Embedded Swift contracts:
// - No floating point (Double, Float): the host refuses modules that contain any.
// - No Foundation, no `any P` of non-class protocols, no reflection, no `print`.
// - `==` on String and String-keyed dictionaries pull Unicode tables into the module (about
//   20 KiB); `Hanse.same(a, b)` compares bytes and needs none. The SDK itself uses byte comparison.
// - Integer overflow traps (the call fails with a trap); use `Hanse.add`/`Hanse.subtract` for a
//   revert with a message instead.

// MARK: - Host functions

@_extern(wasm, module: "hanse", name: "args") @_extern(c)
private func _hanse_args(_ out: UnsafeMutablePointer<UInt8>?, _ cap: Int32) -> Int32
@_extern(wasm, module: "hanse", name: "state_get") @_extern(c)
private func _hanse_state_get(_ key: UnsafePointer<UInt8>?, _ keyLength: Int32, _ out: UnsafeMutablePointer<UInt8>?, _ cap: Int32) -> Int32
@_extern(wasm, module: "hanse", name: "state_set") @_extern(c)
private func _hanse_state_set(_ key: UnsafePointer<UInt8>?, _ keyLength: Int32, _ value: UnsafePointer<UInt8>?, _ valueLength: Int32)
@_extern(wasm, module: "hanse", name: "state_delete") @_extern(c)
private func _hanse_state_delete(_ key: UnsafePointer<UInt8>?, _ keyLength: Int32)
@_extern(wasm, module: "hanse", name: "state_scan") @_extern(c)
private func _hanse_state_scan(_ prefix: UnsafePointer<UInt8>?, _ prefixLength: Int32, _ after: UnsafePointer<UInt8>?, _ afterLength: Int32,
                               _ limit: Int32, _ out: UnsafeMutablePointer<UInt8>?, _ cap: Int32) -> Int32
@_extern(wasm, module: "hanse", name: "emit") @_extern(c)
private func _hanse_emit(_ topic: UnsafePointer<UInt8>?, _ topicLength: Int32, _ data: UnsafePointer<UInt8>?, _ dataLength: Int32)
@_extern(wasm, module: "hanse", name: "caller") @_extern(c)
private func _hanse_caller(_ out: UnsafeMutablePointer<UInt8>?, _ cap: Int32) -> Int32
@_extern(wasm, module: "hanse", name: "tx_id") @_extern(c)
private func _hanse_tx_id(_ out: UnsafeMutablePointer<UInt8>?, _ cap: Int32) -> Int32
@_extern(wasm, module: "hanse", name: "block_height") @_extern(c)
private func _hanse_block_height() -> Int64
@_extern(wasm, module: "hanse", name: "block_time") @_extern(c)
private func _hanse_block_time() -> Int64
@_extern(wasm, module: "hanse", name: "sha256") @_extern(c)
private func _hanse_sha256(_ data: UnsafePointer<UInt8>?, _ length: Int32, _ out: UnsafeMutablePointer<UInt8>?)
@_extern(wasm, module: "hanse", name: "verify_signature") @_extern(c)
private func _hanse_verify_signature(_ algorithm: Int32, _ key: UnsafePointer<UInt8>?, _ keyLength: Int32, _ message: UnsafePointer<UInt8>?,
                                     _ messageLength: Int32, _ signature: UnsafePointer<UInt8>?, _ signatureLength: Int32) -> Int32
@_extern(wasm, module: "hanse", name: "return_value") @_extern(c)
private func _hanse_return_value(_ data: UnsafePointer<UInt8>?, _ length: Int32)
@_extern(wasm, module: "hanse", name: "revert") @_extern(c)
private func _hanse_revert(_ message: UnsafePointer<UInt8>?, _ length: Int32)
@_extern(wasm, module: "hanse", name: "log") @_extern(c)
private func _hanse_log(_ line: UnsafePointer<UInt8>?, _ length: Int32)

/// Calls a host function of the (out, cap) -> length kind until the bytes fit; nil when it says -1.
private func fetchBytes(initialCapacity: Int = 256, _ body: (UnsafeMutablePointer<UInt8>?, Int32) -> Int32) -> [UInt8]? {
    var capacity = initialCapacity
    while true {
        var length = 0
        let buffer = [UInt8](unsafeUninitializedCapacity: capacity) { pointer, count in
            length = Int(body(pointer.baseAddress, Int32(truncatingIfNeeded: capacity)))
            count = length >= 0 && length <= capacity ? length : 0
        }
        if length < 0 { return nil }
        if length <= capacity { return buffer }
        capacity = length
    }
}

private func withBytes<R>(_ string: String, _ body: (UnsafePointer<UInt8>?, Int32) -> R) -> R {
    var copy = string
    return copy.withUTF8 { body($0.baseAddress, Int32(truncatingIfNeeded: $0.count)) }
}

private func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>?, Int32) -> R) -> R {
    bytes.withUnsafeBufferPointer { body($0.baseAddress, Int32(truncatingIfNeeded: $0.count)) }
}

// MARK: - The call

/// The call: its arguments, signer, transaction, block, result, events and logs.
public enum Hanse {
    /// Signature algorithm codes of `verifySignature`.
    public enum Algorithm: Int32 {
        case p256 = 1
        case ed25519 = 2
        case sm2 = 3
    }

    /// The call's argument bytes (JSON).
    public static func args() -> [UInt8] {
        fetchBytes { _hanse_args($0, $1) } ?? []
    }

    /// The call's arguments parsed as JSON; reverts when they are not valid JSON.
    public static func argsJSON() -> JSON {
        let bytes = args()
        var parser = JSONParser(bytes)
        guard let value = parser.parseDocument() else { revert("args are not valid JSON: \(parser.error)") }
        return value
    }

    /// The call's arguments, which must be a JSON object (reverts otherwise).
    public static func argsObject() -> JSON {
        let value = argsJSON()
        guard value.isObject else { revert("args must be a JSON object") }
        return value
    }

    /// The signer's address: 40 lower-case hex digits.
    public static func caller() -> String {
        let bytes = fetchBytes(initialCapacity: 40) { _hanse_caller($0, $1) } ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The transaction id: 32 bytes (zeros in a read-only query).
    public static func txID() -> [UInt8] {
        fetchBytes(initialCapacity: 32) { _hanse_tx_id($0, $1) } ?? []
    }

    /// The transaction id as 64 lower-case hex digits.
    public static func txHex() -> String { hex(txID()) }

    public static func blockHeight() -> Int64 { _hanse_block_height() }

    /// The block's time in Unix milliseconds.
    public static func blockTime() -> Int64 { _hanse_block_time() }

    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            withBytes(bytes) { _hanse_sha256($0, $1, out.baseAddress) }
            count = 32
        }
    }

    public static func sha256(_ string: String) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            withBytes(string) { _hanse_sha256($0, $1, out.baseAddress) }
            count = 32
        }
    }

    /// Whether `signature` (64 bytes, r ‖ s for ECDSA) signs `message` under `key`.
    public static func verifySignature(_ algorithm: Algorithm, key: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        withBytes(key) { k, kn in
            withBytes(message) { m, mn in
                withBytes(signature) { s, sn in _hanse_verify_signature(algorithm.rawValue, k, kn, m, mn, s, sn) == 1 }
            }
        }
    }

    /// Sets the call's result; the last call wins.
    public static func returnValue(_ bytes: [UInt8]) { withBytes(bytes) { _hanse_return_value($0, $1) } }
    public static func returnValue(_ string: String) { withBytes(string) { _hanse_return_value($0, $1) } }
    public static func returnValue(_ json: JSON) { returnValue(json.encoded()) }

    /// Aborts the call: every write and event of the call is discarded and `message` becomes the
    /// transaction's failure reason (at most 1024 bytes are kept).
    public static func revert(_ message: String) -> Never {
        var bytes = Array(message.utf8)
        if bytes.count > 1024 { bytes.removeLast(bytes.count - 1024) }
        withBytes(bytes) { _hanse_revert($0, $1) }
        fatalError()  // not reached: the host ends the call in revert
    }

    /// Reverts with `message` unless `condition` holds.
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { revert(message()) }
    }

    /// Emits an event. `topic`: 1 to 128 printable ASCII characters without spaces.
    public static func emit(topic: String, data: [UInt8]) {
        withBytes(topic) { t, tn in withBytes(data) { d, dn in _hanse_emit(t, tn, d, dn) } }
    }

    public static func emit(topic: String, data: JSON) { emit(topic: topic, data: data.encoded()) }

    /// A debug line in the call's logs (not consensus output).
    public static func log(_ line: String) { withBytes(line) { _hanse_log($0, $1) } }

    // MARK: Helpers

    /// Byte-wise string equality, without the Unicode tables `==` needs.
    public static func same(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        return utf8(a) { x in utf8(b) { y in equalBytes(x, y) } }
    }

    /// Calls `body` with the UTF-8 bytes of `s` (contiguous: native strings always are).
    public static func utf8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var copy = s
        return copy.withUTF8(body)
    }

    static func equalBytes(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        guard x.count == y.count else { return false }
        var i = 0
        while i < x.count {
            if x[i] != y[i] { return false }
            i += 1
        }
        return true
    }

    /// a + b, or a revert with `message` when it overflows.
    public static func add(_ a: UInt64, _ b: UInt64, _ message: @autoclosure () -> String = "amount overflows") -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { revert(message()) }
        return sum
    }

    /// a - b, or a revert with `message` when b > a.
    public static func subtract(_ a: UInt64, _ b: UInt64, _ message: @autoclosure () -> String = "amount underflows") -> UInt64 {
        if b > a { revert(message()) }
        return a - b
    }

    /// Lower-case hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits: StaticString = "0123456789abcdef"
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        let table = digits.utf8Start
        for byte in bytes {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `s` is a signer address: 40 lower-case hex digits.
    public static func isAddress(_ s: String) -> Bool {
        utf8(s) { $0.count == 40 && $0.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) } }
    }

    /// Whether `s` is 1 to `maxLength` printable ASCII characters without spaces or '/' (the
    /// separator of state keys), so it can be part of a key.
    public static func isID(_ s: String, maxLength: Int = 128) -> Bool {
        utf8(s) { $0.count >= 1 && $0.count <= maxLength && $0.allSatisfy { $0 > 32 && $0 < 127 && $0 != 47 } }
    }

    /// `value` in decimal, left-padded with zeros to `width` digits (keys that sort numerically).
    public static func padded(_ value: UInt64, width: Int = 20) -> String {
        var digits: [UInt8] = []
        JSON.writeDecimal(value, to: &digits)
        if digits.count < width { digits.insert(contentsOf: [UInt8](repeating: 48, count: width - digits.count), at: 0) }
        return String(decoding: digits, as: UTF8.self)
    }
}

// MARK: - State

/// The contract's key-value state. Keys are 1 to 1024 bytes; values at most 256 KiB.
public enum State {
    /// The value under `key`, or nil.
    public static func get(key: String) -> [UInt8]? {
        withBytes(key) { k, kn in fetchBytes { _hanse_state_get(k, kn, $0, $1) } }
    }

    /// The value under `key` parsed as JSON, or nil when absent; reverts when it is not JSON.
    public static func getJSON(key: String) -> JSON? {
        guard let bytes = get(key: key) else { return nil }
        var parser = JSONParser(bytes)
        guard let value = parser.parseDocument() else { Hanse.revert("state \(key) is not valid JSON: \(parser.error)") }
        return value
    }

    /// The value under `key` as text, or nil.
    public static func getString(key: String) -> String? {
        get(key: key).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The decimal number under `key`, or `default` when absent.
    public static func getUInt64(key: String, default fallback: UInt64 = 0) -> UInt64 {
        guard let bytes = get(key: key) else { return fallback }
        guard let value = parseDecimal(bytes[...]) else { Hanse.revert("state \(key) is not a decimal number") }
        return value
    }

    public static func has(key: String) -> Bool {
        withBytes(key) { _hanse_state_get($0, $1, nil, 0) } >= 0
    }

    public static func set(key: String, value: [UInt8]) {
        withBytes(key) { k, kn in withBytes(value) { v, vn in _hanse_state_set(k, kn, v, vn) } }
    }

    public static func set(key: String, string: String) { set(key: key, value: Array(string.utf8)) }
    public static func set(key: String, json: JSON) { set(key: key, value: json.encoded()) }
    public static func set(key: String, uint64: UInt64) { set(key: key, string: "\(uint64)") }

    public static func delete(key: String) {
        withBytes(key) { _hanse_state_delete($0, $1) }
    }

    /// One entry of a scan.
    public struct Entry {
        public var key: String
        public var value: [UInt8]

        /// The value parsed as JSON; reverts when it is not JSON.
        public var json: JSON {
            var parser = JSONParser(value)
            guard let parsed = parser.parseDocument() else { Hanse.revert("state \(key) is not valid JSON: \(parser.error)") }
            return parsed
        }
    }

    /// Up to `limit` (1...100) entries whose keys start with `prefix` and sort after `after`
    /// (nil: from the first), in key order. For the next page pass the last key as `after`;
    /// fewer than `limit` entries means there are no more.
    public static func scan(prefix: String, after: String? = nil, limit: Int = 100) -> [Entry] {
        Hanse.require(limit >= 1 && limit <= 100, "scan limit must be 1 to 100")
        let afterBytes = after.map { Array($0.utf8) } ?? []
        let raw = withBytes(prefix) { p, pn in
            withBytes(afterBytes) { a, an in
                fetchBytes(initialCapacity: 4096) { _hanse_state_scan(p, pn, a, an, Int32(limit), $0, $1) }
            }
        } ?? []
        var entries: [Entry] = []
        var i = 0
        func u32() -> Int {
            guard i + 4 <= raw.count else { Hanse.revert("state_scan returned a malformed page") }
            let v = Int(raw[i]) | Int(raw[i + 1]) << 8 | Int(raw[i + 2]) << 16 | Int(raw[i + 3]) << 24
            i += 4
            return v
        }
        func take(_ n: Int) -> ArraySlice<UInt8> {
            guard n <= raw.count - i else { Hanse.revert("state_scan returned a malformed page") }
            defer { i += n }
            return raw[i..<(i + n)]
        }
        let count = u32()
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = String(decoding: take(u32()), as: UTF8.self)
            let value = Array(take(u32()))
            entries.append(Entry(key: key, value: value))
        }
        return entries
    }
}

/// 1 to 20 decimal digits without a sign or leading zeros (except "0"), fitting 64 bits.
func parseDecimal(_ digits: ArraySlice<UInt8>) -> UInt64? {
    guard !digits.isEmpty, digits.count <= 20, digits.count == 1 || digits.first != 48 else { return nil }
    var value: UInt64 = 0
    for c in digits {
        guard c >= 48, c <= 57 else { return nil }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(c - 48))
        if o1 || o2 { return nil }
        value = sum
    }
    return value
}

// MARK: - JSON

/// A JSON value. Numbers are integers only: `.uint` for 0 and up, `.int` for negative ones (a
/// document with a fraction or exponent is refused: contracts have no floating point). Objects keep
/// their members in order; lookups compare keys byte by byte.
public enum JSON {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    /// Parses a document; nil when it is not valid JSON (or has a non-integer number).
    public static func parse(_ bytes: [UInt8]) -> JSON? {
        var parser = JSONParser(bytes)
        return parser.parseDocument()
    }

    public static func parse(_ string: String) -> JSON? { parse(Array(string.utf8)) }

    // MARK: Reading

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var isObject: Bool { if case .object = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var members: [(String, JSON)]? { if case .object(let m) = self { return m } else { return nil } }

    /// A non-negative integer: a number, or a string of decimal digits (which clients whose numbers
    /// are doubles can send without losing precision).
    public var uint64Value: UInt64? {
        switch self {
        case .uint(let v): return v
        case .string(let s): return parseDecimal(Array(s.utf8)[...])
        default: return nil
        }
    }

    public var int64Value: Int64? {
        switch self {
        case .int(let v): return v
        case .uint(let v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        default: return nil
        }
    }

    /// The member `key` of an object (the last one when a key repeats), or nil.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        var found: JSON? = nil
        for (name, value) in members where Hanse.same(name, key) { found = value }
        return found
    }

    /// Element `index` of an array, or nil.
    public subscript(index: Int) -> JSON? {
        guard case .array(let items) = self, index >= 0, index < items.count else { return nil }
        return items[index]
    }

    // MARK: Reading arguments: a field or a revert that names it

    /// The string member `key`; reverts when it is absent or not a string.
    public func requireString(_ key: String) -> String {
        guard let s = self[key]?.stringValue else { Hanse.revert("field \"\(key)\" must be a string") }
        return s
    }

    /// The string member `key`, or nil when absent or null; reverts when it is something else.
    public func optionalString(_ key: String) -> String? {
        guard let value = self[key], !value.isNull else { return nil }
        return requireString(key)
    }

    /// The integer member `key` (a number or a string of digits, 0 to 2^64-1).
    public func requireUInt64(_ key: String) -> UInt64 {
        guard let v = self[key]?.uint64Value else {
            Hanse.revert("field \"\(key)\" must be an integer from 0 to 18446744073709551615 (a number or a string of digits)")
        }
        return v
    }

    public func optionalUInt64(_ key: String) -> UInt64? {
        guard let value = self[key], !value.isNull else { return nil }
        return requireUInt64(key)
    }

    public func requireBool(_ key: String) -> Bool {
        guard let b = self[key]?.boolValue else { Hanse.revert("field \"\(key)\" must be true or false") }
        return b
    }

    public func requireArray(_ key: String) -> [JSON] {
        guard let a = self[key]?.arrayValue else { Hanse.revert("field \"\(key)\" must be an array") }
        return a
    }

    public func requireObject(_ key: String) -> JSON {
        guard let o = self[key], o.isObject else { Hanse.revert("field \"\(key)\" must be an object") }
        return o
    }

    /// A signer address member: 40 lower-case hex digits.
    public func requireAddress(_ key: String) -> String {
        let s = requireString(key)
        Hanse.require(Hanse.isAddress(s), "field \"\(key)\" must be an address: 40 lower-case hex digits")
        return s
    }

    /// A member usable in a state key: 1 to `maxLength` printable ASCII characters without spaces or '/'.
    public func requireID(_ key: String, maxLength: Int = 128) -> String {
        let s = requireString(key)
        Hanse.require(Hanse.isID(s, maxLength: maxLength), "field \"\(key)\" must be 1 to \(maxLength) printable ASCII characters without spaces or '/'")
        return s
    }

    /// Reverts when the object has a member not in `known`: a misspelt optional field is an error.
    public func only(_ known: [StaticString]) {
        guard case .object(let members) = self else { Hanse.revert("args must be a JSON object") }
        for (name, _) in members {
            var ok = false
            for k in known where !ok {
                ok = Hanse.utf8(name) { Hanse.equalBytes(UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount), $0) }
            }
            if !ok { Hanse.revert("unknown field \"\(name)\"") }
        }
    }

    // MARK: Changing objects

    /// Sets member `key` of an object (replacing it when present, else appending it).
    public mutating func set(_ key: String, _ value: JSON) {
        guard case .object(var members) = self else { Hanse.revert("JSON.set on a value that is not an object") }
        self = .null  // drop the enum's reference to the array so it is modified in place
        if let index = members.firstIndex(where: { Hanse.same($0.0, key) }) {
            members[index].1 = value
        } else {
            members.append((key, value))
        }
        self = .object(members)
    }

    // MARK: Writing

    /// The compact JSON text of the value, strings escaped as RFC 8259 requires.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return out
    }

    /// The JSON text as a String.
    public var text: String { String(decoding: encoded(), as: UTF8.self) }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: [110, 117, 108, 108])
        case .bool(let b): out.append(contentsOf: b ? [116, 114, 117, 101] : [102, 97, 108, 115, 101])
        case .int(let v):
            if v < 0 { out.append(45) }
            JSON.writeDecimal(v.magnitude, to: &out)
        case .uint(let v): JSON.writeDecimal(v, to: &out)
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let items):
            out.append(91)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(44) }
                item.write(to: &out)
            }
            out.append(93)
        case .object(let members):
            out.append(123)
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(44) }
                JSON.writeString(key, to: &out)
                out.append(58)
                value.write(to: &out)
            }
            out.append(125)
        }
    }

    /// `v` in decimal.
    public static func writeDecimal(_ v: UInt64, to out: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, filled from the end
        var n = 0
        var rest = v
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                n += 1
                buffer[24 - n] = UInt8(truncatingIfNeeded: rest % 10) + 48
                rest /= 10
            } while rest != 0
            out.append(contentsOf: UnsafeMutableRawBufferPointer(rebasing: buffer[(24 - n)...]))
        }
    }

    /// A JSON string literal of `s`, quotes included.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        out.append(34)
        Hanse.utf8(s) { bytes in
        for c in bytes {
            switch c {
            case 34: out.append(contentsOf: [92, 34])
            case 92: out.append(contentsOf: [92, 92])
            case 10: out.append(contentsOf: [92, 110])
            case 13: out.append(contentsOf: [92, 114])
            case 9: out.append(contentsOf: [92, 116])
            case 0..<32, 127:
                out.append(contentsOf: [92, 117, 48, 48, hex.utf8Start[Int(c >> 4)], hex.utf8Start[Int(c & 15)]])
            default: out.append(c)
            }
        }
        }
        out.append(34)
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = value < 0 ? .int(value) : .uint(UInt64(value)) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(elements) }
    public init(nilLiteral: ()) { self = .null }
}

extension JSON {
    /// A string, or null when nil.
    public static func optional(_ s: String?) -> JSON { s.map { .string($0) } ?? .null }
    /// A number, or null when nil.
    public static func optional(_ v: UInt64?) -> JSON { v.map { .uint($0) } ?? .null }
    /// A signed number: `.int` below zero, `.uint` otherwise.
    public static func number(_ v: Int64) -> JSON { v < 0 ? .int(v) : .uint(UInt64(v)) }
}

/// A strict JSON parser (RFC 8259): UTF-8 checked, nesting at most 64 deep, integers only.
public struct JSONParser {
    let bytes: [UInt8]
    var index = 0
    /// Why parsing failed, with the byte offset.
    public private(set) var error = ""

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The document's one value, with only whitespace around it; nil on error.
    public mutating func parseDocument() -> JSON? {
        skipWhitespace()
        guard let value = parseValue(depth: 0) else { return nil }
        skipWhitespace()
        guard index == bytes.count else { return fail("unexpected data after the value") }
        return value
    }

    private mutating func fail(_ message: String) -> JSON? {
        if error.isEmpty { error = "\(message) at byte \(index)" }
        return nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 10 || bytes[index] == 13 { index += 1 }
    }

    private mutating func literal(_ word: StaticString, _ value: JSON) -> JSON? {
        let n = word.utf8CodeUnitCount
        guard bytes.count - index >= n else { return fail("invalid literal") }
        for i in 0..<n where bytes[index + i] != word.utf8Start[i] { return fail("invalid literal") }
        index += n
        return value
    }

    private mutating func parseValue(depth: Int) -> JSON? {
        guard index < bytes.count else { return fail("unexpected end of data") }
        switch bytes[index] {
        case 123: // {
            guard depth < 64 else { return fail("nesting deeper than 64") }
            index += 1
            var members: [(String, JSON)] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == 125 { index += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == 34 else { return fail("expected a string key") }
                guard let key = parseString() else { return nil }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == 58 else { return fail("expected ':'") }
                index += 1
                skipWhitespace()
                guard let value = parseValue(depth: depth + 1) else { return nil }
                members.append((key, value))
                skipWhitespace()
                guard index < bytes.count else { return fail("unexpected end of data") }
                if bytes[index] == 44 { index += 1; continue }
                if bytes[index] == 125 { index += 1; return .object(members) }
                return fail("expected ',' or '}'")
            }
        case 91: // [
            guard depth < 64 else { return fail("nesting deeper than 64") }
            index += 1
            var items: [JSON] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == 93 { index += 1; return .array(items) }
            while true {
                skipWhitespace()
                guard let value = parseValue(depth: depth + 1) else { return nil }
                items.append(value)
                skipWhitespace()
                guard index < bytes.count else { return fail("unexpected end of data") }
                if bytes[index] == 44 { index += 1; continue }
                if bytes[index] == 93 { index += 1; return .array(items) }
                return fail("expected ',' or ']'")
            }
        case 34:
            guard let s = parseString() else { return nil }
            return .string(s)
        case 116: return literal("true", .bool(true))
        case 102: return literal("false", .bool(false))
        case 110: return literal("null", .null)
        default: return parseNumber()
        }
    }

    private mutating func parseNumber() -> JSON? {
        var negative = false
        if bytes[index] == 45 { negative = true; index += 1 }
        let start = index
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
        let digits = bytes[start..<index]
        guard !digits.isEmpty else { return fail("invalid value") }
        guard digits.count == 1 || digits.first != 48 else { return fail("a number may not have leading zeros") }
        if index < bytes.count, bytes[index] == 46 || bytes[index] == 101 || bytes[index] == 69 {
            return fail("only integers are supported (no fractions or exponents)")
        }
        guard let magnitude = parseDecimal(digits) else { return fail("integer out of range") }
        if !negative { return .uint(magnitude) }
        if magnitude == 0 { return .uint(0) }
        guard magnitude <= UInt64(Int64.max) + 1 else { return fail("integer out of range") }
        return .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
    }

    private mutating func hex4() -> UInt32? {
        guard bytes.count - index >= 4 else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt8
            switch c {
            case 48...57: d = c - 48
            case 97...102: d = c - 87
            case 65...70: d = c - 55
            default: return nil
            }
            v = v << 4 | UInt32(d)
            index += 1
        }
        return v
    }

    private static func appendUTF8(_ cp: UInt32, to out: inout [UInt8]) {
        switch cp {
        case 0..<0x80: out.append(UInt8(cp))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | cp >> 6)); out.append(UInt8(0x80 | cp & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | cp >> 12)); out.append(UInt8(0x80 | cp >> 6 & 0x3F)); out.append(UInt8(0x80 | cp & 0x3F))
        default:
            out.append(UInt8(0xF0 | cp >> 18)); out.append(UInt8(0x80 | cp >> 12 & 0x3F))
            out.append(UInt8(0x80 | cp >> 6 & 0x3F)); out.append(UInt8(0x80 | cp & 0x3F))
        }
    }

    /// index at the opening quote.
    private mutating func parseString() -> String? {
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { _ = fail("unterminated string"); return nil }
            let c = bytes[index]
            switch c {
            case 34:
                index += 1
                return String(decoding: out, as: UTF8.self)
            case 92:
                guard index + 1 < bytes.count else { _ = fail("unterminated string"); return nil }
                let e = bytes[index + 1]
                index += 2
                switch e {
                case 34, 92, 47: out.append(e)
                case 98: out.append(8)
                case 102: out.append(12)
                case 110: out.append(10)
                case 114: out.append(13)
                case 116: out.append(9)
                case 117:
                    guard var cp = hex4() else { _ = fail("invalid \\u escape"); return nil }
                    if cp >= 0xD800, cp <= 0xDBFF {
                        guard bytes.count - index >= 2, bytes[index] == 92, bytes[index + 1] == 117 else {
                            _ = fail("unpaired surrogate in \\u escape"); return nil
                        }
                        index += 2
                        guard let low = hex4(), low >= 0xDC00, low <= 0xDFFF else { _ = fail("unpaired surrogate in \\u escape"); return nil }
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                    } else if cp >= 0xDC00, cp <= 0xDFFF {
                        _ = fail("unpaired surrogate in \\u escape"); return nil
                    }
                    JSONParser.appendUTF8(cp, to: &out)
                default:
                    _ = fail("invalid escape"); return nil
                }
            case 0..<32:
                _ = fail("control character in string"); return nil
            case 0..<0x80:
                out.append(c)
                index += 1
            default:
                let n = utf8Length()
                guard n > 0 else { _ = fail("invalid UTF-8"); return nil }
                out.append(contentsOf: bytes[index..<(index + n)])
                index += n
            }
        }
    }

    /// Length of the well-formed UTF-8 sequence at index, or 0.
    private func utf8Length() -> Int {
        let c = bytes[index]
        var n = 0
        var cp: UInt32 = 0
        switch c {
        case 0xC2...0xDF: n = 2; cp = UInt32(c & 0x1F)
        case 0xE0...0xEF: n = 3; cp = UInt32(c & 0x0F)
        case 0xF0...0xF4: n = 4; cp = UInt32(c & 0x07)
        default: return 0
        }
        guard bytes.count - index >= n else { return 0 }
        for i in 1..<n {
            let b = bytes[index + i]
            guard b & 0xC0 == 0x80 else { return 0 }
            cp = cp << 6 | UInt32(b & 0x3F)
        }
        if (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF) { return 0 }
        return n
    }
}
