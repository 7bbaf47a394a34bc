public import Ledger

/// The world state during one block's execution: the committed state below, the writes of the
/// block's successful transactions so far on top.
final class BlockState {
    let base: any WorldState
    /// Writes of earlier transactions of the block; nil deletes.
    private(set) var pending: [StateKey: [UInt8]?] = [:]

    init(base: any WorldState) { self.base = base }

    func value(of key: StateKey) throws -> [UInt8]? {
        if let written = pending[key] { return written }
        return try base.value(of: key)
    }

    func apply(_ writes: [StateWrite]) {
        for write in writes { pending[StateKey(contract: write.contract, key: write.key)] = .some(write.value) }
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

    func set(_ key: StateKey, _ value: [UInt8]?) {
        if written.updateValue(value, forKey: key) == nil { writeOrder.append(key) }
    }

    /// The write set, in order of first write.
    var writes: [StateWrite] {
        writeOrder.map { StateWrite(contract: $0.contract, key: $0.key, value: written[$0]!) }
    }

    /// Up to `limit` live entries of `contract` whose keys start with `prefix`, after `startAfter`,
    /// in key order, with this transaction's and the block's writes applied.
    func scan(contract: String, prefix: [UInt8], startAfter: [UInt8]?, limit: Int) throws -> [(key: [UInt8], value: [UInt8])] {
        // Writes layered over the committed state, newest last.
        var overlay: [[UInt8]: [UInt8]?] = [:]
        for (key, value) in block.pending where key.contract == contract && key.key.starts(with: prefix) { overlay[key.key] = value }
        for (key, value) in written where key.contract == contract && key.key.starts(with: prefix) { overlay[key.key] = value }
        var result: [(key: [UInt8], value: [UInt8])] = []
        var cursor = startAfter
        var baseExhausted = false
        var baseBatch: [(key: [UInt8], value: [UInt8])] = []
        var baseIndex = 0
        let overlayKeys = overlay.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var overlayIndex = overlayKeys.firstIndex { key in startAfter.map { $0.lexicographicallyPrecedes(key) } ?? true } ?? overlayKeys.count
        while result.count < limit {
            if baseIndex == baseBatch.count, !baseExhausted {
                // Fetch enough to fill the page even if every overlay key shadows a base key.
                let want = limit - result.count + overlay.count
                baseBatch = try block.base.scan(contract: contract, prefix: prefix, startAfter: cursor, limit: want)
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
        for entry in result { noteRead(StateKey(contract: contract, key: entry.key)) }
        return result
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
