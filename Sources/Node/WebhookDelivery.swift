public import API
internal import Crypto
internal import Dispatch
internal import Foundation
public import HanseCore
internal import HTTPClient
public import Logging
public import PostgresStorage
internal import Synchronization

/// How webhooks are delivered (docs/events.md).
public struct WebhookSettings: Sendable {
    /// Which targets may be contacted (SSRF protection; `allowPrivate` for loopback receivers).
    public var policy = WebhookTargetPolicy()
    public var resolver: any HostResolver = SystemResolver()
    /// One attempt's limit: connect, send, and the whole response.
    public var timeout: Duration = .seconds(10)
    /// A response body larger than this fails the attempt (only the status counts).
    public var responseBytesMax = 64 * 1024
    /// Subscriptions delivered to at the same time (each one in order, one request at a time).
    public var concurrency = 16
    /// How often the outbox is checked for deliveries that are due (commits also wake it).
    public var sweepInterval: Duration = .seconds(1)
    /// Retry n waits about `backoffBase * 2^(n-1)`, at most `backoffMax`, with ±20 % jitter.
    public var backoffBase: Duration = .seconds(1)
    public var backoffMax: Duration = .seconds(600)
    /// Defaults of new subscriptions.
    public var maxAttemptsDefault = 30
    public var maxAgeSecondsDefault = 86_400
    /// Delivered deliveries (and their attempts) are kept this long for the delivery log.
    public var retention: Duration = .seconds(7 * 86_400)
    /// Deliveries read per query.
    public var batch = 200
    /// Successful deliveries recorded together: a node killed mid-batch sends at most this many
    /// again per subscription (besides the one in flight).
    public var deliveredFlush = 32
    public init() {}
}

/// The delivery worker: takes due deliveries from the outbox (`platform.webhook_deliveries`),
/// one subscription at a time in event order, and posts each event to the subscription's URL,
/// signed, to the address it validated. At least once: a delivery is marked delivered only after
/// a 2xx answer, so a node killed mid-request sends it again after restart.
public final class WebhookDispatcher: @unchecked Sendable {
    let settings: WebhookSettings
    private let pool: PostgresPool
    private let vault: KeyVault
    private let clock: any HanseClock
    private let logger: Logger
    private let queue = DispatchQueue(label: "hanse.webhooks", attributes: .concurrent)
    private let sweeping = DispatchQueue(label: "hanse.webhooks.sweep")
    private var timer: (any DispatchSourceTimer)?
    /// Subscriptions with a runner at work.
    private let running = Mutex<Set<String>>([])
    /// Bumped when a subscription changes on this node (paused, deleted, new URL): a runner that
    /// started before stops before its next request.
    private let revisions = Mutex<[String: UInt64]>([:])
    private let wakePending = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let lastPrune = Atomic<Int64>(0)
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public init(pool: PostgresPool, vault: KeyVault, clock: any HanseClock, settings: WebhookSettings, logger: Logger) {
        self.pool = pool
        self.vault = vault
        self.clock = clock
        self.settings = settings
        self.logger = logger
    }

    public func start() {
        let timer = DispatchSource.makeTimerSource(queue: sweeping)
        let interval = DispatchTimeInterval.milliseconds(max(1, Int(settings.sweepInterval.wholeMilliseconds)))
        timer.schedule(deadline: .now(), repeating: interval)
        timer.setEventHandler { [weak self] in self?.sweep() }
        timer.resume()
        self.timer = timer
    }

    /// Stops taking deliveries; attempts under way finish (their outcome is recorded).
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        timer?.cancel()
        let deadline = DispatchTime.now() + .milliseconds(Int(settings.timeout.wholeMilliseconds) + 1000)
        while !running.withLock({ $0.isEmpty }) && DispatchTime.now() < deadline { usleep(10_000) }
    }

    /// A block was committed: look for due deliveries now rather than at the next sweep.
    public func wake() {
        guard !wakePending.exchange(true, ordering: .relaxed) else { return }
        sweeping.async { [self] in
            wakePending.store(false, ordering: .relaxed)
            sweep()
        }
    }

    /// A subscription was changed or deleted: runners at work on it stop before their next request.
    public func changed(_ id: String) {
        revisions.withLock { revisions in
            if revisions.count > 100_000 { revisions.removeAll() }
            revisions[id, default: 0] += 1
        }
    }

    private func revision(_ id: String) -> UInt64 { revisions.withLock { $0[id] ?? 0 } }

    // MARK: - Sweeping

    struct Subscription {
        var id: String
        var chain: String
        var schema: String
        var url: String
        var secret: [UInt8]
        var maxAttempts: Int
        var maxAgeMilliseconds: Int64
    }

    /// Starts a runner for every active subscription whose oldest pending delivery is due, the
    /// longest waiting first. A runner delivers one batch and gives its slot back.
    private func sweep() {
        guard !stopped.load(ordering: .relaxed) else { return }
        let now = clock.wallMilliseconds
        if now - lastPrune.load(ordering: .relaxed) > 600_000 {
            lastPrune.store(now, ordering: .relaxed)
            do {
                try prune(now: now)
            } catch {
                logger.warning("webhook log pruning failed", metadata: ["error": "\(error)"])
            }
        }
        let busy = running.withLock { $0 }
        guard busy.count < settings.concurrency else { return }
        // Taken before the rows are read: a change after this point stops the runner.
        let revisions = self.revisions.withLock { $0 }
        let rows: [PostgresRow]
        do {
            rows = try pool.withConnection { connection in
                try connection.query(sql: """
                    SELECT s.id::text, s.chain_id::text, c.schema_name, s.url, s.secret_wrapped, s.max_attempts, s.max_age_seconds, h.due
                    FROM platform.webhook_subscriptions s JOIN platform.chains c ON c.id = s.chain_id
                    CROSS JOIN LATERAL (SELECT d.next_attempt_ms AS due FROM platform.webhook_deliveries d
                                        WHERE d.subscription_id = s.id AND d.status = 'pending' ORDER BY d.event_seq LIMIT 1) h
                    WHERE s.state = 'active' AND h.due <= $1
                    ORDER BY h.due, s.id LIMIT $2
                    """, name: "platform.webhooks.due", [.int(now), .int(Int64(settings.concurrency + busy.count))]).rows
            }
        } catch {
            logger.warning("webhook sweep failed", metadata: ["error": "\(error)"])
            return
        }
        for row in rows {
            let subscription: Subscription
            do {
                let id: String = try row.decode(column: 0)
                guard !busy.contains(id) else { continue }
                subscription = Subscription(id: id, chain: try row.decode(column: 1), schema: try row.decode(column: 2), url: try row.decode(column: 3),
                                            secret: try vault.open(try row.decode(column: 4), purpose: "webhook:\(id)"),
                                            maxAttempts: try row.decode(column: 5), maxAgeMilliseconds: Int64(try row.decode(Int.self, column: 6)) * 1000)
            } catch {
                logger.error("webhook subscription cannot be read", metadata: ["error": "\(error)"])
                continue
            }
            let claimed = running.withLock { running in
                guard running.count < settings.concurrency, !running.contains(subscription.id) else { return false }
                running.insert(subscription.id)
                return true
            }
            guard claimed else { continue }
            queue.async { [self] in
                var more = false
                do {
                    more = try deliver(subscription, revision: revisions[subscription.id] ?? 0)
                } catch {
                    logger.warning("webhook delivery paused by an error", metadata: ["webhook": "\(subscription.id)", "error": "\(error)"])
                }
                running.withLock { _ = $0.remove(subscription.id) }
                if more { wake() }
            }
        }
    }

    private func prune(now: Int64) throws {
        try pool.withConnection { connection in
            _ = try connection.query(sql: """
                DELETE FROM platform.webhook_deliveries WHERE status = 'delivered' AND finished_ms < $1
                """, name: "platform.webhooks.prune", [.int(now - Int64(settings.retention.wholeMilliseconds))])
        }
    }

    // MARK: - Delivering one subscription, in order

    struct Delivery {
        var id: Int64
        var attempts: Int
        var nextAttempt: Int64
        var ageFrom: Int64
        var event: EventView
    }

    /// Delivers the next batch of the subscription's pending deliveries in event order, until one
    /// fails (it waits for its retry; the ones behind it wait too) or the subscription changes.
    /// Returns true when a whole batch went out and more may be waiting.
    private func deliver(_ subscription: Subscription, revision: UInt64) throws -> Bool {
        guard try isActive(subscription.id) else { return false }
        let batch = try pending(subscription)
        guard !batch.isEmpty else { return false }
        // One lookup per batch; every attempt of the batch connects to the addresses checked here.
        let target: (target: WebhookTarget, addresses: [IPAddress])?
        var denial: String?
        do {
            target = try settings.policy.validate(subscription.url, resolver: settings.resolver)
        } catch {
            target = nil
            denial = "target refused: \(error)"
        }
        // One session per batch: its connection to the receiver is reused while the receiver keeps it open.
        let session = try HTTPClient.Session()
        // Successes are recorded a few at a time (one transaction for several); whatever leaves
        // this function, they are recorded first.
        var delivered: [(id: Int64, attempt: Attempt, status: Int)] = []
        defer { try? flush(&delivered) }
        for delivery in batch {
            guard !stopped.load(ordering: .relaxed), self.revision(subscription.id) == revision else { return false }
            let now = clock.wallMilliseconds
            guard delivery.nextAttempt <= now else { return false }
            if now - delivery.ageFrom > subscription.maxAgeMilliseconds {
                try finish(delivery, dead: true, attempt: nil, status: nil, error: "older than the subscription's max_age_seconds", now: now)
                continue
            }
            let started = DispatchTime.now()
            var status: Int?
            var error = denial
            if let target {
                do {
                    status = try post(delivery, subscription: subscription, to: target.target, addresses: target.addresses,
                                      attempt: delivery.attempts + 1, session: session)
                    if let code = status, !(200...299).contains(code) { error = "the receiver answered \(code)" }
                } catch let failure {
                    error = "\(failure)"
                }
            }
            let elapsed = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
            let attempt = Attempt(number: delivery.attempts + 1, at: now, duration: elapsed)
            if error == nil {
                delivered.append((delivery.id, attempt, status ?? 200))
                if delivered.count >= settings.deliveredFlush { try flush(&delivered) }
                continue
            }
            try flush(&delivered)
            if attempt.number >= subscription.maxAttempts {
                try finish(delivery, dead: true, attempt: attempt, status: status, error: error, now: clock.wallMilliseconds)
                continue
            }
            try retry(delivery, attempt: attempt, status: status, error: error ?? "", at: clock.wallMilliseconds + backoff(after: attempt.number))
            return false
        }
        try flush(&delivered)
        return batch.count == settings.batch
    }

    /// Records deliveries answered with a 2xx, with their attempts, in one statement.
    private func flush(_ delivered: inout [(id: Int64, attempt: Attempt, status: Int)]) throws {
        guard !delivered.isEmpty else { return }
        let list = { (values: [String]) in PostgresValue.text("{" + values.joined(separator: ",") + "}") }
        let now = clock.wallMilliseconds
        try pool.withConnection { connection in
            _ = try connection.query(sql: """
                WITH d AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::bigint[], $5::int[]) AS t(id, attempt, status, at_ms, duration_ms)),
                updated AS (
                    UPDATE platform.webhook_deliveries w SET status = 'delivered', attempts = d.attempt, last_status = d.status, last_error = NULL,
                        finished_ms = $6
                    FROM d WHERE w.id = d.id AND w.status = 'pending' RETURNING w.id)
                INSERT INTO platform.webhook_attempts (delivery_id, attempt, at_ms, duration_ms, status)
                SELECT d.id, d.attempt, d.at_ms, d.duration_ms, d.status FROM d JOIN updated u ON u.id = d.id ORDER BY d.id
                """, name: "platform.webhooks.delivered",
                [list(delivered.map { String($0.id) }), list(delivered.map { String($0.attempt.number) }), list(delivered.map { String($0.status) }),
                 list(delivered.map { String($0.attempt.at) }), list(delivered.map { String($0.attempt.duration) }), .int(now)])
        }
        delivered.removeAll()
    }

    private func isActive(_ id: String) throws -> Bool {
        try pool.withConnection { connection in
            try connection.query(sql: "SELECT 1 FROM platform.webhook_subscriptions WHERE id = $1::uuid AND state = 'active'",
                                 name: "platform.webhooks.active", [.text(id)]).first != nil
        }
    }

    private func pending(_ subscription: Subscription) throws -> [Delivery] {
        try pool.withConnection { connection in
            try connection.query(sql: """
                SELECT d.id, d.attempts, d.next_attempt_ms, d.age_from_ms, e.seq, e.height, e.tx_index, e.event_index, e.contract, e.topic, e.data
                FROM platform.webhook_deliveries d JOIN \(subscription.schema).events e ON e.seq = d.event_seq
                WHERE d.subscription_id = $1::uuid AND d.status = 'pending' ORDER BY d.event_seq LIMIT $2
                """, name: "platform.webhooks.pending.\(subscription.schema)", [.text(subscription.id), .int(settings.batch)]).rows.map { row in
                Delivery(id: try row.decode(column: 0), attempts: try row.decode(column: 1), nextAttempt: try row.decode(column: 2),
                         ageFrom: try row.decode(column: 3),
                         event: EventView(chain: subscription.chain, seq: try row.decode(column: 4), height: UInt64(try row.decode(Int64.self, column: 5)),
                                          txIndex: try row.decode(column: 6), eventIndex: try row.decode(column: 7), contract: try row.decode(column: 8),
                                          topic: try row.decode(column: 9), bytes: try row.decode(column: 10)))
            }
        }
    }

    struct Body: Encodable {
        var webhookId: String
        var deliveryId: String
        var chain: String
        var event: EventView
    }

    /// One POST; the receiver's status, or an error when it did not answer.
    private func post(_ delivery: Delivery, subscription: Subscription, to target: WebhookTarget, addresses: [IPAddress], attempt: Int,
                      session: HTTPClient.Session) throws -> Int {
        let body = [UInt8](try encoder.encode(Body(webhookId: subscription.id, deliveryId: String(delivery.id), chain: subscription.chain,
                                                   event: delivery.event)))
        let timestamp = String(clock.wallMilliseconds / 1000)
        let signature = Self.signature(secret: subscription.secret, timestamp: timestamp, body: body)
        // A name connects to the addresses validated for it (no second lookup); a literal address
        // needs no lookup at all.
        let pinned = target.literal != nil ? [] : ["\(target.host):\(target.port):" + addresses.map { $0.isIPv6 ? "[\($0)]" : "\($0)" }.joined(separator: ",")]
        let response = try session.perform("POST", target.url, headers: [
            ("Content-Type", "application/json"),
            ("User-Agent", "Hanse-Webhooks/\(HanseVersion.current)"),
            ("Hanse-Webhook-Id", subscription.id),
            ("Hanse-Delivery-Id", String(delivery.id)),
            ("Hanse-Event-Id", delivery.event.id ?? ""),
            ("Hanse-Event-Seq", String(delivery.event.seq ?? 0)),
            ("Hanse-Attempt", String(attempt)),
            ("Hanse-Timestamp", timestamp),
            ("Hanse-Signature", "v1=" + signature),
        ], body: body, timeout: settings.timeout, responseBytesMax: settings.responseBytesMax, pinned: pinned, direct: true)
        return response.status
    }

    /// `Hanse-Signature`'s value after `v1=`: HMAC-SHA256 under the secret of `timestamp` "." body, in hex.
    public static func signature(secret: [UInt8], timestamp: String, body: [UInt8]) -> String {
        Hex.encode(HMACSHA256.tag(key: secret, message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body))
    }

    struct Attempt {
        var number: Int
        var at: Int64
        var duration: Int
    }

    /// Records the outcome of `delivery` (delivered, or dead) with its attempt in the log, in one statement.
    private func finish(_ delivery: Delivery, dead: Bool, attempt: Attempt?, status: Int?, error: String?, now: Int64) throws {
        try record(delivery, set: "status = $7, finished_ms = $8", name: "finish", attempt: attempt, status: status, error: error,
                   extra: [.text(dead ? "dead" : "delivered"), .int(now)])
    }

    /// Records a failed attempt of `delivery`, due again at `next`.
    private func retry(_ delivery: Delivery, attempt: Attempt, status: Int?, error: String, at next: Int64) throws {
        try record(delivery, set: "next_attempt_ms = $7", name: "retry", attempt: attempt, status: status, error: error, extra: [.int(next)])
    }

    private func record(_ delivery: Delivery, set: String, name: String, attempt: Attempt?, status: Int?, error: String?,
                        extra: [PostgresValue]) throws {
        let error = error.map { PostgresValue.text(String($0.prefix(1000))) } ?? .null
        let status = status.map { PostgresValue.int(Int64($0)) } ?? .null
        try pool.withConnection { connection in
            _ = try connection.query(sql: """
                WITH updated AS (
                    UPDATE platform.webhook_deliveries SET attempts = $2, last_status = $3, last_error = $4, \(set)
                    WHERE id = $1 AND status = 'pending' RETURNING id)
                INSERT INTO platform.webhook_attempts (delivery_id, attempt, at_ms, duration_ms, status, error)
                SELECT id, $2, $5, $6, $3, $4 FROM updated WHERE $6 >= 0
                """, name: "platform.webhooks.\(name)",
                [.int(delivery.id), .int(Int64(attempt?.number ?? delivery.attempts)), status, error, .int(attempt?.at ?? 0),
                 .int(Int64(attempt?.duration ?? -1))] + extra)
        }
    }

    /// Milliseconds to wait after failed attempt `attempt`: exponential, capped, with ±20 % jitter.
    func backoff(after attempt: Int) -> Int64 {
        let base = Double(settings.backoffBase.wholeMilliseconds)
        let capped = min(Double(settings.backoffMax.wholeMilliseconds), base * pow(2, Double(min(attempt - 1, 40))))
        return max(1, Int64(capped * Double.random(in: 0.8...1.2)))
    }
}
