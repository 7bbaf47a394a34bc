public import Ledger

/// The world state during one block's execution: the committed state below, the writes of the
/// block's successful transactions so far on top. Reads of the committed state are cached for the
/// block, so a contract that reads one key many times costs one storage round trip.
final class BlockState {
    let base: any WorldState
    /// Writes of earlier transactions of the block, by contract; nil deletes.
    private(set) var pending: [String: [[UInt8]: [UInt8]?]] = [:]
    private var baseCache: [StateKey: [UInt8]?] = [:]
    /// Contract registry entries decoded during this block, with the bytes they were decoded from.
    var records: [String: (bytes: [UInt8], record: ContractRecord)] = [:]

    init(base: any WorldState) { self.base = base }

    func value(of key: StateKey) throws -> [UInt8]? {
        if let written = pending[key.contract]?[key.key] { return written }
        if let cached = baseCache[key] { return cached }
        let value = try base.value(of: key)
        baseCache[key] = .some(value)
        return value
    }

    /// Reads `keys` from the committed state in one batch, so later reads of them are cache hits.
    func prefetch(_ keys: Set<StateKey>) throws {
        let missing = keys.filter { pending[$0.contract]?[$0.key] == nil && baseCache[$0] == nil }
        guard !missing.isEmpty else { return }
        let found = try base.values(of: Array(missing))
        for key in missing { baseCache[key] = .some(found[key]) }
    }

    func apply(_ writes: [StateWrite]) {
        for write in writes { pending[write.contract, default: [:]][write.key] = .some(write.value) }
    }
}

/// One transaction's view: reads fall through to the block, writes stay here until the
/// transaction succeeds. Records the read set (first read of each key, in order) and the write
/// set (last value of each key, in order of first write).
final class TransactionState {
    let block: BlockState
    let isReadOnly: Bool
    private var written: [StateKey: [UInt8]?] = [:]
    private var writeOrder: [StateKey] = []
    private var readSet: Set<StateKey> = []
    private(set) var reads: [StateKey] = []

    init(block: BlockState, readOnly: Bool = false) {
        self.block = block
        self.isReadOnly = readOnly
    }

    func value(of key: StateKey) throws -> [UInt8]? {
        if let value = written[key] { return value }
        noteRead(key)
        return try block.value(of: key)
    }

    /// A value as `value(of:)` sees it, without entering the read set: for the executor's own
    /// lookups (a contract's code, named by the registry entry that was read).
    func peek(_ key: StateKey) throws -> [UInt8]? {
        if let value = written[key] { return value }
        return try block.value(of: key)
    }

    func set(_ key: StateKey, _ value: [UInt8]?) {
        if written.updateValue(value, forKey: key) == nil { writeOrder.append(key) }
    }

    /// The write set, in order of first write.
    var writes: [StateWrite] {
        writeOrder.map { StateWrite(contract: $0.contract, key: $0.key, value: written[$0]!) }
    }

    /// Up to `limit` live entries of `contract` whose keys start with `prefix`, after `startAfter`,
    /// in key order, with this transaction's and the block's writes applied. `examined` counts the
    /// pending writes and stored rows looked at, which the caller charges for.
    func scan(contract: String, prefix: [UInt8], startAfter: [UInt8]?, limit: Int) throws -> (entries: [(key: [UInt8], value: [UInt8])], examined: Int) {
        // Writes layered over the committed state, newest last.
        var overlay: [[UInt8]: [UInt8]?] = [:]
        var examined = 0
        for (key, value) in block.pending[contract] ?? [:] {
            examined += 1
            if key.starts(with: prefix) { overlay[key] = value }
        }
        for (key, value) in written where key.contract == contract {
            examined += 1
            if key.key.starts(with: prefix) { overlay[key.key] = value }
        }
        var result: [(key: [UInt8], value: [UInt8])] = []
        var cursor = startAfter
        var baseExhausted = false
        var baseBatch: [(key: [UInt8], value: [UInt8])] = []
        var baseIndex = 0
        let overlayKeys = overlay.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var overlayIndex = overlayKeys.firstIndex { key in startAfter.map { $0.lexicographicallyPrecedes(key) } ?? true } ?? overlayKeys.count
        while result.count < limit {
            if baseIndex == baseBatch.count, !baseExhausted {
                // A page's worth plus one; shadowed or deleted keys make the loop fetch again.
                let want = limit - result.count + 1
                baseBatch = try block.base.scan(contract: contract, prefix: prefix, startAfter: cursor, limit: want)
                examined += baseBatch.count
                baseIndex = 0
                baseExhausted = baseBatch.count < want
                if let last = baseBatch.last { cursor = last.key }
            }
            let nextBase = baseIndex < baseBatch.count ? baseBatch[baseIndex] : nil
            let nextOverlay = overlayIndex < overlayKeys.count ? overlayKeys[overlayIndex] : nil
            if nextBase == nil, nextOverlay == nil { break }
            if let key = nextOverlay, nextBase == nil || !nextBase!.key.lexicographicallyPrecedes(key) {
                if nextBase?.key == key { baseIndex += 1 }
                overlayIndex += 1
                if case .some(.some(let value)) = overlay[key] { result.append((key, value)) }
            } else if let entry = nextBase {
                baseIndex += 1
                result.append(entry)
            }
        }
        for entry in result {
            let key = StateKey(contract: contract, key: entry.key)
            if written[key] == nil { noteRead(key) }
        }
        return (result, examined)
    }

    private func noteRead(_ key: StateKey) {
        if readSet.insert(key).inserted { reads.append(key) }
    }
}

/// The world state of a read-only query, or of an empty chain in tests.
public struct EmptyWorldState: WorldState {
    public init() {}
    public func value(of key: StateKey) throws -> [UInt8]? { nil }
    public func scan(contract: String, prefix: [UInt8], startAfter: [UInt8]?, limit: Int) throws -> [(key: [UInt8], value: [UInt8])] { [] }
}

/// World state held in memory: for tests, benchmarks and tools that run contracts offline.
public final class MemoryWorldState: WorldState, @unchecked Sendable {
    private var entries: [StateKey: [UInt8]] = [:]
    public init() {}

    public func value(of key: StateKey) throws -> [UInt8]? { entries[key] }

    public func scan(contract: String, prefix: [UInt8], startAfter: [UInt8]?, limit: Int) throws -> [(key: [UInt8], value: [UInt8])] {
        let keys = entries.keys.filter { entry in
            entry.contract == contract && entry.key.starts(with: prefix) && (startAfter.map { $0.lexicographicallyPrecedes(entry.key) } ?? true)
        }
        return keys.sorted().prefix(limit).map { ($0.key, entries[$0]!) }
    }

    /// Applies a block's writes, as committing it would.
    public func apply(_ transactions: [ExecutedTransaction]) {
        for transaction in transactions {
            for write in transaction.writes { entries[StateKey(contract: write.contract, key: write.key)] = write.value }
        }
    }
}
