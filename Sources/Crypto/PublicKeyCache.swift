internal import Synchronization

/// Parsed public keys by signer, because parsing a key costs more than verifying with it.
/// Bounded: when full, the oldest half is forgotten.
public final class PublicKeyCache: Sendable {
    private struct Key: Hashable {
        let algorithm: SignatureAlgorithm
        let raw: [UInt8]

        /// All bytes in one call (the synthesized hash feeds the hasher one byte at a time); all
        /// of them, because keys reach the cache before their signatures are checked.
        func hash(into hasher: inout Hasher) {
            hasher.combine(algorithm)
            raw.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
    private struct State { var keys: [Key: (PublicKey, UInt64)] = [:]; var clock: UInt64 = 0 }
    private let state = Mutex(State())
    private let capacity: Int

    /// A cache of at most `capacity` keys.
    public init(capacity: Int = 10_000) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// The parsed key, from the cache or parsed now.
    public func key(algorithm: SignatureAlgorithm, raw: [UInt8]) throws -> PublicKey {
        let lookup = Key(algorithm: algorithm, raw: raw)
        if let cached = state.withLock({ state -> PublicKey? in
            state.clock += 1
            guard let entry = state.keys[lookup] else { return nil }
            state.keys[lookup] = (entry.0, state.clock)
            return entry.0
        }) { return cached }
        let parsed = try PublicKey(algorithm: algorithm, raw: raw)
        state.withLock { state in
            if state.keys.count >= capacity {
                let cutoff = state.keys.values.map(\.1).sorted()[state.keys.count / 2]
                state.keys = state.keys.filter { $0.value.1 > cutoff }
            }
            state.clock += 1
            state.keys[lookup] = (parsed, state.clock)
        }
        return parsed
    }

    /// Keys held.
    public var count: Int { state.withLock { $0.keys.count } }
}
