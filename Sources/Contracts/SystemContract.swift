public import Crypto
import Foundation
public import HanseCore
public import Ledger

/// A contract's entry in the registry, kept as state of the `_system` contract under
/// `contract/<name>`, so that deploys, upgrades and status changes are state writes like any
/// other: committed by the block's write-set root and kept in the key's history.
public struct ContractRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case active, frozen, revoked }
    public struct Version: Codable, Sendable, Equatable {
        public var version: String
        public var codeHash: String
        public var height: UInt64
        public var txID: String
        enum CodingKeys: String, CodingKey { case version, codeHash = "code_hash", height, txID = "tx_id" }
    }
    public var name: String
    public var version: String
    public var codeHash: String
    public var status: Status
    public var methods: [String]
    public var history: [Version]
    enum CodingKeys: String, CodingKey { case name, version, codeHash = "code_hash", status, methods, history }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try! encoder.encode(self))
    }
}

/// Roles a signer address can hold on a chain.
public enum ChainRole: String, Sendable, CaseIterable { case admin, writer, reader }

/// The platform's own methods, run natively: contract lifecycle (deploy, upgrade, freeze,
/// unfreeze, revoke) and roles (grant_role, revoke_role). Chain admins only. Arguments are a
/// JSON object; unknown fields are refused.
struct SystemContract {
    let executor: ContractExecutor
    let state: TransactionState
    let environment: CallEnvironment
    let budget: UInt64

    static let name = TransactionEnvelope.systemContract
    /// Fuel of a lifecycle step, and per byte of code stored by deploy and upgrade.
    static let baseFuel: UInt64 = 10_000
    static let codeFuelPerByte: UInt64 = 10

    static func recordKey(_ contract: String) -> StateKey { StateKey(contract: name, key: Array("contract/\(contract)".utf8)) }
    static func codeKey(_ hash: String) -> StateKey { StateKey(contract: name, key: Array("code/\(hash)".utf8)) }
    static func roleKey(_ address: String) -> StateKey { StateKey(contract: name, key: Array("role/\(address)".utf8)) }

    static func record(of contract: String, in state: TransactionState) throws -> ContractRecord? {
        guard let bytes = try state.value(of: recordKey(contract)) else { return nil }
        // Decoded once per block and contract while its stored bytes stay the same.
        if let cached = state.block.records[contract], cached.bytes == bytes { return cached.record }
        let record = try JSONDecoder().decode(ContractRecord.self, from: Data(bytes))
        state.block.records[contract] = (bytes, record)
        return record
    }

    private var limits: Limits { executor.limits }

    func run(method: String, args: [UInt8]) throws -> CallOutcome {
        var fuel: UInt64 = 0
        var events: [ContractEvent] = []
        do {
            try charge(Self.baseFuel, used: &fuel)
            if method == ChainGenesis.method {
                let result = try genesis(args)
                return CallOutcome(failure: nil, result: result, events: [ContractEvent(contract: Self.name, topic: "genesis", data: result)],
                                   logs: [], fuelUsed: fuel)
            }
            guard try isAdmin(environment.caller) else {
                throw ContractError.forbidden("only a chain admin may call \(Self.name).\(method)")
            }
            let arguments = try Arguments(args)
            let result: [UInt8]
            switch method {
            case "deploy", "upgrade":
                result = try install(method: method, arguments, fuel: &fuel, events: &events)
            case "freeze", "unfreeze", "revoke":
                try arguments.only(["name"])
                let name = try arguments.string("name")
                guard var record = try Self.record(of: name, in: state) else { throw ContractError.notFound("contract \(name)") }
                let (from, to): (Set<ContractRecord.Status>, ContractRecord.Status) = switch method {
                case "freeze": ([.active], .frozen)
                case "unfreeze": ([.frozen], .active)
                default: ([.active, .frozen], .revoked)
                }
                guard from.contains(record.status) else {
                    throw ContractError.invalidArguments("contract \(name) is \(record.status.rawValue); \(method) needs it \(from.map(\.rawValue).sorted().joined(separator: " or "))")
                }
                record.status = to
                state.set(Self.recordKey(name), record.encoded())
                result = record.encoded()
                let topic = ["freeze": "frozen", "unfreeze": "unfrozen", "revoke": "revoked"][method]!
                events.append(ContractEvent(contract: Self.name, topic: topic, data: result))
            case "grant_role":
                try arguments.only(["address", "role"])
                let address = try arguments.address("address")
                let role = try arguments.string("role")
                guard ChainRole(rawValue: role) != nil else { throw ContractError.invalidArguments("role must be admin, writer or reader") }
                state.set(Self.roleKey(address), Array(role.utf8))
                result = Array(#"{"address":"\#(address)","role":"\#(role)"}"#.utf8)
                events.append(ContractEvent(contract: Self.name, topic: "role_granted", data: result))
            case "revoke_role":
                try arguments.only(["address"])
                let address = try arguments.address("address")
                guard try state.value(of: Self.roleKey(address)) != nil else { throw ContractError.notFound("role of \(address)") }
                state.set(Self.roleKey(address), nil)
                result = Array(#"{"address":"\#(address)"}"#.utf8)
                events.append(ContractEvent(contract: Self.name, topic: "role_revoked", data: result))
            default:
                throw ContractError.notFound("method \(method) of \(Self.name) (deploy, upgrade, freeze, unfreeze, revoke, grant_role, revoke_role)")
            }
            return CallOutcome(failure: nil, result: result, events: events, logs: [], fuelUsed: fuel)
        } catch let error as ContractError {
            return CallOutcome(failure: error, result: [], events: [], logs: [], fuelUsed: fuel)
        }
    }

    static let genesisKey = StateKey(contract: name, key: Array("genesis".utf8))

    /// genesis: the first transaction of block 0 records the chain's configuration under
    /// `genesis` and grants its admins the admin role. Valid once, at height 0 only.
    private func genesis(_ args: [UInt8]) throws -> [UInt8] {
        guard environment.block.height == 0 else { throw ContractError.forbidden("genesis runs only in block 0") }
        guard try state.value(of: Self.genesisKey) == nil else { throw ContractError.forbidden("the chain has a genesis already") }
        let genesis: ChainGenesis
        do { genesis = try ChainGenesis(encoded: args) } catch { throw ContractError.invalidArguments("genesis: \(error)") }
        guard genesis.chainID == environment.block.chainID else { throw ContractError.invalidArguments("genesis is for chain \(genesis.chainID)") }
        state.set(Self.genesisKey, args)
        for admin in genesis.admins { state.set(Self.roleKey(admin), Array("admin".utf8)) }
        return Array(Hex.encode(SHA256.hash(args)).utf8)
    }

    /// The role of `address`: a genesis admin, or what `grant_role` recorded.
    func isAdmin(_ address: String) throws -> Bool {
        if executor.rules.admins.contains(address) { return true }
        return try state.value(of: Self.roleKey(address)) == Array("admin".utf8)
    }

    private func charge(_ amount: UInt64, used: inout UInt64) throws(ContractError) {
        guard used + amount <= budget else {
            used = budget
            throw .outOfFuel(budget: budget)
        }
        used += amount
    }

    /// deploy: a new contract with its first version; upgrade: a new version of an existing one,
    /// state kept. Both validate the code, store it by hash, and run `init` or `migrate` when the
    /// module exports it; a failure there fails the whole step.
    private func install(method: String, _ arguments: Arguments, fuel: inout UInt64, events: inout [ContractEvent]) throws -> [UInt8] {
        let hookField = method == "deploy" ? "init_args" : "migrate_args"
        try arguments.only(["name", "version", "code", hookField])
        let name = try arguments.string("name")
        let version = try arguments.string("version")
        let code = try arguments.base64("code")
        let hookArgs = try arguments.optionalString(hookField).map { Array($0.utf8) }
        if let hookArgs, hookArgs.count > limits.txArgsBytesMax {
            throw ContractError.invalidArguments("\(hookField) has \(hookArgs.count) bytes, limit \(limits.txArgsBytesMax)")
        }
        guard ModuleValidator.isMethodName(name), !name.hasPrefix("_") else {
            throw ContractError.invalidArguments("name must be 1 to 64 printable ASCII characters, not starting with _")
        }
        guard (1...32).contains(version.utf8.count), version.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw ContractError.invalidArguments("version must be 1 to 32 printable ASCII characters")
        }
        try charge(UInt64(code.count) * Self.codeFuelPerByte, used: &fuel)
        let info = try executor.runtime.validate(code)
        let hash = Hex.encode(SHA256.hash(code))
        var record: ContractRecord
        if method == "deploy" {
            guard try Self.record(of: name, in: state) == nil else { throw ContractError.invalidArguments("contract \(name) already exists; use upgrade") }
            record = ContractRecord(name: name, version: version, codeHash: hash, status: .active, methods: info.methods, history: [])
        } else {
            guard let existing = try Self.record(of: name, in: state) else { throw ContractError.notFound("contract \(name)") }
            guard existing.status != .revoked else { throw ContractError.notCallable("contract \(name) is revoked") }
            guard !existing.history.contains(where: { $0.version == version }) else {
                throw ContractError.invalidArguments("contract \(name) already has a version \(version)")
            }
            record = existing
            record.version = version
            record.codeHash = hash
            record.methods = info.methods
        }
        record.history.append(.init(version: version, codeHash: hash, height: environment.block.height, txID: Hex.encode(environment.txID)))
        if try state.value(of: Self.codeKey(hash)) == nil { state.set(Self.codeKey(hash), code) }
        state.set(Self.recordKey(name), record.encoded())
        let hook = method == "deploy" ? "init" : "migrate"
        if method == "deploy" ? info.hasInit : info.hasMigrate {
            let outcome = try executor.call(contract: name, method: hook, args: hookArgs ?? Array("{}".utf8), environment: environment,
                                            state: state, budget: budget - fuel, allowLifecycle: true)
            fuel += outcome.fuelUsed
            if let failure = outcome.failure { throw ContractError.hookFailed(hook: hook, reason: failure) }
            events += outcome.events
        } else if hookArgs != nil {
            throw ContractError.invalidArguments("the module exports no \(hook), so \(hookField) cannot be used")
        }
        let result = record.encoded()
        events.append(ContractEvent(contract: Self.name, topic: method == "deploy" ? "deployed" : "upgraded", data: result))
        return result
    }
}

/// The JSON object of a `_system` call; fields a method does not know are refused.
private struct Arguments {
    private let object: [String: Any]

    init(_ bytes: [UInt8]) throws(ContractError) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw .invalidArguments("args must be a JSON object")
        }
        self.object = object
    }

    func string(_ key: String) throws(ContractError) -> String {
        guard let value = object[key] as? String else { throw .invalidArguments("\(key) must be a string") }
        return value
    }

    func address(_ key: String) throws(ContractError) -> String {
        let value = try string(key)
        guard value.utf8.count == 40, Hex.decode(value) != nil, value == value.lowercased() else {
            throw .invalidArguments("\(key) must be a signer address: 40 lower-case hex digits (docs/contracts.md)")
        }
        return value
    }

    func base64(_ key: String) throws(ContractError) -> [UInt8] {
        guard let data = Data(base64Encoded: try string(key)) else { throw .invalidArguments("\(key) must be base64") }
        return Array(data)
    }

    /// A string field, or nil when absent. (Hook arguments travel as a string holding their JSON
    /// document, so the hook gets exactly the client's bytes, never a re-encoding.)
    func optionalString(_ key: String) throws(ContractError) -> String? {
        guard object[key] != nil else { return nil }
        return try string(key)
    }

    func only(_ known: Set<String>) throws(ContractError) {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidArguments("unknown field \(unknown) (known: \(known.sorted().joined(separator: ", ")))")
        }
    }
}
