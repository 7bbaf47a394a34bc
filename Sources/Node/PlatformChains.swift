public import API
internal import Contracts
internal import Crypto
internal import Dispatch
internal import Foundation
internal import HanseCore
internal import Ledger
internal import Merkle
internal import PostgresStorage
internal import Storage
internal import Synchronization
internal import WAT

/// A chain's catalogue row.
struct ChainRecord: Sendable {
    var id: String
    var tenantID: String
    var name: String
    var schema: String
    var consensus: String
    var status: String
    var failure: String?
    var blockTransactionsMax: Int
    var fuelMax: UInt64
    var access: ChainAccess
    var genesisHash: [UInt8]?
    var createdAt: String

    /// What the chain's configuration column holds.
    struct Config: Codable {
        var blockTransactionsMax: Int
        var fuelMax: UInt64
        var validatorAlgorithm: String
        /// Absent for chains provisioned before access control: those are open.
        var access: ChainAccess?
        enum CodingKeys: String, CodingKey {
            case blockTransactionsMax = "block_transactions_max", fuelMax = "fuel_max", validatorAlgorithm = "validator_algorithm", access
        }
    }
}

/// The name of the custodial admin identity every chain gets at provisioning; it signs the
/// genesis and, unless another admin identity is named, the contract lifecycle calls.
let platformAdminIdentity = "platform-admin"

extension Platform {
    // MARK: - Chains

    static let chainColumns = """
        id::text, tenant_id::text, name, schema_name, consensus, status, failure, config::text, genesis_hash, \(iso("created_at"))
        """

    static func chainRecord(_ row: PostgresRow) throws -> ChainRecord {
        let config = try JSONDecoder().decode(ChainRecord.Config.self, from: Data(try row.decode(String.self, column: 7).utf8))
        return ChainRecord(id: try row.decode(column: 0), tenantID: try row.decode(column: 1), name: try row.decode(column: 2),
                           schema: try row.decode(column: 3), consensus: try row.decode(column: 4), status: try row.decode(column: 5),
                           failure: try row.decode(column: 6), blockTransactionsMax: config.blockTransactionsMax, fuelMax: config.fuelMax,
                           access: config.access ?? .open, genesisHash: try row.decode(column: 8), createdAt: try row.decode(column: 9))
    }

    /// The tenant's chain, or 404 (also for another tenant's chain and for malformed ids).
    func chainRecord(tenant: String, id: String) throws -> ChainRecord {
        guard let chain = Self.uuid(id), let row = try pool.withConnection({ connection in
            try connection.query(sql: "SELECT \(Self.chainColumns) FROM platform.chains WHERE id = $1::uuid AND tenant_id = $2::uuid",
                                 name: "platform.chains.get", [.text(chain), .text(tenant)]).first
        }) else { throw APIError.notFound("chain \(id) not found") }
        return try Self.chainRecord(row)
    }

    public func requireRunningChain(tenant: String, id: String) throws {
        _ = try runningChain(tenant: tenant, id: id, cached: true)
    }

    /// The tenant's chain and its worker; 409 when the chain is not running.
    func runningChain(tenant: String, id: String, cached: Bool = false) throws -> (ChainRecord, ChainWorker) {
        let now = Self.nowMilliseconds()
        var record: ChainRecord
        if cached, let hit = chainCache.withLock({ $0[id] }), hit.expires > now, hit.record.tenantID == tenant {
            record = hit.record
        } else {
            record = try chainRecord(tenant: tenant, id: id)
            chainCache.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[record.id] = (record, now + Self.cacheMilliseconds)
            }
        }
        guard record.status == "running", let worker = workers.withLock({ $0[record.id] }) else {
            throw APIError.conflict("chain \(record.id) is \(record.status)\(record.status == "running" ? " but has no worker on this node" : "")")
        }
        return (record, worker)
    }

    /// Public keys of the chain's revoked identities.
    /// Signer keys the platform turns away at submission, with the reason: revoked identities, and
    /// on a members-only chain reader identities. The chain itself refuses contract calls from any
    /// signer without the writer or admin role (a failed receipt); this check answers the cases
    /// the platform knows of early, with a 403 and nothing written.
    func refusedSigners(_ record: ChainRecord) throws -> [[UInt8]: String] {
        let now = Self.nowMilliseconds()
        if let hit = refusedCache.withLock({ $0[record.id] }), hit.expires > now { return hit.keys }
        let keys = try pool.withConnection { connection in
            var refused: [[UInt8]: String] = [:]
            for row in try connection.query(sql: """
                SELECT public_key, revoked_at IS NOT NULL FROM platform.identities
                WHERE chain_id = $1::uuid AND (revoked_at IS NOT NULL OR (role = 'reader' AND $2))
                """, name: "platform.identities.refused_keys", [.text(record.id), .bool(record.access == .members)]).rows {
                refused[try row.decode(column: 0)] = try row.decode(Bool.self, column: 1)
                    ? "the signer's identity is revoked on this chain"
                    : "the signer's identity has the reader role; sending transactions needs writer or admin"
            }
            return refused
        }
        refusedCache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[record.id] = (keys, now + Self.cacheMilliseconds)
        }
        return keys
    }

    func validators(of chain: String) throws -> [(index: Int, key: PublicKey, wrapped: [UInt8]?)] {
        try pool.withConnection { connection in
            try connection.query(sql: "SELECT index, algorithm, public_key, wrapped_key FROM platform.validators WHERE chain_id = $1::uuid ORDER BY index",
                                 name: "platform.validators.list", [.text(chain)]).rows.map { row in
                let algorithm = SignatureAlgorithm(rawValue: try row.decode(String.self, column: 1)) ?? .p256
                return (try row.decode(Int.self, column: 0), try PublicKey(algorithm: algorithm, raw: try row.decode(column: 2)),
                        try row.decode([UInt8]?.self, column: 3))
            }
        }
    }

    func chainView(_ record: ChainRecord) throws -> ChainView {
        let validators = try self.validators(of: record.id).map {
            ValidatorView(index: $0.index, algorithm: $0.key.algorithm.rawValue, publicKey: Hex.encode($0.key.raw))
        }
        var head: (height: UInt64, hash: [UInt8], ledgerSize: UInt64)?
        if record.genesisHash != nil {
            head = try pool.withConnection { try PostgresChainStore(schema: record.schema).head(on: $0) }
        }
        let mempool = workers.withLock { $0[record.id] }?.status.mempool
        return ChainView(id: record.id, name: record.name, consensus: record.consensus, status: record.status, failure: record.failure,
                         validators: validators, blockTransactionsMax: record.blockTransactionsMax, fuelMax: record.fuelMax,
                         access: record.access.rawValue, height: head?.height, latestBlockHash: head.map { Hex.encode($0.hash) },
                         genesisHash: record.genesisHash.map(Hex.encode), mempool: mempool, createdAt: record.createdAt)
    }

    public func listChains(tenant: String, _ page: PageRequest) throws -> Page<ChainView> {
        let rows = try pool.withConnection { connection in
            try connection.query(sql: """
                SELECT \(Self.chainColumns) FROM platform.chains WHERE tenant_id = $1::uuid AND ($2::uuid IS NULL OR id > $2::uuid)
                ORDER BY id LIMIT $3
                """, name: "platform.chains.list", [.text(tenant), try Self.uuidCursor(page.cursor), .int(page.limit + 1)]).rows
        }
        return try Self.page(rows, limit: page.limit, map: { try self.chainView(Self.chainRecord($0)) }, cursor: \.id)
    }

    public func chain(tenant: String, id: String) throws -> ChainView { try chainView(chainRecord(tenant: tenant, id: id)) }

    public func setChainRunning(tenant: String, id: String, running: Bool) throws -> ChainView {
        var record = try chainRecord(tenant: tenant, id: id)
        let allowed = running ? ["stopped", "running"] : ["running", "stopped"]
        guard allowed.contains(record.status) else { throw APIError.conflict("chain \(record.id) is \(record.status)") }
        try setStatus(chain: record.id, running ? "running" : "stopped")
        if running {
            if workers.withLock({ $0[record.id] }) == nil { try startWorker(chain: record.id) }
        } else {
            stopWorker(chain: record.id)
        }
        record.status = running ? "running" : "stopped"
        return try chainView(record)
    }

    /// Archives a chain: it stops for good; its blocks stay readable.
    public func archiveChain(tenant: String, id: String) throws -> ChainView {
        var record = try chainRecord(tenant: tenant, id: id)
        guard record.status != "provisioning" else { throw APIError.conflict("chain \(record.id) is still provisioning") }
        stopWorker(chain: record.id)
        try setStatus(chain: record.id, "archived")
        record.status = "archived"
        return try chainView(record)
    }

    func setStatus(chain: String, _ status: String, failure: String? = nil) throws {
        chainCache.withLock { $0[chain] = nil }
        try pool.withConnection { connection in
            _ = try connection.query(sql: "UPDATE platform.chains SET status = $2, failure = $3, updated_at = now() WHERE id = $1::uuid",
                                     name: "platform.chains.status", [.text(chain), .text(status), failure.map { .text(String($0.prefix(4096))) } ?? .null])
        }
    }

    func startWorker(chain id: String) throws {
        let record = try pool.withConnection { connection in
            try Self.chainRecord(try connection.query(sql: "SELECT \(Self.chainColumns) FROM platform.chains WHERE id = $1::uuid",
                                                      name: "platform.chains.byid", [.text(id)]).first!)
        }
        let validators = try self.validators(of: id)
        var hosted: [Int: PrivateKey] = [:]
        for validator in validators {
            if let wrapped = validator.wrapped { hosted[validator.index] = try vault.unwrap(wrapped, purpose: "validator:\(id):\(validator.index)") }
        }
        var chainLimits = limits
        chainLimits.blockTransactionsMax = record.blockTransactionsMax
        let setup = ChainSetup(chainID: id, schema: record.schema, kind: record.consensus == "solo" ? .solo : .bft,
                               validatorSet: ValidatorSet(keys: validators.map(\.key)), hostedKeys: hosted,
                               rules: ChainRules(admins: [], fuelMax: record.fuelMax, access: try genesisAccess(record)))
        let worker = try ChainWorker(setup: setup, executor: ContractExecutor(runtime: runtime, rules: setup.rules), pool: pool, limits: chainLimits,
                                     hooks: commitHooks(chain: id, schema: record.schema, tenant: record.tenantID))
        // Start-up reads the chain's committed ids into the worker's filter: say so when that is slow.
        let started = Self.nowMilliseconds()
        try worker.start()
        let took = Self.nowMilliseconds() - started
        if took > 1_000 {
            logger.info("chain worker started", metadata: ["chain": "\(id)", "height": "\(worker.status.height.map { "\($0)" } ?? "none")",
                                                           "milliseconds": "\(took)"])
        }
        workers.withLock { $0[id] = worker }
    }

    /// Who may call the chain's contracts, as its genesis block records it: the ledger decides,
    /// not the catalogue row (they agree unless one was edited). A genesis from before access
    /// control has no such field: open.
    func genesisAccess(_ record: ChainRecord) throws -> ChainAccess {
        let key = StateKey(contract: TransactionEnvelope.systemContract, key: Array("genesis".utf8))
        guard let bytes = try PostgresWorldState(schema: record.schema, pool: pool).value(of: key) else { return record.access }
        return try ChainGenesis(encoded: bytes).access ?? .open
    }

    func stopWorker(chain id: String) {
        workers.withLock { $0.removeValue(forKey: id) }?.stop()
    }

    // MARK: - Provisioning

    public func provisionChain(tenant: String, _ request: CreateChainRequest) throws -> OperationView {
        guard Self.isName(request.name) else { throw APIError.badRequest("name must be \(Self.nameRule)", field: "name") }
        guard ["solo", "bft"].contains(request.consensus) else { throw APIError.badRequest("consensus must be solo or bft", field: "consensus") }
        let validatorCount: Int
        if request.consensus == "solo" {
            guard request.validators == nil || request.validators == 1 else { throw APIError.badRequest("a solo chain has 1 validator", field: "validators") }
            validatorCount = 1
        } else {
            validatorCount = request.validators ?? 4
            guard (4...limits.chainValidatorsMax).contains(validatorCount) else {
                throw APIError.badRequest("a bft chain has 4 to \(limits.chainValidatorsMax) validators", field: "validators")
            }
        }
        let algorithmName = request.validatorAlgorithm ?? "p256"
        guard SignatureAlgorithm(rawValue: algorithmName) != nil else {
            throw APIError.badRequest("validator_algorithm must be p256, ed25519 or sm2", field: "validator_algorithm")
        }
        let blockMax = request.blockTransactionsMax ?? limits.blockTransactionsMax
        guard (1...limits.blockTransactionsMax).contains(blockMax) else {
            throw APIError.badRequest("block_transactions_max must be 1 to \(limits.blockTransactionsMax)", field: "block_transactions_max")
        }
        let fuelMax = request.fuelMax ?? limits.contractFuelMax
        guard (1...limits.contractFuelMax).contains(fuelMax) else {
            throw APIError.badRequest("fuel_max must be 1 to \(limits.contractFuelMax)", field: "fuel_max")
        }
        guard let access = ChainAccess(rawValue: request.access ?? ChainAccess.members.rawValue) else {
            throw APIError.badRequest("access must be members or open", field: "access")
        }
        let config = ChainRecord.Config(blockTransactionsMax: blockMax, fuelMax: fuelMax, validatorAlgorithm: algorithmName, access: access)
        let configJSON = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        let chainID = Self.newID()
        let operationID = Self.newID()
        let operation: OperationView
        do {
            operation = try pool.transaction { connection in
                guard let quota = try connection.query(sql: """
                    SELECT quota_chains FROM platform.tenants WHERE id = $1::uuid AND status = 'active' FOR UPDATE
                    """, name: "platform.chains.quota", [.text(tenant)]).first?.decode(Int.self, column: 0) else {
                    throw APIError.conflict("the tenant is not active")
                }
                let count = try connection.query(sql: """
                    SELECT count(*)::int FROM platform.chains WHERE tenant_id = $1::uuid AND status NOT IN ('archived', 'failed')
                    """, name: "platform.chains.count", [.text(tenant)]).first!.decode(Int.self, column: 0)
                guard count < quota else { throw APIError.quotaExceeded("the tenant has \(count) chains; its quota is \(quota)") }
                _ = try connection.query(sql: """
                    INSERT INTO platform.chains (id, tenant_id, name, schema_name, consensus, config) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb)
                    """, name: "platform.chains.insert",
                    [.text(chainID), .text(tenant), .text(request.name), .text("chain_" + chainID.replacingOccurrences(of: "-", with: "")),
                     .text(request.consensus), .text(configJSON)])
                return try Self.operationView(try connection.query(sql: """
                    INSERT INTO platform.operations (id, tenant_id, kind, target_id) VALUES ($1::uuid, $2::uuid, 'provision_chain', $3::uuid)
                    RETURNING \(Self.operationColumns)
                    """, name: "platform.ops.insert", [.text(operationID), .text(tenant), .text(chainID)]).first!)
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw APIError.conflict("the tenant has a chain named \(request.name)")
        }
        let algorithm = SignatureAlgorithm(rawValue: algorithmName)!
        provisioning.async { [self] in
            provisioningSlots.wait()
            defer { provisioningSlots.signal() }
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                try build(chain: chainID, validators: validatorCount, algorithm: algorithm)
                try finish(operation: operationID, error: nil)
                logger.info("chain provisioned", metadata: ["chain": "\(chainID)", "consensus": "\(request.consensus)",
                                                             "ms": "\((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)"])
            } catch {
                logger.error("chain provisioning failed", metadata: ["chain": "\(chainID)", "error": "\(error)"])
                try? setStatus(chain: chainID, "failed", failure: "\(error)")
                try? finish(operation: operationID, error: "\(error)")
            }
        }
        return operation
    }

    /// Creates the chain's schema, its validator keys and platform admin identity, commits the
    /// genesis block signed by every validator, marks the chain running and starts its worker.
    func build(chain id: String, validators count: Int, algorithm: SignatureAlgorithm) throws {
        let record = try pool.withConnection { connection in
            try Self.chainRecord(try connection.query(sql: "SELECT \(Self.chainColumns) FROM platform.chains WHERE id = $1::uuid",
                                                      name: "platform.chains.byid", [.text(id)]).first!)
        }
        _ = try PostgresMigrator(pool: pool, logger: logger).migrate(schema: record.schema, migrations: chainMigrations)
        try pool.withConnection { connection in
            _ = try connection.query(sql: "INSERT INTO \(record.schema).chain_info (chain_id) VALUES ($1::uuid) ON CONFLICT DO NOTHING",
                                     name: "chain.info.insert.\(record.schema)", [.text(id)])
        }
        let keys = try (0..<count).map { _ in try PrivateKey.generate(algorithm) }
        let validatorSet = ValidatorSet(keys: keys.map(\.publicKey))
        let admin = try PrivateKey.generate(.p256)
        let adminAddress = TransactionEnvelope.address(algorithm: .p256, publicKey: admin.publicKey.raw)
        let genesis = ChainGenesis(chainID: id, name: record.name, consensus: record.consensus,
                                   validators: keys.map { .init(algorithm: $0.algorithm, publicKey: Hex.encode($0.publicKey.raw)) },
                                   admins: [adminAddress], blockTransactionsMax: record.blockTransactionsMax, fuelMax: record.fuelMax,
                                   access: record.access)
        let timestamp = UInt64(Date().timeIntervalSince1970 * 1000)
        var envelope = TransactionEnvelope(chainID: id, contract: TransactionEnvelope.systemContract, method: ChainGenesis.method,
                                           args: genesis.encoded, nonce: SecureRandom().bytes(16), validUntil: .height(0),
                                           algorithm: .p256, signer: [], signature: [])
        try envelope.sign(with: admin)
        let executor = ContractExecutor(runtime: runtime, rules: ChainRules(admins: [], fuelMax: record.fuelMax, access: record.access))
        let transactions = try executor.execute([envelope], in: BlockContext(chainID: id, height: 0, timestampMilliseconds: timestamp),
                                                state: PostgresWorldState(schema: record.schema, pool: pool))
        guard transactions.count == 1, transactions[0].receipt.status == .committed else {
            throw GenesisError("the genesis transaction failed: \(transactions.first?.receipt.error ?? "no receipt")")
        }
        var ledger = CompactRange()
        ledger.append(RFC6962.leafHash(envelope.id))
        let header = BlockHeader(chainID: id, height: 0, previousHash: [UInt8](repeating: 0, count: 32), txRoot: BlockRoots.txRoot(transactions),
                                 writeSetRoot: BlockRoots.writeSetRoot(transactions), ledgerRoot: ledger.root, ledgerSize: ledger.size,
                                 timestamp: timestamp, proposer: 0, validatorSetHash: validatorSet.hash)
        let vote = CommitCertificate.voteBytes(chainID: id, height: 0, round: 0, blockHash: header.hash)
        let certificate = CommitCertificate(chainID: id, height: 0, round: 0, blockHash: header.hash,
                                            signatures: try keys.enumerated().map { .init(validator: UInt32($0.offset), signature: try $0.element.sign(vote)) })
        try certificate.verify(header: header, validators: validatorSet, limits: limits)
        try PostgresChainStore(schema: record.schema).commit(CommittedBlock(header: header, certificate: certificate, transactions: transactions), pool: pool)
        let adminID = Self.newID()
        try pool.transaction { connection in
            for (index, key) in keys.enumerated() {
                _ = try connection.query(sql: """
                    INSERT INTO platform.validators (chain_id, index, algorithm, public_key, wrapped_key) VALUES ($1::uuid, $2, $3, $4, $5)
                    """, name: "platform.validators.insert",
                    [.text(id), .int(index), .text(key.algorithm.rawValue), .bytea(key.publicKey.raw),
                     .bytea(try vault.wrap(key, purpose: "validator:\(id):\(index)"))])
            }
            _ = try connection.query(sql: """
                INSERT INTO platform.identities (id, chain_id, name, role, mode, algorithm, public_key, wrapped_key)
                VALUES ($1::uuid, $2::uuid, $3, 'admin', 'custodial', 'p256', $4, $5)
                """, name: "platform.identities.insert_admin",
                [.text(adminID), .text(id), .text(platformAdminIdentity), .bytea(admin.publicKey.raw),
                 .bytea(try vault.wrap(admin, purpose: "identity:\(id):\(adminID)"))])
            _ = try connection.query(sql: """
                UPDATE platform.chains SET status = 'running', genesis_hash = $2, updated_at = now() WHERE id = $1::uuid
                """, name: "platform.chains.genesis", [.text(id), .bytea(header.hash)])
        }
        try startWorker(chain: id)
    }

    static let operationColumns = "id::text, kind, status, target_id::text, error, \(iso("created_at")), \(iso("finished_at"))"

    static func operationView(_ row: PostgresRow) throws -> OperationView {
        OperationView(id: try row.decode(column: 0), kind: try row.decode(column: 1), status: try row.decode(column: 2),
                      targetId: try row.decode(column: 3), error: try row.decode(column: 4), createdAt: try row.decode(column: 5),
                      finishedAt: try row.decode(column: 6))
    }

    func finish(operation id: String, error: String?) throws {
        try pool.withConnection { connection in
            _ = try connection.query(sql: """
                UPDATE platform.operations SET status = $2, error = $3, finished_at = now() WHERE id = $1::uuid
                """, name: "platform.ops.finish", [.text(id), .text(error == nil ? "succeeded" : "failed"),
                                                    error.map { .text(String($0.prefix(4096))) } ?? .null])
        }
    }

    public func operation(tenant: String, id: String) throws -> OperationView {
        guard let operation = Self.uuid(id), let row = try pool.withConnection({ connection in
            try connection.query(sql: "SELECT \(Self.operationColumns) FROM platform.operations WHERE id = $1::uuid AND tenant_id = $2::uuid",
                                 name: "platform.ops.get", [.text(operation), .text(tenant)]).first
        }) else { throw APIError.notFound("operation \(id) not found") }
        return try Self.operationView(row)
    }
}
