public import HTTPServer
internal import HTTP1
internal import Foundation
public import HanseCore

/// What the routes need from the platform: tenants, keys, chains and their ledgers. The node
/// implements it; errors it throws are `APIError`s (anything else becomes a 500).
///
/// Every tenant-scoped method takes the caller's tenant and answers "not found" for another
/// tenant's resource exactly as for a missing one.
public protocol PlatformService: Sendable {
    // Operator
    func createTenant(_ request: CreateTenantRequest) throws -> TenantView
    func listTenants(_ page: PageRequest) throws -> Page<TenantView>
    func tenant(_ id: String) throws -> TenantView
    func updateTenant(_ id: String, _ request: UpdateTenantRequest) throws -> TenantView
    func deleteTenant(_ id: String) throws -> TenantView
    func usage(tenant: String) throws -> UsageView
    func auditLog(tenant: String?, _ page: PageRequest) throws -> Page<AuditEntryView>

    // API keys
    func createAPIKey(tenant: String, _ request: CreateAPIKeyRequest) throws -> CreatedAPIKey
    func listAPIKeys(tenant: String, _ page: PageRequest) throws -> Page<APIKeyView>
    func revokeAPIKey(tenant: String, id: String) throws -> APIKeyView

    // Chains
    func provisionChain(tenant: String, _ request: CreateChainRequest) throws -> OperationView
    func operation(tenant: String, id: String) throws -> OperationView
    func listChains(tenant: String, _ page: PageRequest) throws -> Page<ChainView>
    func chain(tenant: String, id: String) throws -> ChainView
    /// Throws what a transaction route would for the chain as a whole (404 when the tenant has
    /// no such chain, 409 when it is not running), without building its view.
    func requireRunningChain(tenant: String, id: String) throws
    func setChainRunning(tenant: String, id: String, running: Bool) throws -> ChainView
    func archiveChain(tenant: String, id: String) throws -> ChainView

    // Identities
    func createIdentity(tenant: String, chain: String, _ request: CreateIdentityRequest) throws -> IdentityView
    func listIdentities(tenant: String, chain: String, _ page: PageRequest) throws -> Page<IdentityView>
    func identity(tenant: String, chain: String, id: String) throws -> IdentityView
    func revokeIdentity(tenant: String, chain: String, id: String) throws -> IdentityView

    // Contracts (lifecycle transactions signed by a custodial admin identity)
    func installContract(tenant: String, chain: String, upgrade: Bool, _ request: InstallContractRequest, code: [UInt8]?,
                         wait: Duration) throws -> TransactionStatusView
    func contractLifecycle(tenant: String, chain: String, contract: String, action: String, identity: String?,
                           wait: Duration) throws -> TransactionStatusView
    func listContracts(tenant: String, chain: String, _ page: PageRequest) throws -> Page<ContractView>
    func contract(tenant: String, chain: String, name: String) throws -> ContractView

    // Transactions
    /// Admits a client-signed transaction; with `wait`, answers when it is committed or the wait
    /// ends (no thread waits meanwhile). Without `wait`, `done` is called before this returns.
    func submit(tenant: String, chain: String, _ request: SubmitTransactionRequest, wait: Duration?,
                done: @escaping @Sendable (Result<TransactionStatusView, any Error>) -> Void)
    /// A call signed by the platform with a custodial identity; answers like `submit`.
    func call(tenant: String, chain: String, _ request: CallRequest, wait: Duration?,
              done: @escaping @Sendable (Result<TransactionStatusView, any Error>) -> Void)
    func prepare(tenant: String, chain: String, _ request: PrepareTransactionRequest) throws -> PreparedTransaction
    func transaction(tenant: String, chain: String, id: String) throws -> TransactionStatusView

    // Queries
    func query(tenant: String, chain: String, _ request: QueryRequest) throws -> QueryView
    func state(tenant: String, chain: String, contract: String, key: [UInt8]) throws -> StateView
    func history(tenant: String, chain: String, contract: String, key: [UInt8], _ page: PageRequest) throws -> Page<StateView>
    func block(tenant: String, chain: String, height: UInt64?, hash: String?) throws -> BlockView
    func listBlocks(tenant: String, chain: String, _ page: PageRequest) throws -> Page<BlockView>
    func blockTransactions(tenant: String, chain: String, height: UInt64, _ page: PageRequest) throws -> Page<TransactionStatusView>
    func events(tenant: String, chain: String, _ filter: EventFilter, fromHeight: UInt64?, toHeight: UInt64?,
                _ page: PageRequest) throws -> Page<EventView>

    // Proofs
    func inclusionProof(tenant: String, chain: String, txID: String) throws -> InclusionProofView
    func consistencyProof(tenant: String, chain: String, from: UInt64, to: UInt64) throws -> ConsistencyProofView
}

/// The `/v1` routes of the operator and tenant API, on top of a `PlatformService`.
public enum PlatformRoutes {
    /// Longest `?wait=commit` a client may ask for (`timeout` query parameter, milliseconds).
    public static let waitMax: Duration = .seconds(30)
    public static let waitDefault: Duration = .seconds(10)

    public static func routes(_ service: any PlatformService, limits: Limits = Limits()) -> [Route] {
        let s = service
        let codeBodyLimit = limits.contractCodeBytesMax * 2 + 64 * 1024
        return [
            // Operator: tenants, their first keys, usage and the audit log.
            Route("POST", "/v1/tenants", access: .operator) { c in try jsonResponse(s.createTenant(c.decode(CreateTenantRequest.self)), status: 201) },
            Route("GET", "/v1/tenants", access: .operator) { c in try jsonResponse(s.listTenants(page(c))) },
            Route("GET", "/v1/tenants/{tenant}", access: .operator) { c in try jsonResponse(s.tenant(c.parameter("tenant"))) },
            Route("PATCH", "/v1/tenants/{tenant}", access: .operator) { c in
                try jsonResponse(s.updateTenant(c.parameter("tenant"), c.decode(UpdateTenantRequest.self)))
            },
            Route("DELETE", "/v1/tenants/{tenant}", access: .operator) { c in try jsonResponse(s.deleteTenant(c.parameter("tenant"))) },
            Route("POST", "/v1/tenants/{tenant}/api-keys", access: .operator) { c in
                try jsonResponse(s.createAPIKey(tenant: c.parameter("tenant"), c.decode(CreateAPIKeyRequest.self)), status: 201)
            },
            Route("GET", "/v1/tenants/{tenant}/api-keys", access: .operator) { c in
                try jsonResponse(s.listAPIKeys(tenant: c.parameter("tenant"), page(c)))
            },
            Route("GET", "/v1/tenants/{tenant}/usage", access: .operator) { c in try jsonResponse(s.usage(tenant: c.parameter("tenant"))) },
            Route("GET", "/v1/operator/audit-log", access: .operator) { c in try jsonResponse(s.auditLog(tenant: nil, page(c))) },

            // Tenant: keys and audit log.
            Route("POST", "/v1/api-keys", access: .tenant(.admin)) { c in
                try jsonResponse(s.createAPIKey(tenant: c.tenantID, c.decode(CreateAPIKeyRequest.self)), status: 201)
            },
            Route("GET", "/v1/api-keys", access: .tenant(.admin)) { c in try jsonResponse(s.listAPIKeys(tenant: c.tenantID, page(c))) },
            Route("DELETE", "/v1/api-keys/{key}", access: .tenant(.admin)) { c in
                try jsonResponse(s.revokeAPIKey(tenant: c.tenantID, id: c.parameter("key")))
            },
            Route("GET", "/v1/audit-log", access: .tenant(.admin)) { c in try jsonResponse(s.auditLog(tenant: c.tenantID, page(c))) },
            Route("GET", "/v1/usage", access: .tenant(.read)) { c in try jsonResponse(s.usage(tenant: c.tenantID)) },

            // Chains and operations.
            Route("POST", "/v1/chains", access: .tenant(.admin)) { c in
                let operation = try s.provisionChain(tenant: c.tenantID, c.decode(CreateChainRequest.self))
                var response = try jsonResponse(operation, status: 202)
                response.headers.set("Location", "/v1/operations/\(operation.id)")
                return response
            },
            Route("GET", "/v1/operations/{operation}", access: .tenant(.read)) { c in
                try jsonResponse(s.operation(tenant: c.tenantID, id: c.parameter("operation")))
            },
            Route("GET", "/v1/chains", access: .tenant(.read)) { c in try jsonResponse(s.listChains(tenant: c.tenantID, page(c))) },
            Route("GET", "/v1/chains/{chain}", access: .tenant(.read)) { c in
                try jsonResponse(s.chain(tenant: c.tenantID, id: c.parameter("chain")))
            },
            Route("POST", "/v1/chains/{chain}/stop", access: .tenant(.admin)) { c in
                try jsonResponse(s.setChainRunning(tenant: c.tenantID, id: c.parameter("chain"), running: false))
            },
            Route("POST", "/v1/chains/{chain}/start", access: .tenant(.admin)) { c in
                try jsonResponse(s.setChainRunning(tenant: c.tenantID, id: c.parameter("chain"), running: true))
            },
            Route("DELETE", "/v1/chains/{chain}", access: .tenant(.admin)) { c in
                try jsonResponse(s.archiveChain(tenant: c.tenantID, id: c.parameter("chain")))
            },

            // Identities.
            Route("POST", "/v1/chains/{chain}/identities", access: .tenant(.admin)) { c in
                try jsonResponse(s.createIdentity(tenant: c.tenantID, chain: c.parameter("chain"), c.decode(CreateIdentityRequest.self)), status: 201)
            },
            Route("GET", "/v1/chains/{chain}/identities", access: .tenant(.read)) { c in
                try jsonResponse(s.listIdentities(tenant: c.tenantID, chain: c.parameter("chain"), page(c)))
            },
            Route("GET", "/v1/chains/{chain}/identities/{identity}", access: .tenant(.read)) { c in
                try jsonResponse(s.identity(tenant: c.tenantID, chain: c.parameter("chain"), id: c.parameter("identity")))
            },
            Route("DELETE", "/v1/chains/{chain}/identities/{identity}", access: .tenant(.admin)) { c in
                try jsonResponse(s.revokeIdentity(tenant: c.tenantID, chain: c.parameter("chain"), id: c.parameter("identity")))
            },

            // Contracts.
            Route("POST", "/v1/chains/{chain}/contracts", access: .tenant(.admin), bodyLimit: codeBodyLimit) { c in
                let (request, code) = try installRequest(c, upgrade: false)
                return try transactionResponse(s.installContract(tenant: c.tenantID, chain: c.parameter("chain"), upgrade: false, request,
                                                                 code: code, wait: wait(c) ?? waitDefault))
            },
            Route("GET", "/v1/chains/{chain}/contracts", access: .tenant(.read)) { c in
                try jsonResponse(s.listContracts(tenant: c.tenantID, chain: c.parameter("chain"), page(c)))
            },
            Route("GET", "/v1/chains/{chain}/contracts/{contract}", access: .tenant(.read)) { c in
                try jsonResponse(s.contract(tenant: c.tenantID, chain: c.parameter("chain"), name: c.parameter("contract")))
            },
            Route("POST", "/v1/chains/{chain}/contracts/{contract}/upgrade", access: .tenant(.admin), bodyLimit: codeBodyLimit) { c in
                var (request, code) = try installRequest(c, upgrade: true)
                request.name = try c.parameter("contract")
                return try transactionResponse(s.installContract(tenant: c.tenantID, chain: c.parameter("chain"), upgrade: true, request,
                                                                 code: code, wait: wait(c) ?? waitDefault))
            },
        ] + ["freeze", "unfreeze", "revoke"].map { action in
            Route("POST", "/v1/chains/{chain}/contracts/{contract}/\(action)", access: .tenant(.admin)) { c in
                let identity = c.request.body.isEmpty ? nil : try c.decode(LifecycleRequest.self).identity
                return try transactionResponse(s.contractLifecycle(tenant: c.tenantID, chain: c.parameter("chain"), contract: c.parameter("contract"),
                                                                   action: action, identity: identity, wait: wait(c) ?? waitDefault))
            }
        } + [
            // Transactions.
            Route("POST", "/v1/chains/{chain}/transactions", access: .tenant(.write), bodyLimit: limits.systemArgsBytesMax * 2 + 64 * 1024) { c, done in
                do {
                    s.submit(tenant: try c.tenantID, chain: try c.parameter("chain"), try c.decode(SubmitTransactionRequest.self), wait: try wait(c)) {
                        done($0.map(transactionResponse))
                    }
                } catch {
                    done(.failure(error))
                }
            },
            Route("POST", "/v1/chains/{chain}/transactions/batch", access: .tenant(.write), bodyLimit: limits.httpRouteBodyBytesMax) { c, done in
                let batch: BatchSubmitRequest, chain: String, tenant: String, waitFor: Duration?
                do {
                    batch = try c.decode(BatchSubmitRequest.self)
                    guard (1...limits.apiBatchTransactionsMax).contains(batch.transactions.count) else {
                        throw APIError.badRequest("a batch holds 1 to \(limits.apiBatchTransactionsMax) transactions, got \(batch.transactions.count)",
                                                  field: "transactions")
                    }
                    chain = try c.parameter("chain")
                    tenant = try c.tenantID
                    waitFor = try wait(c)
                    try s.requireRunningChain(tenant: tenant, id: chain)
                } catch {
                    return done(.failure(error))
                }
                // Each item is admitted on its own (one bad item does not stop the others); with
                // ?wait=commit the answer comes when every item is final or the wait ends.
                let results = BatchResults(count: batch.transactions.count) { items in
                    done(.success(batchResponse(items)))
                }
                for (index, transaction) in batch.transactions.enumerated() {
                    s.submit(tenant: tenant, chain: chain, transaction, wait: waitFor) { result in
                        switch result {
                        case .success(let view):
                            results.set(index, BatchItem(status: view.status == "accepted" ? 202 : 200, transaction: view, problem: nil))
                        case .failure(let error as APIError):
                            results.set(index, BatchItem(status: error.status, transaction: nil, problem: BatchProblem(type: error.type, detail: error.detail)))
                        case .failure:
                            results.set(index, BatchItem(status: 500, transaction: nil, problem: BatchProblem(type: "urn:hanse:problem:internal", detail: "internal error")))
                        }
                    }
                }
            },
            Route("POST", "/v1/chains/{chain}/transactions/prepare", access: .tenant(.write)) { c in
                try jsonResponse(s.prepare(tenant: c.tenantID, chain: c.parameter("chain"), c.decode(PrepareTransactionRequest.self)))
            },
            Route("POST", "/v1/chains/{chain}/transactions/call", access: .tenant(.write)) { c, done in
                do {
                    s.call(tenant: try c.tenantID, chain: try c.parameter("chain"), try c.decode(CallRequest.self), wait: try wait(c)) {
                        done($0.map(transactionResponse))
                    }
                } catch {
                    done(.failure(error))
                }
            },
            Route("GET", "/v1/chains/{chain}/transactions/{tx}", access: .tenant(.read)) { c in
                try jsonResponse(s.transaction(tenant: c.tenantID, chain: c.parameter("chain"), id: c.parameter("tx")))
            },
            Route("GET", "/v1/chains/{chain}/transactions/{tx}/proof", access: .tenant(.read)) { c in
                try jsonResponse(s.inclusionProof(tenant: c.tenantID, chain: c.parameter("chain"), txID: c.parameter("tx")))
            },

            // Queries.
            Route("POST", "/v1/chains/{chain}/query", access: .tenant(.read)) { c in
                try jsonResponse(s.query(tenant: c.tenantID, chain: c.parameter("chain"), c.decode(QueryRequest.self)))
            },
            Route("GET", "/v1/chains/{chain}/contracts/{contract}/state", access: .tenant(.read)) { c in
                try jsonResponse(s.state(tenant: c.tenantID, chain: c.parameter("chain"), contract: c.parameter("contract"), key: stateKey(c)))
            },
            Route("GET", "/v1/chains/{chain}/contracts/{contract}/history", access: .tenant(.read)) { c in
                try jsonResponse(s.history(tenant: c.tenantID, chain: c.parameter("chain"), contract: c.parameter("contract"), key: stateKey(c), page(c)))
            },
            Route("GET", "/v1/chains/{chain}/blocks", access: .tenant(.read)) { c in
                try jsonResponse(s.listBlocks(tenant: c.tenantID, chain: c.parameter("chain"), page(c)))
            },
            Route("GET", "/v1/chains/{chain}/blocks/latest", access: .tenant(.read)) { c in
                try jsonResponse(s.block(tenant: c.tenantID, chain: c.parameter("chain"), height: nil, hash: nil))
            },
            Route("GET", "/v1/chains/{chain}/blocks/by-hash/{hash}", access: .tenant(.read)) { c in
                try jsonResponse(s.block(tenant: c.tenantID, chain: c.parameter("chain"), height: nil, hash: c.parameter("hash")))
            },
            Route("GET", "/v1/chains/{chain}/blocks/{height}", access: .tenant(.read)) { c in
                try jsonResponse(s.block(tenant: c.tenantID, chain: c.parameter("chain"), height: height(c, "height"), hash: nil))
            },
            Route("GET", "/v1/chains/{chain}/blocks/{height}/transactions", access: .tenant(.read)) { c in
                try jsonResponse(s.blockTransactions(tenant: c.tenantID, chain: c.parameter("chain"), height: height(c, "height"), page(c)))
            },
            Route("GET", "/v1/chains/{chain}/events", access: .tenant(.read)) { c in
                let from = try c.integerQuery("from_height", range: 0...Int.max).map(UInt64.init)
                let to = try c.integerQuery("to_height", range: 0...Int.max).map(UInt64.init)
                return try jsonResponse(s.events(tenant: c.tenantID, chain: c.parameter("chain"), eventFilter(c), fromHeight: from, toHeight: to, page(c)))
            },

            // Proofs.
            Route("GET", "/v1/chains/{chain}/proofs/consistency", access: .tenant(.read)) { c in
                guard let from = try c.integerQuery("from", range: 0...Int.max), let to = try c.integerQuery("to", range: 0...Int.max) else {
                    throw APIError.badRequest("query parameters from and to (block heights) are required")
                }
                return try jsonResponse(s.consistencyProof(tenant: c.tenantID, chain: c.parameter("chain"), from: UInt64(from), to: UInt64(to)))
            },
        ]
    }

    struct BatchProblem: Encodable { var type: String; var detail: String }
    struct BatchItem: Encodable {
        var status: Int
        var transaction: TransactionStatusView?
        var problem: BatchProblem?
    }

    /// The items of one batch answer, filled in by callbacks on any thread; `finished` runs once,
    /// when the last item is in.
    final class BatchResults: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [BatchItem?]
        private var missing: Int
        private let finished: @Sendable ([BatchItem]) -> Void

        init(count: Int, finished: @escaping @Sendable ([BatchItem]) -> Void) {
            items = Array(repeating: nil, count: count)
            missing = count
            self.finished = finished
        }

        func set(_ index: Int, _ item: BatchItem) {
            let complete: [BatchItem]? = lock.withLock {
                guard items[index] == nil else { return nil }
                items[index] = item
                missing -= 1
                return missing == 0 ? items.map { $0! } : nil
            }
            if let complete { finished(complete) }
        }
    }

    /// `?limit=` (1 to 100, default 50) and `?cursor=`.
    static func page(_ context: RequestContext) throws -> PageRequest {
        let limit = try context.integerQuery("limit", default: 50, range: 1...100) ?? 50
        let cursor = context.query("cursor")
        if let cursor, cursor.isEmpty || cursor.utf8.count > 200 { throw APIError.badRequest("cursor must be 1 to 200 characters", field: "cursor") }
        return PageRequest(cursor: cursor, limit: limit)
    }

    /// `?wait=commit` with an optional `timeout_ms` (at most `waitMax`); nil when not waiting.
    static func wait(_ context: RequestContext) throws -> Duration? {
        switch context.query("wait") {
        case nil, "none": return nil
        case "commit":
            let milliseconds = try context.integerQuery("timeout_ms", default: Int(waitDefault.wholeMilliseconds),
                                                        range: 1...Int(waitMax.wholeMilliseconds))!
            return .milliseconds(milliseconds)
        case let other?: throw APIError.badRequest("wait must be commit or none, got \(other)", field: "wait")
        }
    }

    static func height(_ context: RequestContext, _ name: String) throws -> UInt64 {
        let text = try context.parameter(name)
        guard let value = UInt64(text), value <= UInt64(Int64.max) else { throw APIError.badRequest("\(name) must be a block height (an integer >= 0), got \(text)", field: name) }
        return value
    }

    /// `?key=` (UTF-8 text), or `?key_hex=`, which wins when both are given.
    static func stateKey(_ context: RequestContext) throws -> [UInt8] {
        if let hex = context.query("key_hex") {
            guard let bytes = Hex.decode(hex), !bytes.isEmpty else { throw APIError.badRequest("key_hex must be non-empty hex", field: "key_hex") }
            return bytes
        }
        guard let key = context.query("key"), !key.isEmpty else { throw APIError.badRequest("query parameter key (or key_hex) is required", field: "key") }
        return Array(key.utf8)
    }

    /// Deploy and upgrade bodies: JSON (code in base64 or WAT), or the module itself as
    /// `application/wasm` with `name` and `version` (and optional `init_args`) in the query.
    static func installRequest(_ context: RequestContext, upgrade: Bool) throws -> (InstallContractRequest, [UInt8]?) {
        let contentType = context.request.head.headers["Content-Type"]?.lowercased() ?? ""
        if contentType.hasPrefix("application/wasm") {
            guard let version = context.query("version") else { throw APIError.badRequest("query parameter version is required", field: "version") }
            guard upgrade || context.query("name") != nil else { throw APIError.badRequest("query parameter name is required", field: "name") }
            let request = InstallContractRequest(name: context.query("name"), version: version, code: nil, wat: nil,
                                                 initArgs: upgrade ? nil : context.query("init_args"),
                                                 migrateArgs: upgrade ? context.query("migrate_args") : nil, identity: context.query("identity"))
            return (request, context.request.body)
        }
        return (try context.decode(InstallContractRequest.self), nil)
    }

    /// 200 when the transaction reached a final state, 202 while it is accepted only.
}

/// One result handed across a callback.
final class ResultBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Value, any Error>?
    func set(_ value: Result<Value, any Error>) { lock.withLock { result = value } }
    func get() -> Result<Value, any Error>? { lock.withLock { result } }
}
