// The host API: every function a contract may import, with its signature, fuel cost and bounds.
// This file and the table in docs/contracts.md are the whole interface between a contract and
// Hanse; the deploy-time validator admits no other import.
//
// Conventions (the SDKs in contracts/sdk/ wrap them):
// - Every import lives in module "hanse". Pointers and lengths are i32 offsets into the
//   contract's exported memory "memory"; every range is bounds-checked before it is touched.
// - A function that returns bytes takes (out, cap), returns their full length, and copies them
//   only when cap >= length (call again with a bigger buffer otherwise). -1 means "absent".
// - Fuel is charged before the work, in addition to the fuel of the guest's own instructions.
public import Crypto
public import HanseCore
public import Ledger
import Synchronization
internal import WasmKit

/// One host function: name, Wasm signature, what it costs, and its implementation.
struct HostFunction: Sendable {
    let name: String
    let parameters: [ValueType]
    let results: [ValueType]
    /// Fixed fuel per call.
    let baseFuel: UInt64
    /// Fuel per byte read or written through the call, as the body charges it (documented here
    /// and in docs/contracts.md; the test suite keeps the two equal).
    let fuelPerByte: UInt64
    let body: @Sendable (HostCall, UnsafeBufferPointer<Value>, UnsafeMutableBufferPointer<Value>) throws(ContractError) -> Void

    var type: FunctionType { FunctionType(parameters: parameters, results: results) }
}

/// The state and results of one contract call, shared by its host functions.
final class HostCall {
    let limits: HanseCore.Limits
    let contract: String
    let caller: String
    let txID: [UInt8]
    let block: BlockContext
    let args: [UInt8]
    let state: TransactionState
    let keyCache: PublicKeyCache
    /// Unowned: the instance's store outlives the call. The runtime clears its `HostSlot` and
    /// `memory` after the call, so this object is freed when the call ends, whether the instance
    /// goes back to the pool or not.
    unowned let store: Store
    let budget: UInt64
    var memory: Memory?
    var function = ""

    var result: [UInt8] = []
    var events: [ContractEvent] = []
    var logs: [String] = []
    var writes = 0
    var writeBytes = 0
    var reads = 0
    var storageError: (any Error)?

    init(limits: HanseCore.Limits, contract: String, caller: String, txID: [UInt8], block: BlockContext, args: [UInt8],
         state: TransactionState, keyCache: PublicKeyCache, store: Store) {
        self.limits = limits
        self.contract = contract
        self.caller = caller
        self.txID = txID
        self.block = block
        self.args = args
        self.state = state
        self.keyCache = keyCache
        self.store = store
        self.budget = store.fuel?.remaining ?? 0
        Self.live.add(1, ordering: .relaxed)
    }

    deinit { Self.live.subtract(1, ordering: .relaxed) }

    /// Calls whose objects are still alive: zero when idle, or a call's store leaked.
    static let live = Atomic<Int>(0)

    func fail(_ reason: String) -> ContractError { .hostCall(function: function, reason: reason) }

    /// Burns `amount` fuel, or fails as the guest's own instructions would when it runs out.
    func charge(_ amount: UInt64) throws(ContractError) {
        guard let fuel = store.fuel else { return }
        guard fuel.remaining >= amount else {
            store.fuel = Fuel(remaining: 0)
            throw .outOfFuel(budget: budget)
        }
        store.fuel = Fuel(remaining: fuel.remaining - amount)
    }

    /// Guest bytes [pointer, pointer + count), after checking the range and `limit`.
    func read(_ pointer: Value, _ count: Value, limit: Int, what: String) throws(ContractError) -> [UInt8] {
        let (start, length) = (Int(pointer.i32), Int(count.i32))
        guard length <= limit else { throw fail("\(what) is \(length) bytes, limit \(limit)") }
        guard let memory else { throw fail("the contract exports no memory") }
        guard start + length <= memory.byteCount else { throw fail("\(what) [\(start), \(start + length)) is outside memory") }
        if length == 0 { return [] }
        return memory.withUnsafeBufferPointer(offset: UInt(start), count: length) { Array($0) }
    }

    /// Writes `bytes` to guest memory at `pointer` if they fit in `capacity`; returns their length.
    func write(_ bytes: [UInt8], to pointer: Value, capacity: Value) throws(ContractError) -> Value {
        let (start, room) = (Int(pointer.i32), Int(capacity.i32))
        if bytes.count <= room, !bytes.isEmpty {
            guard let memory else { throw fail("the contract exports no memory") }
            guard start + bytes.count <= memory.byteCount else { throw fail("output [\(start), \(start + bytes.count)) is outside memory") }
            memory.withUnsafeMutableBufferPointer(offset: UInt(start), count: bytes.count) { $0.copyBytes(from: bytes) }
        }
        return .i32(UInt32(bytes.count))
    }

    func requireWritable() throws(ContractError) {
        if state.isReadOnly { throw fail("a read-only query may not change state or emit events") }
    }

    func countRead(_ entries: Int = 1) throws(ContractError) {
        reads += entries
        if reads > limits.contractReadsMax { throw fail("more than \(limits.contractReadsMax) state reads in one call") }
    }

    func stateKey(_ pointer: Value, _ count: Value) throws(ContractError) -> StateKey {
        let key = try read(pointer, count, limit: limits.contractKeyBytesMax, what: "key")
        guard !key.isEmpty else { throw fail("a key must not be empty") }
        return StateKey(contract: contract, key: key)
    }

    /// Runs a read of the world state. A storage error aborts the call and is kept in
    /// `storageError`: the executor rethrows it, because a validator that cannot read its state
    /// cannot decide the transaction's outcome (the block is not built rather than built wrong).
    func storage<T>(_ body: () throws -> T) throws(ContractError) -> T {
        do { return try body() } catch {
            storageError = error
            throw fail("storage unavailable")
        }
    }
}

/// Signature algorithms as host-call codes.
let signatureAlgorithmCodes: [UInt32: SignatureAlgorithm] = [1: .p256, 2: .ed25519, 3: .sm2]

enum HostAPI {
    static let module = "hanse"

    static let functions: [HostFunction] = [
        HostFunction(name: "args", parameters: [.i32, .i32], results: [.i32], baseFuel: 20, fuelPerByte: 1) { call, p, r throws(ContractError) in
            try call.charge(UInt64(call.args.count))
            r[0] = try call.write(call.args, to: p[0], capacity: p[1])
        },
        HostFunction(name: "state_get", parameters: [.i32, .i32, .i32, .i32], results: [.i32], baseFuel: 2_000, fuelPerByte: 1) { call, p, r throws(ContractError) in
            let key = try call.stateKey(p[0], p[1])
            try call.countRead()
            try call.charge(UInt64(key.key.count))
            guard let value = try call.storage({ try call.state.value(of: key) }) else {
                r[0] = .i32(UInt32(bitPattern: -1))
                return
            }
            try call.charge(UInt64(value.count))
            r[0] = try call.write(value, to: p[2], capacity: p[3])
        },
        HostFunction(name: "state_set", parameters: [.i32, .i32, .i32, .i32], results: [], baseFuel: 500, fuelPerByte: 2) { call, p, _ throws(ContractError) in
            try call.requireWritable()
            let key = try call.stateKey(p[0], p[1])
            let value = try call.read(p[2], p[3], limit: call.limits.contractValueBytesMax, what: "value")
            try call.charge(2 * UInt64(key.key.count + value.count))
            try call.countWrite(bytes: key.key.count + value.count)
            call.state.set(key, value)
        },
        HostFunction(name: "state_delete", parameters: [.i32, .i32], results: [], baseFuel: 300, fuelPerByte: 2) { call, p, _ throws(ContractError) in
            try call.requireWritable()
            let key = try call.stateKey(p[0], p[1])
            try call.charge(2 * UInt64(key.key.count))
            try call.countWrite(bytes: key.key.count)
            call.state.set(key, nil)
        },
        HostFunction(name: "state_scan", parameters: [.i32, .i32, .i32, .i32, .i32, .i32, .i32], results: [.i32], baseFuel: 5_000, fuelPerByte: 1) { call, p, r throws(ContractError) in
            let prefix = try call.read(p[0], p[1], limit: call.limits.contractKeyBytesMax, what: "prefix")
            let after = try call.read(p[2], p[3], limit: call.limits.contractKeyBytesMax, what: "start_after")
            let limit = Int(Int32(bitPattern: p[4].i32))
            guard (1...call.limits.contractScanEntriesMax).contains(limit) else {
                throw call.fail("limit must be 1 to \(call.limits.contractScanEntriesMax), got \(limit)")
            }
            let (entries, examined) = try call.storage {
                try call.state.scan(contract: call.contract, prefix: prefix, startAfter: after.isEmpty ? nil : after, limit: limit)
            }
            try call.charge(UInt64(examined) * 20)
            try call.countRead(max(entries.count, 1))
            // count ‖ (key length ‖ key ‖ value length ‖ value)*, lengths as little-endian u32.
            var encoded: [UInt8] = []
            appendLE(UInt32(entries.count), to: &encoded)
            for entry in entries {
                appendLE(UInt32(entry.key.count), to: &encoded)
                encoded += entry.key
                appendLE(UInt32(entry.value.count), to: &encoded)
                encoded += entry.value
            }
            try call.charge(UInt64(prefix.count + after.count + encoded.count + 50 * entries.count))
            r[0] = try call.write(encoded, to: p[5], capacity: p[6])
        },
        HostFunction(name: "emit", parameters: [.i32, .i32, .i32, .i32], results: [], baseFuel: 200, fuelPerByte: 1) { call, p, _ throws(ContractError) in
            try call.requireWritable()
            let topic = try call.read(p[0], p[1], limit: call.limits.contractEventTopicBytesMax, what: "topic")
            let data = try call.read(p[2], p[3], limit: call.limits.contractEventDataBytesMax, what: "event data")
            try call.charge(UInt64(topic.count + data.count))
            guard !topic.isEmpty, topic.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw call.fail("a topic must be 1 or more printable ASCII characters without spaces")
            }
            guard call.events.count < call.limits.contractEventsMax else { throw call.fail("more than \(call.limits.contractEventsMax) events in one call") }
            call.events.append(ContractEvent(contract: call.contract, topic: String(decoding: topic, as: UTF8.self), data: data))
        },
        HostFunction(name: "caller", parameters: [.i32, .i32], results: [.i32], baseFuel: 20, fuelPerByte: 0) { call, p, r throws(ContractError) in
            r[0] = try call.write(Array(call.caller.utf8), to: p[0], capacity: p[1])
        },
        HostFunction(name: "tx_id", parameters: [.i32, .i32], results: [.i32], baseFuel: 20, fuelPerByte: 0) { call, p, r throws(ContractError) in
            r[0] = try call.write(call.txID, to: p[0], capacity: p[1])
        },
        HostFunction(name: "block_height", parameters: [], results: [.i64], baseFuel: 10, fuelPerByte: 0) { call, _, r throws(ContractError) in
            r[0] = .i64(call.block.height)
        },
        HostFunction(name: "block_time", parameters: [], results: [.i64], baseFuel: 10, fuelPerByte: 0) { call, _, r throws(ContractError) in
            r[0] = .i64(call.block.timestampMilliseconds)
        },
        HostFunction(name: "sha256", parameters: [.i32, .i32, .i32], results: [], baseFuel: 100, fuelPerByte: 1) { call, p, _ throws(ContractError) in
            let data = try call.read(p[0], p[1], limit: call.limits.contractValueBytesMax, what: "input")
            try call.charge(UInt64(data.count))
            _ = try call.write(SHA256.hash(data), to: p[2], capacity: .i32(32))
        },
        HostFunction(name: "verify_signature", parameters: [.i32, .i32, .i32, .i32, .i32, .i32, .i32], results: [.i32], baseFuel: 20_000, fuelPerByte: 1) { call, p, r throws(ContractError) in
            guard let algorithm = signatureAlgorithmCodes[p[0].i32] else { throw call.fail("unknown algorithm code \(p[0].i32) (1 p256, 2 ed25519, 3 sm2)") }
            let key = try call.read(p[1], p[2], limit: 65, what: "public key")
            let message = try call.read(p[3], p[4], limit: call.limits.contractValueBytesMax, what: "message")
            let signature = try call.read(p[5], p[6], limit: 64, what: "signature")
            try call.charge(UInt64(message.count))
            guard let publicKey = try? call.keyCache.key(algorithm: algorithm, raw: key) else {
                r[0] = .i32(0)
                return
            }
            r[0] = .i32(signature.count == 64 && publicKey.isValidSignature(signature, for: message) ? 1 : 0)
        },
        HostFunction(name: "return_value", parameters: [.i32, .i32], results: [], baseFuel: 20, fuelPerByte: 1) { call, p, _ throws(ContractError) in
            call.result = try call.read(p[0], p[1], limit: call.limits.contractResultBytesMax, what: "return value")
            try call.charge(UInt64(call.result.count))
        },
        HostFunction(name: "revert", parameters: [.i32, .i32], results: [], baseFuel: 20, fuelPerByte: 0) { call, p, _ throws(ContractError) in
            let message = try call.read(p[0], p[1], limit: call.limits.contractRevertBytesMax, what: "revert message")
            throw .revert(String(decoding: message, as: UTF8.self))
        },
        HostFunction(name: "log", parameters: [.i32, .i32], results: [], baseFuel: 10, fuelPerByte: 1) { call, p, _ throws(ContractError) in
            let line = try call.read(p[0], p[1], limit: call.limits.contractLogLineBytesMax, what: "log line")
            try call.charge(UInt64(line.count))
            if call.logs.count < call.limits.contractLogLinesMax { call.logs.append(String(decoding: line, as: UTF8.self)) }
        },
    ]

    static let byName: [String: HostFunction] = Dictionary(uniqueKeysWithValues: functions.map { ($0.name, $0) })

    /// The imports of one call: every host function bound to `call`.
    /// The host functions, bound to whatever call `slot` holds when the guest calls them.
    static func imports(for slot: HostSlot, store: Store) -> Imports {
        var imports = Imports()
        for function in functions {
            let body = function.body
            let (name, base) = (function.name, function.baseFuel)
            imports.define(module: module, name: name, Function(store: store, parameters: function.parameters, results: function.results, raw: { _, parameters, results in
                guard let call = slot.call else { throw ContractError.hostCall(function: name, reason: "called outside a contract call") }
                call.function = name
                try call.charge(base)
                try body(call, parameters, results)
            }))
        }
        return imports
    }
}

extension HostCall {
    func countWrite(bytes: Int) throws(ContractError) {
        writes += 1
        writeBytes += bytes
        if writes > limits.contractWritesMax { throw fail("more than \(limits.contractWritesMax) state writes in one call") }
        if writeBytes > limits.contractWriteBytesMax { throw fail("more than \(limits.contractWriteBytesMax) bytes written in one call") }
    }
}

func appendLE(_ value: UInt32, to bytes: inout [UInt8]) {
    for shift in stride(from: 0, through: 24, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
}
