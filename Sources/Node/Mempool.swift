public import HanseCore
public import Ledger

/// A chain's waiting transactions: bounded in count, bytes and per signer; deduplicated by
/// transaction id; taken into blocks fairly (round-robin over signers, each signer's own in
/// arrival order); dropped when they expire. A full mempool refuses instead of growing.
public struct Mempool: Sendable {
    public enum Admission: Equatable, Sendable {
        case accepted
        /// Already waiting: the same id, nothing added.
        case duplicate
        /// Too many waiting, overall or from this signer: try later.
        case full(String)
        /// Its validity ended before the next block.
        case expired
    }

    private let limits: Limits
    private var byID: [[UInt8]: TransactionEnvelope] = [:]
    /// Per signer, in arrival order; signers in order of first arrival.
    private var queues: [[UInt8]: [TransactionEnvelope]] = [:]
    private var signerOrder: [[UInt8]] = []
    private var nextSigner = 0
    public private(set) var bytes = 0

    public init(limits: Limits) { self.limits = limits }

    public var count: Int { byID.count }
    public var isEmpty: Bool { byID.isEmpty }

    public func contains(_ id: [UInt8]) -> Bool { byID[id] != nil }

    /// Admits an envelope whose signature was already checked, if it can still be included in
    /// the block at `nextHeight` built at about `now` (Unix milliseconds).
    public mutating func add(_ envelope: TransactionEnvelope, nextHeight: UInt64, now: UInt64) -> Admission {
        let id = envelope.id
        if byID[id] != nil { return .duplicate }
        if Self.isExpired(envelope, height: nextHeight, now: now) { return .expired }
        let size = envelope.signedBytes.count + envelope.signature.count
        if byID.count >= limits.mempoolTransactionsMax || bytes + size > limits.mempoolBytesMax {
            return .full("the chain's mempool is full (\(byID.count) transactions, \(bytes) bytes)")
        }
        if (queues[envelope.signer]?.count ?? 0) >= limits.mempoolPerSignerMax {
            return .full("this signer has \(limits.mempoolPerSignerMax) transactions waiting")
        }
        byID[id] = envelope
        if queues[envelope.signer] == nil { signerOrder.append(envelope.signer) }
        queues[envelope.signer, default: []].append(envelope)
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
    public mutating func batch(maxCount: Int, maxBytes: Int, height: UInt64, now: UInt64) -> [TransactionEnvelope] {
        dropExpired(height: height, now: now)
        var taken: [TransactionEnvelope] = []
        var size = 0
        var cursors: [[UInt8]: Int] = [:]
        guard !signerOrder.isEmpty else { return [] }
        var exhausted = 0
        var index = nextSigner % signerOrder.count
        while taken.count < maxCount, exhausted < signerOrder.count {
            let signer = signerOrder[index]
            let position = cursors[signer, default: 0]
            if let queue = queues[signer], position < queue.count {
                let envelope = queue[position]
                let cost = envelope.signedBytes.count + envelope.signature.count
                if size + cost > maxBytes { break }
                taken.append(envelope)
                size += cost
                cursors[signer] = position + 1
                exhausted = 0
            } else {
                exhausted += 1
            }
            index = (index + 1) % signerOrder.count
        }
        nextSigner = index
        return taken
    }

    /// Removes transactions (committed in a block) by id.
    public mutating func remove(_ ids: some Sequence<[UInt8]>) {
        for id in ids {
            guard let envelope = byID.removeValue(forKey: id) else { continue }
            bytes -= envelope.signedBytes.count + envelope.signature.count
            queues[envelope.signer]?.removeAll { $0.id == id }
            if queues[envelope.signer]?.isEmpty == true {
                queues[envelope.signer] = nil
                signerOrder.removeAll { $0 == envelope.signer }
            }
        }
    }

    /// Drops what can no longer be included at `height`; returns their ids.
    @discardableResult
    public mutating func dropExpired(height: UInt64, now: UInt64) -> [[UInt8]] {
        let expired = byID.filter { Self.isExpired($0.value, height: height, now: now) }.map(\.key)
        remove(expired)
        return expired
    }
}
