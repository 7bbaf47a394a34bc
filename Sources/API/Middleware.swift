internal import Synchronization
public import Dispatch

/// Cross-origin settings for browser front ends.
public struct CORSConfiguration: Sendable {
    /// Allowed origins (`https://app.example`), or `*` for any.
    public var allowedOrigins: [String]
    /// Request fields a browser may send.
    public var allowedHeaders = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "Last-Event-ID"]
    /// Response fields a browser may read.
    public var exposedHeaders = ["X-Request-Id", "Location", "Retry-After"]
    /// How long a browser may cache a preflight answer, in seconds.
    public var maxAgeSeconds = 600

    public init(allowedOrigins: [String]) { self.allowedOrigins = allowedOrigins }

    func allows(_ origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin)
    }
}

/// Decides whether a request may proceed; the hook where tenant quotas plug in.
public protocol RateLimiter: Sendable {
    /// Whether one more request under `key` is allowed now; if not, seconds until it would be.
    func admit(key: String) -> (allowed: Bool, retryAfterSeconds: Int)
}

/// A token bucket per key: `ratePerSecond` sustained, bursts up to `burst`. Keys are bounded:
/// when `keysMax` is reached the fullest buckets are forgotten first.
public final class TokenBucketRateLimiter: RateLimiter {
    private struct Bucket { var tokens: Double; var updated: Double }
    private let rate: Double
    private let burst: Double
    private let keysMax: Int
    private let now: @Sendable () -> Double
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(ratePerSecond: Double, burst: Double, keysMax: Int = 100_000,
                now: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }) {
        self.rate = ratePerSecond
        self.burst = burst
        self.keysMax = keysMax
        self.now = now
    }

    public func admit(key: String) -> (allowed: Bool, retryAfterSeconds: Int) {
        admit(key: key, ratePerSecond: rate, burst: burst)
    }

    /// `admit` with the rate and burst of this key (per-tenant quotas).
    public func admit(key: String, ratePerSecond rate: Double, burst: Double) -> (allowed: Bool, retryAfterSeconds: Int) {
        let time = now()
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: time)
            bucket.tokens = min(burst, bucket.tokens + (time - bucket.updated) * rate)
            bucket.updated = time
            defer {
                if buckets.count >= keysMax && buckets[key] == nil {
                    let full = buckets.filter { $0.value.tokens >= burst }.keys.prefix(max(1, keysMax / 10))
                    for stale in full { buckets[stale] = nil }
                }
                buckets[key] = bucket
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return (true, 0)
            }
            return (false, max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))))
        }
    }
}
