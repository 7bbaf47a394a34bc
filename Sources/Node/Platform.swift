public import API
public import Contracts
public import Crypto
internal import Dispatch
internal import Foundation
public import HanseCore
internal import Ledger
public import Logging
public import PostgresStorage
public import Storage
public import HTTPServer
internal import Synchronization

/// The node's platform: the catalogue in the `platform` schema (tenants, API keys, chains,
/// validators, identities, operations, audit log), the chains' workers, and every route's work
/// (`PlatformService`). Tenant-scoped reads and writes always filter by the caller's tenant, so
/// another tenant's resource is "not found" exactly like a missing one.
public final class Platform: PlatformService, @unchecked Sendable {
    let pool: PostgresPool
    let vault: KeyVault
    let limits: Limits
    let logger: Logger
    let runtime: ContractRuntime
    let chainMigrations: [Migration]
    let keyCache = PublicKeyCache()
    let provisioning: DispatchQueue
    let provisioningSlots: DispatchSemaphore
    /// Running chain workers by chain id.
    let workers = Mutex<[String: ChainWorker]>([:])
    /// Recently authenticated API keys (prefix -> entry), so that a request does not always cost a
    /// database round trip; entries live `keyCacheSeconds`, and a revoke on this node drops them.
    private let keyCacheEntries = Mutex<[String: (principal: Principal, hash: [UInt8], expires: UInt64)]>([:])
    static let keyCacheSeconds: UInt64 = 2
    /// Chain rows and revoked signer keys read on the transaction path, kept for `cacheMilliseconds`
    /// (changes made on this node drop them at once).
    let chainCache = Mutex<[String: (record: ChainRecord, expires: UInt64)]>([:])
    let refusedCache = Mutex<[String: (keys: [[UInt8]: String], expires: UInt64)]>([:])
    /// The ends of requests' waits for commits.
    let waitTimers = WaitTimers()
    /// The batched committed-id check of submissions, per chain.
    let committedLookups = Mutex<[String: BatchedLookup]>([:])
    static let cacheMilliseconds: UInt64 = 1_000
    /// Transactions per second per tenant (its quota), as token buckets with a burst of two seconds' worth.
    let transactionBuckets = TokenBucketRateLimiter(ratePerSecond: 1, burst: 1)
    let quotaCache = Mutex<[String: (perSecond: Int, expires: UInt64)]>([:])
    /// Storage used and allowed per tenant, measured at most every `storageCheckMilliseconds`.
    let storageCache = Mutex<[String: (used: Int64, quota: Int64, expires: UInt64)]>([:])
    static let storageCheckMilliseconds: UInt64 = 60_000

    /// Live event streams (Server-Sent Events) of every chain.
    public let streams: EventStreams
    /// The webhook delivery worker.
    public let webhooks: WebhookDispatcher
    /// Wall time for webhook retries and ages (a test moves it forward).
    let webhookClock: any HanseClock

    public init(pool: PostgresPool, vault: KeyVault, chainMigrations: [Migration], limits: Limits = Limits(),
                logger: Logger = Logger(label: "hanse.platform"), streams: EventStreams.Settings = EventStreams.Settings(),
                webhooks: WebhookSettings = WebhookSettings(), clock: any HanseClock = SystemClock()) {
        self.streams = EventStreams(pool: pool, settings: streams)
        self.webhooks = WebhookDispatcher(pool: pool, vault: vault, clock: clock, settings: webhooks, logger: logger)
        self.webhookClock = clock
        self.pool = pool
        self.vault = vault
        self.limits = limits
        self.logger = logger
        self.chainMigrations = chainMigrations
        self.runtime = ContractRuntime(limits: limits, keyCache: keyCache)
        self.provisioning = DispatchQueue(label: "hanse.provisioning", attributes: .concurrent)
        self.provisioningSlots = DispatchSemaphore(value: limits.provisioningConcurrentMax)
    }

    // MARK: - Start and stop

    /// Starts a worker for every running chain; finishes provisioning left half-done by a crash
    /// (marks it failed: the client provisions again).
    public func start() throws {
        try pool.withConnection { connection in
            _ = try connection.query(sql: """
                UPDATE platform.operations SET status = 'failed', error = 'the node stopped during provisioning', finished_at = now()
                WHERE status = 'running'
                """, name: "platform.ops.abandon")
            _ = try connection.query(sql: """
                UPDATE platform.chains SET status = 'failed', failure = 'the node stopped during provisioning', updated_at = now()
                WHERE status = 'provisioning'
                """, name: "platform.chains.abandon")
        }
        let running = try pool.withConnection { connection in
            try connection.query(sql: "SELECT id::text FROM platform.chains WHERE status = 'running' ORDER BY created_at",
                                 name: "platform.chains.running").rows.map { try $0.decode(String.self, column: 0) }
        }
        for id in running {
            do {
                try startWorker(chain: id)
            } catch {
                logger.error("chain did not start", metadata: ["chain": "\(id)", "error": "\(error)"])
            }
        }
        logger.info("chains started", metadata: ["running": "\(workers.withLock { $0.count })"])
        webhooks.start()
    }

    /// Ends the live streams, lets webhook attempts under way finish, and stops every worker
    /// (their mempools are dropped; committed blocks and the outbox are in PostgreSQL).
    public func stop() {
        streams.closeAll()
        webhooks.stop()
        let all = workers.withLock { workers in
            defer { workers = [:] }
            return Array(workers.values)
        }
        for worker in all { worker.stop() }
    }

    /// Chains with a worker on this node.
    public var runningChains: Int { workers.withLock { $0.count } }

    // MARK: - Authentication and audit

    /// API keys look like `hanse_<prefix>_<secret>`; the prefix (`hk` and 12 hex digits) finds
    /// the row, the SHA-256 of the whole key is compared in constant time.
    public func authenticate(apiKey presented: String) -> Principal? {
        guard presented.hasPrefix("hanse_"), presented.utf8.count < 200 else { return nil }
        let prefix = String(presented.dropFirst(6).prefix(14))
        guard prefix.utf8.count == 14 else { return nil }
        let hash = SHA256.hash(utf8: presented)
        let now = DispatchTime.now().uptimeNanoseconds / 1_000_000_000
        if let cached = keyCacheEntries.withLock({ $0[prefix] }), cached.expires > now {
            return constantTimeEquals(cached.hash, hash) ? cached.principal : nil
        }
        do {
            let row = try pool.withConnection { connection in
                try connection.query(sql: """
                    SELECT k.id::text, k.tenant_id::text, k.secret_hash, array_to_string(k.scopes, ',')
                    FROM platform.api_keys k JOIN platform.tenants t ON t.id = k.tenant_id
                    WHERE k.prefix = $1 AND k.revoked_at IS NULL AND t.status = 'active'
                    """, name: "platform.keys.auth", [.text(prefix)]).first
            }
            guard let row else { return nil }
            let stored: [UInt8] = try row.decode(column: 2)
            let scopes = try row.decode(String.self, column: 3).split(separator: ",").compactMap { Scope(rawValue: String($0)) }
            let principal = Principal.apiKey(tenant: try row.decode(String.self, column: 1), keyID: try row.decode(String.self, column: 0), scopes: scopes)
            keyCacheEntries.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[prefix] = (principal, stored, now + Self.keyCacheSeconds)
            }
            return constantTimeEquals(stored, hash) ? principal : nil
        } catch {
            logger.error("API key lookup failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Writes one audit-log row; never fails the request it records. Transaction submissions are
    /// not logged here: the ledger records each one, signed, with its signer.
    public func audit(_ context: RequestContext, status: Int) {
        let path = context.request.head.path
        if path.hasSuffix("/transactions") || path.hasSuffix("/transactions/batch") || path.hasSuffix("/transactions/call")
            || path.hasSuffix("/transactions/prepare") || path.hasSuffix("/query") { return }
        var tenant: String? = context.tenant
        if tenant == nil, let parameter = context.parameters["tenant"], UUID(uuidString: parameter) != nil { tenant = parameter.lowercased() }
        let target = String(context.request.head.path.prefix(400))
        do {
            try pool.withConnection { connection in
                _ = try connection.query(sql: """
                    INSERT INTO platform.audit_log (tenant_id, actor, action, target, request_id, status)
                    VALUES ($1::uuid, $2, $3, $4, $5, $6)
                    """, name: "platform.audit.insert",
                    [tenant.map { .text($0) } ?? .null, .text(context.principal.actor), .text(context.request.head.method),
                     .text(target), .text(context.requestID), .int(status)])
                if let tenant {
                    _ = try connection.query(sql: """
                        INSERT INTO platform.usage (tenant_id, day, requests) VALUES ($1::uuid, current_date, 1)
                        ON CONFLICT (tenant_id, day) DO UPDATE SET requests = usage.requests + 1
                        """, name: "platform.usage.request", [.text(tenant)])
                }
            }
        } catch {
            context.logger.error("audit log write failed", metadata: ["error": "\(error)"])
        }
    }

    public func auditLog(tenant: String?, _ page: PageRequest) throws -> Page<AuditEntryView> {
        let after = try page.cursor.map { cursor -> Int64 in
            guard let value = Int64(cursor) else { throw APIError.badRequest("cursor is not valid", field: "cursor") }
            return value
        } ?? 0
        let rows = try pool.withConnection { connection in
            try connection.query(sql: """
                SELECT seq, tenant_id::text, actor, action, target, request_id, status, \(iso("at"))
                FROM platform.audit_log WHERE seq > $1 AND ($2::uuid IS NULL OR tenant_id = $2::uuid) ORDER BY seq LIMIT $3
                """, name: "platform.audit.list", [.int(after), tenant.map { .text($0) } ?? .null, .int(page.limit + 1)]).rows
        }
        let items = try rows.prefix(page.limit).map { row in
            AuditEntryView(seq: try row.decode(column: 0), tenantId: try row.decode(column: 1), actor: try row.decode(column: 2),
                           action: try row.decode(column: 3), target: try row.decode(column: 4), requestId: try row.decode(column: 5),
                           status: try row.decode(column: 6), at: try row.decode(column: 7))
        }
        return Page(items: items, nextCursor: rows.count > page.limit ? items.last.map { String($0.seq) } : nil)
    }

    // MARK: - Tenants

    static let nameRule = "1 to 63 characters of a-z, 0-9 and -, starting with a letter or digit"

    static func isName(_ name: String) -> Bool {
        guard (1...63).contains(name.utf8.count), let first = name.utf8.first else { return false }
        return name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 } && first != 45
    }

    static func checkQuotas(_ quotas: Quotas) throws {
        guard (0...10_000).contains(quotas.chains) else { throw APIError.badRequest("quotas.chains must be 0 to 10000", field: "quotas.chains") }
        guard (1...1_000_000).contains(quotas.txPerSecond) else {
            throw APIError.badRequest("quotas.tx_per_second must be 1 to 1000000", field: "quotas.tx_per_second")
        }
        guard quotas.storageBytes >= 0 else { throw APIError.badRequest("quotas.storage_bytes must be >= 0", field: "quotas.storage_bytes") }
    }

    static let tenantColumns = "id::text, name, display, status, quota_chains, quota_tx_per_second, quota_storage_bytes, \(iso("created_at"))"

    static func tenantView(_ row: PostgresRow) throws -> TenantView {
        TenantView(id: try row.decode(column: 0), name: try row.decode(column: 1), display: try row.decode(column: 2),
                   status: try row.decode(column: 3),
                   quotas: Quotas(chains: try row.decode(column: 4), txPerSecond: try row.decode(column: 5), storageBytes: try row.decode(column: 6)),
                   createdAt: try row.decode(column: 7))
    }

    public func createTenant(_ request: CreateTenantRequest) throws -> TenantView {
        guard Self.isName(request.name) else { throw APIError.badRequest("name must be \(Self.nameRule)", field: "name") }
        let display = request.display ?? ""
        guard display.utf8.count <= 200 else { throw APIError.badRequest("display must be at most 200 bytes", field: "display") }
        let quotas = request.quotas ?? Quotas()
        try Self.checkQuotas(quotas)
        do {
            return try pool.withConnection { connection in
                try Self.tenantView(try connection.query(sql: """
                    INSERT INTO platform.tenants (id, name, display, quota_chains, quota_tx_per_second, quota_storage_bytes)
                    VALUES ($1::uuid, $2, $3, $4, $5, $6) RETURNING \(Self.tenantColumns)
                    """, name: "platform.tenants.insert",
                    [.text(Self.newID()), .text(request.name), .text(display), .int(quotas.chains), .int(quotas.txPerSecond),
                     .int(quotas.storageBytes)]).first!)
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw APIError.conflict("a tenant named \(request.name) exists")
        }
    }

    public func listTenants(_ page: PageRequest) throws -> Page<TenantView> {
        let rows = try pool.withConnection { connection in
            try connection.query(sql: """
                SELECT \(Self.tenantColumns) FROM platform.tenants WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2
                """, name: "platform.tenants.list", [try Self.uuidCursor(page.cursor), .int(page.limit + 1)]).rows
        }
        return try Self.page(rows, limit: page.limit, map: Self.tenantView, cursor: \.id)
    }

    public func tenant(_ id: String) throws -> TenantView {
        guard let id = Self.uuid(id), let row = try pool.withConnection({ connection in
            try connection.query(sql: "SELECT \(Self.tenantColumns) FROM platform.tenants WHERE id = $1::uuid",
                                 name: "platform.tenants.get", [.text(id)]).first
        }) else { throw APIError.notFound("tenant \(id) not found") }
        return try Self.tenantView(row)
    }

    public func updateTenant(_ id: String, _ request: UpdateTenantRequest) throws -> TenantView {
        var current = try tenant(id)
        guard current.status != "deleted" else { throw APIError.conflict("tenant \(id) is deleted") }
        if let status = request.status {
            guard ["active", "suspended"].contains(status) else { throw APIError.badRequest("status must be active or suspended", field: "status") }
            current.status = status
        }
        if let display = request.display {
            guard display.utf8.count <= 200 else { throw APIError.badRequest("display must be at most 200 bytes", field: "display") }
            current.display = display
        }
        if let quotas = request.quotas {
            try Self.checkQuotas(quotas)
            current.quotas = quotas
        }
        let updated = try pool.withConnection { connection in
            try Self.tenantView(try connection.query(sql: """
                UPDATE platform.tenants SET status = $2, display = $3, quota_chains = $4, quota_tx_per_second = $5,
                    quota_storage_bytes = $6, updated_at = now() WHERE id = $1::uuid RETURNING \(Self.tenantColumns)
                """, name: "platform.tenants.update",
                [.text(current.id), .text(current.status), .text(current.display), .int(current.quotas.chains),
                 .int(current.quotas.txPerSecond), .int(current.quotas.storageBytes)]).first!)
        }
        keyCacheEntries.withLock { $0.removeAll() }
        quotaCache.withLock { $0[updated.id] = nil }
        storageCache.withLock { $0[updated.id] = nil }
        return updated
    }

    /// Marks the tenant deleted: its keys stop working and its chains stop; rows are kept for audit.
    public func deleteTenant(_ id: String) throws -> TenantView {
        let current = try tenant(id)
        let chains = try pool.withConnection { connection in
            try connection.query(sql: "SELECT id::text FROM platform.chains WHERE tenant_id = $1::uuid", name: "platform.tenants.chains",
                                 [.text(current.id)]).rows.map { try $0.decode(String.self, column: 0) }
        }
        for chain in chains { stopWorker(chain: chain) }
        let deleted = try pool.transaction { connection in
            _ = try connection.query(sql: "UPDATE platform.api_keys SET revoked_at = now() WHERE tenant_id = $1::uuid AND revoked_at IS NULL",
                                     name: "platform.tenants.revoke_keys", [.text(current.id)])
            _ = try connection.query(sql: """
                UPDATE platform.chains SET status = 'stopped', updated_at = now() WHERE tenant_id = $1::uuid AND status = 'running'
                """, name: "platform.tenants.stop_chains", [.text(current.id)])
            return try Self.tenantView(try connection.query(sql: """
                UPDATE platform.tenants SET status = 'deleted', updated_at = now() WHERE id = $1::uuid RETURNING \(Self.tenantColumns)
                """, name: "platform.tenants.delete", [.text(current.id)]).first!)
        }
        keyCacheEntries.withLock { $0.removeAll() }
        return deleted
    }

    public func usage(tenant id: String) throws -> UsageView {
        let tenant = try self.tenant(id)
        return try pool.withConnection { connection in
            let row = try connection.query(sql: """
                SELECT coalesce(sum(requests), 0)::bigint, coalesce(sum(txs), 0)::bigint, coalesce(sum(gas), 0)::bigint
                FROM platform.usage WHERE tenant_id = $1::uuid
                """, name: "platform.usage.sum", [.text(tenant.id)]).first!
            let chains = try connection.query(sql: """
                SELECT schema_name FROM platform.chains WHERE tenant_id = $1::uuid AND status IN ('running', 'stopped', 'provisioning')
                """, name: "platform.usage.chains", [.text(tenant.id)]).rows.map { try $0.decode(String.self, column: 0) }
            let storage = try self.storage(tenant: tenant.id, on: connection).used
            return UsageView(tenantId: tenant.id, requests: try row.decode(column: 0), txs: try row.decode(column: 1), gas: try row.decode(column: 2),
                             storageBytes: storage, chains: chains.count)
        }
    }

    /// Bytes the tenant's chains take in PostgreSQL (tables, indexes, TOAST), summed over its
    /// chain schemas, with its storage quota.
    func storage(tenant: String, on connection: PostgresConnection) throws -> (used: Int64, quota: Int64) {
        let row = try connection.query(sql: """
            SELECT coalesce((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             JOIN platform.chains ch ON ch.schema_name = n.nspname
                             WHERE ch.tenant_id = t.id AND ch.status IN ('running', 'stopped', 'provisioning') AND c.relkind = 'r'), 0)::bigint,
                   t.quota_storage_bytes
            FROM platform.tenants t WHERE t.id = $1::uuid
            """, name: "platform.usage.storage", [.text(tenant)]).first
        return (try row?.decode(Int64.self, column: 0) ?? 0, try row?.decode(Int64.self, column: 1) ?? 0)
    }

    /// Refuses new transactions (403 quota-exceeded) once the tenant's chains take more than its
    /// storage quota; measured at most once a minute per tenant on this node.
    func checkStorage(tenant: String) throws {
        let now = Self.nowMilliseconds()
        var entry = storageCache.withLock { $0[tenant] }.flatMap { $0.expires > now ? $0 : nil }
        if entry == nil {
            let measured = try pool.withConnection { connection in try storage(tenant: tenant, on: connection) }
            let fresh = (used: measured.used, quota: measured.quota, expires: now + Self.storageCheckMilliseconds)
            storageCache.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[tenant] = fresh
            }
            entry = fresh
        }
        if let entry, entry.used > entry.quota {
            throw APIError.quotaExceeded("the tenant's chains take \(entry.used) bytes, more than its storage quota of \(entry.quota) bytes; "
                                         + "new transactions are refused until the operator raises the quota")
        }
    }

    /// Counts one transaction against the tenant's `tx_per_second` quota; 429 when it is used up.
    /// Refused first when the storage quota is used up.
    func chargeTransaction(tenant: String) throws {
        try checkStorage(tenant: tenant)
        let now = Self.nowMilliseconds()
        var perSecond = quotaCache.withLock { $0[tenant] }.flatMap { $0.expires > now ? $0.perSecond : nil }
        if perSecond == nil {
            let quota = try pool.withConnection { connection in
                try connection.query(sql: "SELECT quota_tx_per_second FROM platform.tenants WHERE id = $1::uuid",
                                     name: "platform.tenants.tx_quota", [.text(tenant)]).first?.decode(Int.self, column: 0) ?? 1
            }
            quotaCache.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[tenant] = (quota, now + 5_000)
            }
            perSecond = quota
        }
        let rate = Double(perSecond ?? 1)
        let verdict = transactionBuckets.admit(key: tenant, ratePerSecond: rate, burst: max(1, rate * 2))
        guard verdict.allowed else {
            var error = APIError.tooManyRequests(retryAfterSeconds: verdict.retryAfterSeconds)
            error.detail = "the tenant's quota of \(Int(rate)) transactions per second is used up; retry after \(verdict.retryAfterSeconds) s"
            throw error
        }
    }

    // MARK: - API keys

    static let keyColumns = "id::text, tenant_id::text, name, prefix, array_to_string(scopes, ','), \(iso("created_at")), \(iso("revoked_at"))"

    static func keyView(_ row: PostgresRow) throws -> APIKeyView {
        APIKeyView(id: try row.decode(column: 0), tenantId: try row.decode(column: 1), name: try row.decode(column: 2), prefix: try row.decode(column: 3),
                   scopes: try row.decode(String.self, column: 4).split(separator: ",").compactMap { Scope(rawValue: String($0)) },
                   createdAt: try row.decode(column: 5), revokedAt: try row.decode(column: 6))
    }

    public func createAPIKey(tenant id: String, _ request: CreateAPIKeyRequest) throws -> CreatedAPIKey {
        let tenant = try self.tenant(id)
        guard tenant.status == "active" else { throw APIError.conflict("tenant \(tenant.id) is \(tenant.status)") }
        guard (1...100).contains(request.name.utf8.count) else { throw APIError.badRequest("name must be 1 to 100 bytes", field: "name") }
        guard !request.scopes.isEmpty else { throw APIError.badRequest("scopes must list at least one of admin, write, read", field: "scopes") }
        let random = SecureRandom()
        let prefix = "hk" + Hex.encode(random.bytes(6))
        let secret = "hanse_" + prefix + "_" + Data(random.bytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let scopes = "{" + Set(request.scopes).map(\.rawValue).sorted().joined(separator: ",") + "}"
        let view = try pool.withConnection { connection in
            try Self.keyView(try connection.query(sql: """
                INSERT INTO platform.api_keys (id, tenant_id, name, prefix, secret_hash, scopes) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::text[])
                RETURNING \(Self.keyColumns)
                """, name: "platform.keys.insert",
                [.text(Self.newID()), .text(tenant.id), .text(request.name), .text(prefix), .bytea(SHA256.hash(utf8: secret)), .text(scopes)]).first!)
        }
        return CreatedAPIKey(key: view, secret: secret)
    }

    public func listAPIKeys(tenant id: String, _ page: PageRequest) throws -> Page<APIKeyView> {
        let tenant = try self.tenant(id)
        let rows = try pool.withConnection { connection in
            try connection.query(sql: """
                SELECT \(Self.keyColumns) FROM platform.api_keys WHERE tenant_id = $1::uuid AND ($2::uuid IS NULL OR id > $2::uuid)
                ORDER BY id LIMIT $3
                """, name: "platform.keys.list", [.text(tenant.id), try Self.uuidCursor(page.cursor), .int(page.limit + 1)]).rows
        }
        return try Self.page(rows, limit: page.limit, map: Self.keyView, cursor: \.id)
    }

    public func revokeAPIKey(tenant: String, id: String) throws -> APIKeyView {
        guard let key = Self.uuid(id), let row = try pool.withConnection({ connection in
            try connection.query(sql: """
                UPDATE platform.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1::uuid AND tenant_id = $2::uuid
                RETURNING \(Self.keyColumns)
                """, name: "platform.keys.revoke", [.text(key), .text(tenant)]).first
        }) else { throw APIError.notFound("API key \(id) not found") }
        let view = try Self.keyView(row)
        keyCacheEntries.withLock { $0[view.prefix] = nil }
        return view
    }

    // MARK: - Helpers

    static func newID() -> String { UUID().uuidString.lowercased() }

    /// A canonical lower-case UUID, or nil when `text` is not one (so a malformed id is "not found").
    static func uuid(_ text: String) -> String? { UUID(uuidString: text).map { $0.uuidString.lowercased() } }

    static func uuidCursor(_ cursor: String?) throws -> PostgresValue {
        guard let cursor else { return .null }
        guard let id = uuid(cursor) else { throw APIError.badRequest("cursor is not valid", field: "cursor") }
        return .text(id)
    }

    static func page<Item>(_ rows: [PostgresRow], limit: Int, map: (PostgresRow) throws -> Item, cursor: (Item) -> String) throws -> Page<Item> {
        let items = try rows.prefix(limit).map(map)
        return Page(items: items, nextCursor: rows.count > limit ? items.last.map(cursor) : nil)
    }
}

/// An ISO 8601 UTC rendering of a timestamptz column, for JSON.
func iso(_ column: String) -> String {
    "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
}
