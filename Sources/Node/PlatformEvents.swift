public import API
internal import Crypto
internal import Foundation
public import HTTPServer
internal import HanseCore
internal import Ledger
public import PostgresStorage

/// Largest number of webhook subscriptions on one chain.
let webhooksPerChainMax = 50

extension Platform: EventService {
    // MARK: - The outbox, written with the block

    /// The commit hooks of `chain`'s worker: inside the block's transaction, the tenant's usage
    /// (transactions, gas) and one outbox row per (subscription, matching event); after it, live
    /// streams read on and the delivery worker wakes.
    func commitHooks(chain: String, schema: String, tenant: String) -> ChainCommitHooks {
        ChainCommitHooks(withinCommit: { connection, block, events in
            try Self.countUsage(tenant: tenant, block: block, on: connection)
            try Self.writeOutbox(chain: chain, schema: schema, blockTime: Int64(block.header.timestamp), events: events, on: connection)
        }, afterCommit: { [weak self] _, _ in
            self?.streams.committed(chain: chain)
            self?.webhooks.wake()
        })
    }

    /// Inside the block's transaction: the block's transactions and gas, added to the tenant's
    /// usage of the day (UTC).
    static func countUsage(tenant: String, block: CommittedBlock, on connection: PostgresConnection) throws {
        guard !block.transactions.isEmpty else { return }
        let gas = block.transactions.reduce(UInt64(0)) { $0 &+ $1.receipt.gasUsed }
        _ = try connection.query(sql: """
            INSERT INTO platform.usage (tenant_id, day, txs, gas) VALUES ($1::uuid, (now() AT TIME ZONE 'UTC')::date, $2, $3)
            ON CONFLICT (tenant_id, day) DO UPDATE SET txs = usage.txs + EXCLUDED.txs, gas = usage.gas + EXCLUDED.gas
            """, name: "platform.usage.block", [.text(tenant), .int(Int64(block.transactions.count)), .int(Int64(min(gas, UInt64(Int64.max))))])
    }

    /// Inside the block's transaction: one outbox row per (subscription, matching event). The
    /// shared lock orders the block against subscriptions being created on the chain (they take
    /// it exclusively), so a subscription whose creation returned before this block committed
    /// gets its events; `FOR KEY SHARE` keeps a subscription being deleted from failing the block.
    static func writeOutbox(chain: String, schema: String, blockTime: Int64, events: Range<Int64>, on connection: PostgresConnection) throws {
        _ = try connection.query(sql: "SELECT pg_advisory_xact_lock_shared(hashtext('webhooks:' || $1))",
                                 name: "platform.webhooks.outbox_lock", [.text(chain)])
        _ = try connection.query(sql: """
            INSERT INTO platform.webhook_deliveries (subscription_id, event_seq, event_height, age_from_ms)
            SELECT s.id, e.seq, e.height, $3
            FROM (SELECT id, contract, topic, kind FROM platform.webhook_subscriptions WHERE chain_id = $4::uuid FOR KEY SHARE) s
            JOIN \(schema).events e
              ON e.seq >= $1 AND e.seq < $2 AND (s.contract IS NULL OR s.contract = e.contract)
             AND (s.topic IS NULL OR s.topic = e.topic) AND (s.kind IS NULL OR s.kind = e.kind)
            ORDER BY s.id, e.seq
            """, name: "platform.webhooks.outbox.\(schema)", [.int(events.lowerBound), .int(events.upperBound), .int(blockTime), .text(chain)])
    }

    // MARK: - Live streams

    public func openEventStream(tenant: String, chain: String, _ request: EventStreamRequest) throws -> @Sendable (any HTTPStreamWriter) -> Void {
        let record = try chainRecord(tenant: tenant, id: chain)
        guard record.status != "provisioning" && record.status != "failed" else { throw APIError.conflict("chain \(record.id) has no ledger yet") }
        try streams.checkCapacity(tenant: tenant)
        let cursor: Int64
        if let after = request.afterSeq {
            cursor = after
        } else {
            cursor = try pool.withConnection { connection in
                try connection.query(sql: "SELECT coalesce(max(seq), -1) FROM \(record.schema).events WHERE height < $1",
                                     name: "chain.events.start.\(record.schema)",
                                     [.int(Int64(min(request.fromHeight ?? UInt64(Int64.max), UInt64(Int64.max))))]).first!.decode(Int64.self, column: 0)
            }
        }
        let streams = self.streams
        return { writer in
            streams.attach(tenant: tenant, chain: record.id, schema: record.schema, filter: request.filter, cursor: cursor, writer: writer)
        }
    }

    // MARK: - Webhook subscriptions

    static let webhookColumns = """
        s.id::text, s.chain_id::text, s.url, s.description, s.contract, s.topic, s.kind, s.state, s.max_attempts, s.max_age_seconds,
        \(iso("s.created_at")),
        (SELECT count(*) FROM platform.webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending'),
        (SELECT count(*) FROM platform.webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'delivered'),
        (SELECT count(*) FROM platform.webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'dead')
        """

    static func webhookView(_ row: PostgresRow) throws -> WebhookView {
        WebhookView(id: try row.decode(column: 0), chain: try row.decode(column: 1), url: try row.decode(column: 2), description: try row.decode(column: 3),
                    filter: EventFilter(contract: try row.decode(column: 4), topic: try row.decode(column: 5), kind: try row.decode(column: 6)),
                    state: try row.decode(column: 7), maxAttempts: try row.decode(column: 8), maxAgeSeconds: try row.decode(column: 9),
                    createdAt: try row.decode(column: 10),
                    deliveries: WebhookCounts(pending: try row.decode(column: 11), delivered: try row.decode(column: 12), dead: try row.decode(column: 13)))
    }

    /// The URL when the policy lets the platform send to it; else a 422 naming why.
    func checkedWebhookURL(_ url: String) throws -> String {
        do {
            return try webhooks.settings.policy.validate(url, resolver: webhooks.settings.resolver).target.url
        } catch {
            throw APIError.unprocessable("url: \(error)", field: "url")
        }
    }

    func checkRetryLimits(maxAttempts: Int?, maxAgeSeconds: Int?) throws {
        if let maxAttempts, !(1...100).contains(maxAttempts) { throw APIError.badRequest("max_attempts must be 1 to 100", field: "max_attempts") }
        if let maxAgeSeconds, !(60...604_800).contains(maxAgeSeconds) {
            throw APIError.badRequest("max_age_seconds must be 60 to 604800 (7 days)", field: "max_age_seconds")
        }
    }

    public func createWebhook(tenant: String, chain: String, _ request: CreateWebhookRequest) throws -> CreatedWebhook {
        let record = try chainRecord(tenant: tenant, id: chain)
        guard record.status != "archived" else { throw APIError.conflict("chain \(record.id) is archived") }
        if let description = request.description, description.unicodeScalars.count > 200 { throw APIError.badRequest("description is at most 200 characters", field: "description") }
        if let contract = request.contract, !(1...64).contains(contract.utf8.count) { throw APIError.badRequest("contract must be 1 to 64 characters", field: "contract") }
        if let topic = request.topic, !(1...128).contains(topic.utf8.count) { throw APIError.badRequest("topic must be 1 to 128 characters", field: "topic") }
        if let kind = request.kind, kind != "contract" && kind != "block" { throw APIError.badRequest("kind must be contract or block", field: "kind") }
        try checkRetryLimits(maxAttempts: request.maxAttempts, maxAgeSeconds: request.maxAgeSeconds)
        let secret: String
        if let given = request.secret {
            guard (16...256).contains(given.utf8.count), given.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw APIError.badRequest("secret must be 16 to 256 printable ASCII characters without spaces", field: "secret")
            }
            secret = given
        } else {
            secret = "whsec_" + Hex.encode(SecureRandom().bytes(32))
        }
        let url = try checkedWebhookURL(request.url)
        let id = Self.newID()
        let wrapped = try vault.seal(Array(secret.utf8), purpose: "webhook:\(id)")
        let view = try pool.transaction { connection in
            // Exclusive against block commits of the chain (their outbox step) and other creations.
            _ = try connection.query(sql: "SELECT pg_advisory_xact_lock(hashtext('webhooks:' || $1))",
                                     name: "platform.webhooks.create_lock", [.text(record.id)])
            let existing = try connection.query(sql: """
                SELECT count(*) FROM platform.webhook_subscriptions WHERE chain_id = $1::uuid
                """, name: "platform.webhooks.count", [.text(record.id)]).first!.decode(Int.self, column: 0)
            guard existing < webhooksPerChainMax else {
                throw APIError.quotaExceeded("a chain has at most \(webhooksPerChainMax) webhook subscriptions")
            }
            _ = try connection.query(sql: """
                INSERT INTO platform.webhook_subscriptions (id, tenant_id, chain_id, url, secret_wrapped, description, contract, topic, kind,
                                                            max_attempts, max_age_seconds)
                VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11)
                """, name: "platform.webhooks.insert",
                [.text(id), .text(tenant), .text(record.id), .text(url), .bytea(wrapped), .text(request.description ?? ""),
                 request.contract.map { .text($0) } ?? .null, request.topic.map { .text($0) } ?? .null, request.kind.map { .text($0) } ?? .null,
                 .int(Int64(request.maxAttempts ?? webhooks.settings.maxAttemptsDefault)),
                 .int(Int64(request.maxAgeSeconds ?? webhooks.settings.maxAgeSecondsDefault))])
            return try Self.webhookView(try connection.query(sql: "SELECT \(Self.webhookColumns) FROM platform.webhook_subscriptions s WHERE s.id = $1::uuid",
                                                            name: "platform.webhooks.get_new", [.text(id)]).first!)
        }
        return CreatedWebhook(webhook: view, secret: secret)
    }

    public func listWebhooks(tenant: String, chain: String, _ page: PageRequest) throws -> Page<WebhookView> {
        let record = try chainRecord(tenant: tenant, id: chain)
        let rows = try pool.withConnection { connection in
            try connection.query(sql: """
                SELECT \(Self.webhookColumns) FROM platform.webhook_subscriptions s
                WHERE s.tenant_id = $1::uuid AND s.chain_id = $2::uuid AND ($3::uuid IS NULL OR s.id > $3::uuid) ORDER BY s.id LIMIT $4
                """, name: "platform.webhooks.list", [.text(tenant), .text(record.id), try Self.uuidCursor(page.cursor), .int(page.limit + 1)]).rows
        }
        return try Self.page(rows, limit: page.limit, map: Self.webhookView, cursor: \.id)
    }

    /// The tenant's subscription on the chain, or 404 (another tenant's answers the same).
    func webhookRow(tenant: String, chain: String, id: String, on connection: PostgresConnection) throws -> PostgresRow {
        guard let chainID = Self.uuid(chain), let webhookID = Self.uuid(id), let row = try connection.query(sql: """
            SELECT \(Self.webhookColumns) FROM platform.webhook_subscriptions s WHERE s.id = $1::uuid AND s.tenant_id = $2::uuid AND s.chain_id = $3::uuid
            """, name: "platform.webhooks.get", [.text(webhookID), .text(tenant), .text(chainID)]).first else {
            throw APIError.notFound("webhook \(id) not found")
        }
        return row
    }

    public func webhook(tenant: String, chain: String, id: String) throws -> WebhookView {
        _ = try chainRecord(tenant: tenant, id: chain)
        return try pool.withConnection { connection in try Self.webhookView(try webhookRow(tenant: tenant, chain: chain, id: id, on: connection)) }
    }

    public func updateWebhook(tenant: String, chain: String, id: String, _ request: UpdateWebhookRequest) throws -> WebhookView {
        _ = try chainRecord(tenant: tenant, id: chain)
        if let state = request.state, state != "active" && state != "paused" { throw APIError.badRequest("state must be active or paused", field: "state") }
        if let description = request.description, description.unicodeScalars.count > 200 { throw APIError.badRequest("description is at most 200 characters", field: "description") }
        try checkRetryLimits(maxAttempts: request.maxAttempts, maxAgeSeconds: request.maxAgeSeconds)
        let url = try request.url.map(checkedWebhookURL)
        let view = try pool.transaction { connection in
            let current = try Self.webhookView(try webhookRow(tenant: tenant, chain: chain, id: id, on: connection))
            _ = try connection.query(sql: """
                UPDATE platform.webhook_subscriptions SET url = coalesce($2, url), description = coalesce($3, description), state = coalesce($4, state),
                    max_attempts = coalesce($5, max_attempts), max_age_seconds = coalesce($6, max_age_seconds), updated_at = now()
                WHERE id = $1::uuid
                """, name: "platform.webhooks.update",
                [.text(current.id), url.map { .text($0) } ?? .null, request.description.map { .text($0) } ?? .null, request.state.map { .text($0) } ?? .null,
                 request.maxAttempts.map { .int(Int64($0)) } ?? .null, request.maxAgeSeconds.map { .int(Int64($0)) } ?? .null])
            return try Self.webhookView(try webhookRow(tenant: tenant, chain: chain, id: id, on: connection))
        }
        webhooks.changed(view.id)
        if view.state == "active" { webhooks.wake() }
        return view
    }

    public func deleteWebhook(tenant: String, chain: String, id: String) throws {
        _ = try chainRecord(tenant: tenant, id: chain)
        try pool.transaction { connection in
            let current = try Self.webhookView(try webhookRow(tenant: tenant, chain: chain, id: id, on: connection))
            _ = try connection.query(sql: "DELETE FROM platform.webhook_subscriptions WHERE id = $1::uuid", name: "platform.webhooks.delete", [.text(current.id)])
            webhooks.changed(current.id)
        }
    }

    static let deliveryColumns = """
        d.id, d.event_seq, d.event_height, d.status, d.attempts, d.next_attempt_ms, d.last_status, d.last_error, d.finished_ms,
        e.tx_index, e.event_index
        """

    static func deliveryView(_ row: PostgresRow, chain: String) throws -> DeliveryView {
        let height = UInt64(try row.decode(Int64.self, column: 2))
        let status: String = try row.decode(column: 3)
        let txIndex: Int? = try row.decode(column: 9)
        let eventIndex: Int? = try row.decode(column: 10)
        let eventID = txIndex == -1 ? "\(chain):\(height):block" : "\(chain):\(height):\(txIndex ?? 0):\(eventIndex ?? 0)"
        return DeliveryView(id: String(try row.decode(Int64.self, column: 0)), eventId: eventID, eventSeq: try row.decode(column: 1), eventHeight: height,
                            status: status, attempts: try row.decode(column: 4),
                            nextAttemptAt: status == "pending" ? isoMilliseconds(try row.decode(column: 5)) : nil,
                            lastStatus: try row.decode(column: 6), lastError: try row.decode(column: 7),
                            finishedAt: (try row.decode(Int64?.self, column: 8)).map(isoMilliseconds))
    }

    public func deliveries(tenant: String, chain: String, webhook: String, status: String?, _ page: PageRequest) throws -> Page<DeliveryView> {
        let record = try chainRecord(tenant: tenant, id: chain)
        let after = page.cursor == nil ? 0 : try Self.integerCursor(page.cursor)
        let rows = try pool.withConnection { connection in
            let subscription = try Self.webhookView(try webhookRow(tenant: tenant, chain: chain, id: webhook, on: connection))
            return try connection.query(sql: """
                SELECT \(Self.deliveryColumns) FROM platform.webhook_deliveries d LEFT JOIN \(record.schema).events e ON e.seq = d.event_seq
                WHERE d.subscription_id = $1::uuid AND ($2::text IS NULL OR d.status = $2) AND d.id > $3 ORDER BY d.id LIMIT $4
                """, name: "platform.webhooks.deliveries.\(record.schema)",
                [.text(subscription.id), status.map { .text($0) } ?? .null, .int(after), .int(page.limit + 1)]).rows
        }
        return try Self.page(rows, limit: page.limit, map: { try Self.deliveryView($0, chain: record.id) }, cursor: \.id)
    }

    public func delivery(tenant: String, chain: String, webhook: String, id: String) throws -> DeliveryView {
        let record = try chainRecord(tenant: tenant, id: chain)
        guard let deliveryID = Int64(id), deliveryID > 0 else { throw APIError.notFound("delivery \(id) not found") }
        return try pool.withConnection { connection in
            let subscription = try Self.webhookView(try webhookRow(tenant: tenant, chain: chain, id: webhook, on: connection))
            guard let row = try connection.query(sql: """
                SELECT \(Self.deliveryColumns) FROM platform.webhook_deliveries d LEFT JOIN \(record.schema).events e ON e.seq = d.event_seq
                WHERE d.subscription_id = $1::uuid AND d.id = $2
                """, name: "platform.webhooks.delivery.\(record.schema)", [.text(subscription.id), .int(deliveryID)]).first else {
                throw APIError.notFound("delivery \(id) not found")
            }
            var view = try Self.deliveryView(row, chain: record.id)
            view.log = try connection.query(sql: """
                SELECT attempt, at_ms, duration_ms, status, error FROM platform.webhook_attempts WHERE delivery_id = $1 ORDER BY id
                """, name: "platform.webhooks.attempts", [.int(deliveryID)]).rows.map { row in
                DeliveryAttemptView(attempt: try row.decode(column: 0), at: isoMilliseconds(try row.decode(column: 1)), durationMs: try row.decode(column: 2),
                                    status: try row.decode(column: 3), error: try row.decode(column: 4))
            }
            return view
        }
    }

    public func redrive(tenant: String, chain: String, webhook: String, delivery: String?) throws -> RedriveView {
        _ = try chainRecord(tenant: tenant, id: chain)
        let deliveryID: Int64?
        if let delivery {
            guard let id = Int64(delivery), id > 0 else { throw APIError.notFound("delivery \(delivery) not found") }
            deliveryID = id
        } else {
            deliveryID = nil
        }
        let now = webhookClock.wallMilliseconds
        let count = try pool.transaction { connection in
            let subscription = try Self.webhookView(try webhookRow(tenant: tenant, chain: chain, id: webhook, on: connection))
            if let deliveryID {
                guard let status = try connection.query(sql: """
                    SELECT status FROM platform.webhook_deliveries WHERE subscription_id = $1::uuid AND id = $2
                    """, name: "platform.webhooks.delivery_status", [.text(subscription.id), .int(deliveryID)]).first?.decode(String.self, column: 0) else {
                    throw APIError.notFound("delivery \(deliveryID) not found")
                }
                guard status == "dead" else { throw APIError.conflict("delivery \(deliveryID) is \(status); only dead deliveries are redriven") }
            }
            return try connection.query(sql: """
                UPDATE platform.webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_ms = 0, age_from_ms = $3,
                    last_status = NULL, last_error = NULL, finished_ms = NULL
                WHERE subscription_id = $1::uuid AND status = 'dead' AND ($2::bigint IS NULL OR id = $2)
                RETURNING id
                """, name: "platform.webhooks.redrive", [.text(subscription.id), deliveryID.map { .int($0) } ?? .null, .int(now)]).rows.count
        }
        webhooks.wake()
        return RedriveView(redriven: count)
    }
}

/// An ISO 8601 UTC rendering of Unix milliseconds.
func isoMilliseconds(_ milliseconds: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}
