public import Crypto
public import HanseCore
public import Ledger
import Synchronization
internal import WasmKit

/// What one contract call produced (its state writes stay in the `TransactionState`, to be kept
/// only when `failure` is nil).
struct CallOutcome {
    var failure: ContractError?
    var result: [UInt8]
    var events: [ContractEvent]
    var logs: [String]
    var fuelUsed: UInt64
}

/// Who calls, in what transaction and block.
struct CallEnvironment {
    var caller: String
    var txID: [UInt8]
    var block: BlockContext
}

/// Runs contract code on WasmKit: one engine with fuel metering for the whole process, parsed
/// modules cached by code hash, and a fresh `Store` (fresh memory, fresh globals) for every call,
/// so no call can see anything another left behind.
public final class ContractRuntime: Sendable {
    public let limits: HanseCore.Limits
    let engine: Engine
    /// Compiles every function at instantiation: deploy-time validation uses it so that a module
    /// whose function bodies do not type-check is refused at deploy, not at its first call.
    let eagerEngine: Engine
    let keyCache: PublicKeyCache
    private let cache: Mutex<ModuleCache>

    public init(limits: HanseCore.Limits = HanseCore.Limits(), keyCache: PublicKeyCache = PublicKeyCache()) {
        self.limits = limits
        self.keyCache = keyCache
        self.engine = Engine(configuration: EngineConfiguration(features: ModuleValidator.features, fuelMetering: true))
        self.eagerEngine = Engine(configuration: EngineConfiguration(compilationMode: .eager, features: ModuleValidator.features, fuelMetering: true))
        self.cache = Mutex(ModuleCache(capacity: limits.contractModuleCacheEntries))
    }

    /// Validates a module, compiles every function (type-checking it) and checks that it
    /// instantiates (data segments inside memory).
    public func validate(_ code: [UInt8]) throws(ContractError) -> ModuleInfo {
        let info = try ModuleValidator.validate(code, limits: limits)
        let module: Module
        do {
            module = try parseWasm(bytes: code, features: ModuleValidator.features)
        } catch {
            throw .invalidModule("not a valid WebAssembly module: \(String(describing: error).prefix(200))")
        }
        let store = Store(engine: eagerEngine)
        store.fuel = Fuel(remaining: limits.contractFuelMax)
        let call = HostCall(limits: limits, contract: "validation", caller: "", txID: [], block: BlockContext(chainID: "", height: 0, timestampMilliseconds: 0),
                            args: [], state: TransactionState(block: BlockState(base: EmptyWorldState()), readOnly: true), keyCache: keyCache, store: store)
        do {
            _ = try module.instantiate(store: store, imports: HostAPI.imports(for: call, store: store))
        } catch {
            throw .invalidModule("does not instantiate: \(ContractError.from(error, budget: 0))")
        }
        return info
    }

    /// Calls `method` of the module whose SHA-256 is `hash` (`code` loads its bytes when the
    /// module is not cached) with a fuel budget. Writes go to `state`; on failure the caller
    /// discards them. Throws only when the world state cannot be read.
    func call(hash: [UInt8], code: () throws -> [UInt8], method: String, contract: String, args: [UInt8], environment: CallEnvironment,
              state: TransactionState, fuel budget: UInt64) throws -> CallOutcome {
        let module: Module
        let codeSize: Int
        do {
            if let cached = cache.withLock({ $0.get(hash) }) {
                (module, codeSize) = cached
            } else {
                let bytes = try code()
                (module, codeSize) = (try compiled(bytes, hash: hash), bytes.count)
            }
        } catch let error as ContractError {
            return CallOutcome(failure: error, result: [], events: [], logs: [], fuelUsed: 0)
        }
        let store = Store(engine: engine)
        store.fuel = Fuel(remaining: budget)
        let call = HostCall(limits: limits, contract: contract, caller: environment.caller, txID: environment.txID, block: environment.block,
                            args: args, state: state, keyCache: keyCache, store: store)
        defer { call.memory = nil }
        do {
            // WasmKit compiles a function the first time a store calls it, so every call pays for
            // compiling what it runs: charged up front by code size.
            try call.charge(UInt64(codeSize) / Self.codeBytesPerFuel)
            let instance = try module.instantiate(store: store, imports: HostAPI.imports(for: call, store: store))
            guard let memory = instance.exports[memory: "memory"] else { throw ContractError.invalidModule("no exported memory") }
            call.memory = memory
            // Memory the module starts with is paid for up front: a fresh store zeroes it on every call.
            try call.charge(UInt64(memory.byteCount / 65536) * 1_000)
            guard let function = instance.exports[function: method] else { throw ContractError.notFound("method \(method)") }
            _ = try function.invoke([])
        } catch {
            if let storageError = call.storageError { throw storageError }
            let failure = ContractError.from(error, budget: budget)
            // Out of fuel burns the whole budget, whatever the last partial charge left.
            let used = failure == .outOfFuel(budget: budget) ? budget : budget - (store.fuel?.remaining ?? 0)
            return CallOutcome(failure: failure, result: [], events: [], logs: call.logs, fuelUsed: used)
        }
        let used = budget - (store.fuel?.remaining ?? 0)
        withExtendedLifetime(store) {}
        return CallOutcome(failure: nil, result: call.result, events: call.events, logs: call.logs, fuelUsed: used)
    }

    /// Fuel per call: one unit per this many bytes of code (what lazy compilation may cost).
    static let codeBytesPerFuel: UInt64 = 4

    /// The parsed module for `code`, from the cache or parsed now.
    private func compiled(_ code: [UInt8], hash: [UInt8]) throws(ContractError) -> Module {
        if let (module, _) = cache.withLock({ $0.get(hash) }) { return module }
        let module: Module
        do {
            module = try parseWasm(bytes: code, features: ModuleValidator.features)
        } catch {
            throw .invalidModule("not a valid WebAssembly module: \(String(describing: error).prefix(200))")
        }
        cache.withLock { $0.put(hash, module, size: code.count) }
        return module
    }

    /// Modules in the cache, for tests and metrics.
    public var cachedModules: Int { cache.withLock { $0.count } }
}

/// A small least-recently-used map from code hash to parsed module (WasmKit compiles function
/// bodies per store, lazily).
private struct ModuleCache: ~Copyable {
    let capacity: Int
    private var entries: [[UInt8]: (module: Module, size: Int, used: UInt64)] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { entries.count }

    mutating func get(_ hash: [UInt8]) -> (Module, Int)? {
        guard let entry = entries[hash] else { return nil }
        clock += 1
        entries[hash] = (entry.module, entry.size, clock)
        return (entry.module, entry.size)
    }

    mutating func put(_ hash: [UInt8], _ module: Module, size: Int) {
        if entries.count >= capacity, entries[hash] == nil, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key {
            entries[oldest] = nil
        }
        clock += 1
        entries[hash] = (module, size, clock)
    }
}
