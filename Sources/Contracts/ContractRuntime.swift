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
/// modules cached by code hash, and instances that either serve one call (a fresh `Store`) or,
/// when the module's calls can be undone exactly, are reset to their state after instantiation
/// and kept warm for the next call (see WarmInstances.swift). Either way no call can see
/// anything another left behind.
public final class ContractRuntime: Sendable {
    public let limits: HanseCore.Limits
    let engine: Engine
    /// Compiles every function at instantiation: deploy-time validation uses it so that a module
    /// whose function bodies do not type-check is refused at deploy, not at its first call.
    let eagerEngine: Engine
    let keyCache: PublicKeyCache
    private let cache: Mutex<ModuleCache>
    private let pool: Mutex<WarmPool>
    private let warmCalls = Atomic<Int>(0)
    private let freshCalls = Atomic<Int>(0)

    public init(limits: HanseCore.Limits = HanseCore.Limits(), keyCache: PublicKeyCache = PublicKeyCache()) {
        self.limits = limits
        self.keyCache = keyCache
        self.engine = Engine(configuration: EngineConfiguration(features: ModuleValidator.features, fuelMetering: true))
        self.eagerEngine = Engine(configuration: EngineConfiguration(compilationMode: .eager, features: ModuleValidator.features, fuelMetering: true))
        self.cache = Mutex(ModuleCache(capacity: limits.contractModuleCacheEntries))
        self.pool = Mutex(WarmPool(perModule: limits.contractWarmInstancesPerModule, bytesMax: limits.contractWarmInstanceBytesMax))
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
        let slot = HostSlot()
        slot.call = HostCall(limits: limits, contract: "validation", caller: "", txID: [], block: BlockContext(chainID: "", height: 0, timestampMilliseconds: 0),
                             args: [], state: TransactionState(block: BlockState(base: EmptyWorldState()), readOnly: true), keyCache: keyCache, store: store)
        defer { slot.call = nil }
        do {
            _ = try module.instantiate(store: store, imports: HostAPI.imports(for: slot, store: store))
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
        let prepared: PreparedModule
        do {
            prepared = try cache.withLock({ $0.get(hash) }) ?? self.prepared(try code(), hash: hash)
        } catch let error as ContractError {
            return CallOutcome(failure: error, result: [], events: [], logs: [], fuelUsed: 0)
        }
        let poolable = prepared.resettableGlobals != nil && limits.contractWarmInstancesPerModule > 0
        // A warm instance if one is idle; otherwise a new one, instantiated once the fee for it is paid.
        var warm = poolable ? pool.withLock { $0.take(hash) } : nil
        if warm != nil { warmCalls.add(1, ordering: .relaxed) } else { freshCalls.add(1, ordering: .relaxed) }
        let store = warm?.store ?? Store(engine: engine)
        store.fuel = Fuel(remaining: budget)
        let call = HostCall(limits: limits, contract: contract, caller: environment.caller, txID: environment.txID, block: environment.block,
                            args: args, state: state, keyCache: keyCache, store: store)
        defer {
            call.memory = nil
            warm?.slot.call = nil
        }
        do {
            // The same fees whether the instance is warm or new: code size (what translating the
            // functions it runs may cost) and the memory it starts with.
            try call.charge(UInt64(prepared.codeSize) / Self.codeBytesPerFuel)
            let instance = try warm ?? WarmInstance(prepared, store: store, poolable: poolable)
            warm = instance
            instance.slot.call = call
            call.memory = instance.memory
            try call.charge(UInt64(instance.memory.byteCount / 65536) * 1_000)
            guard let function = instance.instance.exports[function: method] else { throw ContractError.notFound("method \(method)") }
            _ = try function.invoke([])
        } catch {
            // The instance is dropped: a failed call may leave it mid-way.
            if let storageError = call.storageError { throw storageError }
            let failure = ContractError.from(error, budget: budget)
            // Out of fuel burns the whole budget, whatever the last partial charge left.
            let used = failure == .outOfFuel(budget: budget) ? budget : budget - (store.fuel?.remaining ?? 0)
            return CallOutcome(failure: failure, result: [], events: [], logs: call.logs, fuelUsed: used)
        }
        let used = budget - (store.fuel?.remaining ?? 0)
        if poolable, let instance = warm {
            instance.slot.call = nil
            call.memory = nil
            if instance.reset() { pool.withLock { $0.give(instance, hash: hash) } }
        }
        return CallOutcome(failure: nil, result: call.result, events: call.events, logs: call.logs, fuelUsed: used)
    }

    /// Fuel per call: one unit per this many bytes of code (what lazy compilation may cost).
    static let codeBytesPerFuel: UInt64 = 4

    /// The prepared module for `code`, from the cache or parsed now.
    private func prepared(_ code: [UInt8], hash: [UInt8]) throws(ContractError) -> PreparedModule {
        if let prepared = cache.withLock({ $0.get(hash) }) { return prepared }
        let prepared: PreparedModule
        do {
            prepared = try PreparedModule.prepare(code)
        } catch {
            throw .invalidModule("not a valid WebAssembly module: \(String(describing: error).prefix(200))")
        }
        let evicted = cache.withLock { $0.put(hash, prepared) }
        if let evicted { pool.withLock { $0.drop(evicted) } }
        return prepared
    }

    /// Calls served by a warm instance and by a new one, since the runtime started (for tests
    /// and benchmarks).
    public var instanceCounts: (warm: Int, fresh: Int) { (warmCalls.load(ordering: .relaxed), freshCalls.load(ordering: .relaxed)) }

    /// Idle warm instances and the bytes they hold.
    public var idleWarmInstances: (count: Int, bytes: Int) { pool.withLock { ($0.count, $0.bytes) } }

    /// Modules in the cache, for tests and metrics.
    public var cachedModules: Int { cache.withLock { $0.count } }
}

/// A small least-recently-used map from code hash to prepared module (WasmKit compiles function
/// bodies per instance, lazily).
private struct ModuleCache: ~Copyable {
    let capacity: Int
    private var entries: [[UInt8]: (prepared: PreparedModule, used: UInt64)] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { entries.count }

    mutating func get(_ hash: [UInt8]) -> PreparedModule? {
        guard let entry = entries[hash] else { return nil }
        clock += 1
        entries[hash] = (entry.prepared, clock)
        return entry.prepared
    }

    /// Adds an entry; returns the hash it evicted, if any.
    mutating func put(_ hash: [UInt8], _ prepared: PreparedModule) -> [UInt8]? {
        var evicted: [UInt8]?
        if entries.count >= capacity, entries[hash] == nil, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key {
            entries[oldest] = nil
            evicted = oldest
        }
        clock += 1
        entries[hash] = (prepared, clock)
        return evicted
    }
}
