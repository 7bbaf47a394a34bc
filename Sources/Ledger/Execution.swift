public import Crypto
public import HanseCore
internal import Synchronization

/// A key of contract state.
public struct StateKey: Sendable, Hashable, Comparable {
    public var contract: String
    public var key: [UInt8]
    public init(contract: String, key: [UInt8]) {
        self.contract = contract
        self.key = key
    }
    public static func < (lhs: StateKey, rhs: StateKey) -> Bool {
        lhs.contract != rhs.contract ? lhs.contract < rhs.contract : lhs.key.lexicographicallyPrecedes(rhs.key)
    }
}

/// The committed world state as a block's execution sees it: the state after the previous block.
/// Implementations read it from storage; the executor layers the block's own writes on top.
public protocol WorldState: Sendable {
    /// The current value of a key, or nil.
    func value(of key: StateKey) throws -> [UInt8]?
    /// Up to `limit` entries of `contract` whose keys start with `prefix` and sort after
    /// `startAfter` (when given), in ascending key order.
    func scan(contract: String, prefix: [UInt8], startAfter: [UInt8]?, limit: Int) throws -> [(key: [UInt8], value: [UInt8])]
    /// The current values of `keys` (missing keys are absent from the answer). Storage-backed
    /// states answer in one round trip; the default reads key by key.
    func values(of keys: [StateKey]) throws -> [StateKey: [UInt8]]
}

extension WorldState {
    public func values(of keys: [StateKey]) throws -> [StateKey: [UInt8]] {
        var found: [StateKey: [UInt8]] = [:]
        for key in keys { if let value = try value(of: key) { found[key] = value } }
        return found
    }
}

/// What a block's execution may know about the block: the same on every validator.
public struct BlockContext: Sendable, Equatable {
    public var chainID: String
    public var height: UInt64
    public var timestampMilliseconds: UInt64
    public init(chainID: String, height: UInt64, timestampMilliseconds: UInt64) {
        self.chainID = chainID
        self.height = height
        self.timestampMilliseconds = timestampMilliseconds
    }
}

/// Runs the transactions of a block against the world state, in order, each seeing the writes of
/// those before it. A failed transaction yields a failed receipt with no writes and no events;
/// only a storage failure is thrown (the block cannot be built then).
public protocol TransactionExecutor: Sendable {
    func execute(_ transactions: [TransactionEnvelope], in block: BlockContext, state: any WorldState) throws -> [ExecutedTransaction]
}

extension TransactionEnvelope {
    /// The signer's address: the first 20 bytes of SHA-256(algorithm ‖ 0x00 ‖ raw public key), in
    /// lower-case hex. Contracts see it as the caller; roles are granted to it (docs/contracts.md).
    public var signerAddress: String { Self.address(algorithm: algorithm, publicKey: signer) }

    public static func address(algorithm: SignatureAlgorithm, publicKey: [UInt8]) -> String {
        let input = Array(algorithm.rawValue.utf8) + [0] + publicKey
        // A block and the answers to its waiters ask for the same few signers' addresses many
        // times: remembered, up to a bound.
        if let known = addresses.withLock({ $0[input] }) { return known }
        let address = Hex.encode(Array(SHA256.hash(input).prefix(20)))
        addresses.withLock { cache in
            if cache.count >= 4096 { cache.removeAll(keepingCapacity: true) }
            cache[input] = address
        }
        return address
    }
}

private let addresses = Mutex<[[UInt8]: String]>([:])
