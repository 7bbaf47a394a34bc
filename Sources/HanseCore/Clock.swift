/// A source of time, injected so that state machines and timeouts can be tested with a manual clock.
///
/// `now` is monotonic and measured from an arbitrary origin; `wallMilliseconds` is Unix time for
/// timestamps that leave the process (block headers, logs).
public protocol HanseClock: Sendable {
    /// Monotonic time since an arbitrary origin.
    var now: Duration { get }
    /// Milliseconds since 1970-01-01T00:00:00Z.
    var wallMilliseconds: Int64 { get }
}

/// A source of random bytes, injected so that simulations are reproducible from a seed.
public protocol RandomSource: Sendable {
    /// Fills `count` bytes with randomness.
    func bytes(_ count: Int) -> [UInt8]
}

/// A deterministic generator (SplitMix64) for tests and simulations. Not for keys or tokens.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
