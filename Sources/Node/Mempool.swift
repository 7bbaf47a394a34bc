public import HanseCore
public import Ledger

/// A chain's waiting transactions: bounded in count, bytes and per signer; deduplicated by
/// transaction id, also against transactions committed recently; taken into blocks fairly
/// (round-robin over signers, each signer's own in arrival order); dropped when they expire. A
/// full mempool refuses instead of growing.
///
/// Every operation is O(1) or O(transactions touched) per call: ids are computed once on entry,
/// a signer's queue holds ids and skips removed ones lazily.
public struct Mempool: Sendable {
    public enum Admission: Equatable, Sendable {
        case accepted
        /// Already waiting, or committed recently: the same id, nothing added.
        case duplicate
        /// Too many waiting, overall or from this signer: try later.
        case full(String)
        /// Its validity ended before the next block.
        case expired
    }

    struct Entry: Sendable {
        let envelope: TransactionEnvelope
        let id: [UInt8]
        let size: Int
    }

    /// One signer's ids in arrival order; `head` skips the front that is gone.
    struct Queue: Sendable {
        var ids: [[UInt8]] = []
        var head = 0
        var live = 0
    }

    private let limits: Limits
    private var byID: [ByteKey: Entry] = [:]
    /// By signer; only signers whose signatures were checked get here, so hashing their keys'
    /// tails (ByteKey) is as good as hashing them whole.
    private var queues: [ByteKey: Queue] = [:]
    private var signerOrder: [[UInt8]] = []
    private var nextSigner = 0
    public private(set) var bytes = 0
    /// Since when (Unix milliseconds) transactions not yet proposed have waited; nil when none.
    public private(set) var waitingSince: UInt64?
    /// Ids of recently committed transactions (most recent last), refused as duplicates.
    private var committed: Set<ByteKey> = []
    private var committedOrder: [[UInt8]] = []
    private var committedHead = 0
    /// Nothing waiting expires before these (the smallest last height and last time of the
    /// entries, as of the last scan and the adds since): below both, `dropExpired` need not look.
    private var soonestLastHeight = UInt64.max
    private var soonestLastTime = UInt64.max

    public init(limits: Limits) { self.limits = limits }

    public var count: Int { byID.count }
    public var isEmpty: Bool { byID.isEmpty }

    public func contains(_ id: [UInt8]) -> Bool { byID[ByteKey(id)] != nil }

    /// Admits an envelope whose signature was already checked, if it can still be included in
    /// the block at `nextHeight` built at about `now` (Unix milliseconds).
    public mutating func add(_ envelope: TransactionEnvelope, nextHeight: UInt64, now: UInt64) -> Admission {
        add(envelope, id: envelope.id, nextHeight: nextHeight, now: now)
    }

    /// `add` with the id already computed.
    public mutating func add(_ envelope: TransactionEnvelope, id: [UInt8], nextHeight: UInt64, now: UInt64) -> Admission {
        if byID[ByteKey(id)] != nil || committed.contains(ByteKey(id)) { return .duplicate }
        if Self.isExpired(envelope, height: nextHeight, now: now) { return .expired }
        let size = envelope.signedBytes.count + envelope.signature.count
        if byID.count >= limits.mempoolTransactionsMax || bytes + size > limits.mempoolBytesMax {
            return .full("the chain's mempool is full (\(byID.count) transactions, \(bytes) bytes)")
        }
        let signer = ByteKey(envelope.signer)
        if (queues[signer]?.live ?? 0) >= limits.mempoolPerSignerMax {
            return .full("this signer has \(limits.mempoolPerSignerMax) transactions waiting")
        }
        if byID.isEmpty { waitingSince = now }
        switch envelope.validUntil {
        case .height(let last): soonestLastHeight = min(soonestLastHeight, last)
        case .unixMilliseconds(let last): soonestLastTime = min(soonestLastTime, last)
        }
        byID[ByteKey(id)] = Entry(envelope: envelope, id: id, size: size)
        if queues[signer] == nil { signerOrder.append(envelope.signer) }
        queues[signer, default: Queue()].ids.append(id)
        queues[signer]!.live += 1
        bytes += size
        return .accepted
    }

    static func isExpired(_ envelope: TransactionEnvelope, height: UInt64, now: UInt64) -> Bool {
        switch envelope.validUntil {
        case .height(let last): height > last
        case .unixMilliseconds(let last): now > last
        }
    }

    /// Up to `maxCount` transactions and `maxBytes` bytes for the next block, one signer at a
    /// time in turn. They stay in the mempool until `remove` (a proposal may not be decided).
    /// Expired transactions are dropped first; their ids are returned too.
    public mutating func batch(maxCount: Int, maxBytes: Int, height: UInt64, now: UInt64) -> (transactions: [TransactionEnvelope], expired: [[UInt8]]) {
        let expired = dropExpired(height: height, now: now)
        var taken: [TransactionEnvelope] = []
        var size = 0
        guard !signerOrder.isEmpty else { return ([], expired) }
        var cursors: [ByteKey: Int] = [:]
        var exhausted = 0
        var index = nextSigner % signerOrder.count
        outer: while taken.count < maxCount, exhausted < signerOrder.count {
            let signer = ByteKey(signerOrder[index])
            let queue = queues[signer]!
            var position = cursors[signer] ?? queue.head
            while position < queue.ids.count, byID[ByteKey(queue.ids[position])] == nil { position += 1 }
            if position < queue.ids.count, let entry = byID[ByteKey(queue.ids[position])] {
                if size + entry.size > maxBytes { break outer }
                taken.append(entry.envelope)
                size += entry.size
                cursors[signer] = position + 1
                exhausted = 0
            } else {
                cursors[signer] = position
                exhausted += 1
            }
            index = (index + 1) % signerOrder.count
        }
        nextSigner = index
        // What the batch left behind waits from now on.
        waitingSince = byID.count > taken.count ? now : nil
        return (taken, expired)
    }

    /// Removes transactions by id (committed ones are remembered as duplicates for a while).
    public mutating func remove(_ ids: some Sequence<[UInt8]>, committed wasCommitted: Bool = false) {
        var emptied: Set<ByteKey> = []
        for id in ids {
            if wasCommitted { rememberCommitted(id) }
            guard let entry = byID.removeValue(forKey: ByteKey(id)) else { continue }
            bytes -= entry.size
            let signer = ByteKey(entry.envelope.signer)
            guard var queue = queues[signer] else { continue }
            queue.live -= 1
            if queue.live == 0 {
                queues[signer] = nil
                emptied.insert(signer)
                continue
            }
            while queue.head < queue.ids.count, byID[ByteKey(queue.ids[queue.head])] == nil { queue.head += 1 }
            if queue.head > 1024, queue.head * 2 > queue.ids.count {
                queue.ids.removeFirst(queue.head)
                queue.head = 0
            }
            queues[signer] = queue
        }
        if byID.isEmpty { waitingSince = nil }
        if !emptied.isEmpty {
            signerOrder.removeAll { emptied.contains(ByteKey($0)) }
            nextSigner = signerOrder.isEmpty ? 0 : nextSigner % signerOrder.count
        }
    }

    private mutating func rememberCommitted(_ id: [UInt8]) {
        guard committed.insert(ByteKey(id)).inserted else { return }
        committedOrder.append(id)
        let capacity = max(4 * limits.blockTransactionsMax, 1024)
        if committedOrder.count - committedHead > capacity {
            committed.remove(ByteKey(committedOrder[committedHead]))
            committedHead += 1
            if committedHead > capacity {
                committedOrder.removeFirst(committedHead)
                committedHead = 0
            }
        }
    }

    /// Drops what can no longer be included at `height`; returns their ids.
    @discardableResult
    public mutating func dropExpired(height: UInt64, now: UInt64) -> [[UInt8]] {
        // Called for every block: a scan of everything waiting only when something may expire.
        guard height > soonestLastHeight || now > soonestLastTime else { return [] }
        var expired: [[UInt8]] = []
        soonestLastHeight = .max
        soonestLastTime = .max
        for entry in byID.values {
            if Self.isExpired(entry.envelope, height: height, now: now) {
                expired.append(entry.id)
                continue
            }
            switch entry.envelope.validUntil {
            case .height(let last): soonestLastHeight = min(soonestLastHeight, last)
            case .unixMilliseconds(let last): soonestLastTime = min(soonestLastTime, last)
            }
        }
        if !expired.isEmpty { remove(expired) }
        return expired
    }
}

/// A transaction id or public key as a dictionary key that hashes its length and last 16 bytes
/// (random in both: digest bytes, a point's y coordinate) rather than every byte; equality still
/// compares all bytes. Swift's per-process hash seed keeps the buckets unpredictable.
struct ByteKey: Hashable, Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
        guard bytes.count >= 16 else {
            for byte in bytes { hasher.combine(byte) }
            return
        }
        bytes.withUnsafeBytes { raw in
            hasher.combine(raw.loadUnaligned(fromByteOffset: raw.count - 16, as: UInt64.self))
            hasher.combine(raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self))
        }
    }

    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool { lhs.bytes == rhs.bytes }
}
