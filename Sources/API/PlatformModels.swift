internal import Foundation

// The documents of the tenant and operator API. Property names become snake_case on the wire
// (`jsonResponse`, `RequestContext.decode`); byte strings are lower-case hex for hashes, ids, keys
// and signatures, and base64 for bulk bytes (signed transaction bytes, contract code).

/// One page of a list, and the cursor of the next page (nil on the last).
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    public var items: [Item]
    public var nextCursor: String?
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Where a list page starts and how long it is.
public struct PageRequest: Sendable, Equatable {
    public var cursor: String?
    public var limit: Int
    public init(cursor: String?, limit: Int) {
        self.cursor = cursor
        self.limit = limit
    }
}

public struct Quotas: Codable, Sendable, Equatable {
    public var chains: Int
    public var txPerSecond: Int
    public var storageBytes: Int64
    public init(chains: Int = 10, txPerSecond: Int = 1000, storageBytes: Int64 = 10 << 30) {
        self.chains = chains
        self.txPerSecond = txPerSecond
        self.storageBytes = storageBytes
    }
}

public struct TenantView: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var display: String
    public var status: String
    public var quotas: Quotas
    public var createdAt: String
    public init(id: String, name: String, display: String, status: String, quotas: Quotas, createdAt: String) {
        self.id = id
        self.name = name
        self.display = display
        self.status = status
        self.quotas = quotas
        self.createdAt = createdAt
    }
}

public struct CreateTenantRequest: APIRequestBody, Sendable {
    public var name: String
    public var display: String?
    public var quotas: Quotas?
    public static let fields: Set<String> = ["name", "display", "quotas"]
}

public struct UpdateTenantRequest: APIRequestBody, Sendable {
    public var status: String?
    public var display: String?
    public var quotas: Quotas?
    public static let fields: Set<String> = ["status", "display", "quotas"]
}

public struct UsageView: Codable, Sendable, Equatable {
    public var tenantId: String
    public var requests: Int64
    public var txs: Int64
    public var gas: Int64
    public var storageBytes: Int64
    public var chains: Int
    public init(tenantId: String, requests: Int64, txs: Int64, gas: Int64, storageBytes: Int64, chains: Int) {
        self.tenantId = tenantId
        self.requests = requests
        self.txs = txs
        self.gas = gas
        self.storageBytes = storageBytes
        self.chains = chains
    }
}

public struct APIKeyView: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var name: String
    public var prefix: String
    public var scopes: [Scope]
    public var createdAt: String
    public var revokedAt: String?
    public init(id: String, tenantId: String, name: String, prefix: String, scopes: [Scope], createdAt: String, revokedAt: String?) {
        self.id = id
        self.tenantId = tenantId
        self.name = name
        self.prefix = prefix
        self.scopes = scopes
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// A new key with its secret, the only time the secret is shown.
public struct CreatedAPIKey: Encodable, Sendable {
    public var key: APIKeyView
    public var secret: String
    public init(key: APIKeyView, secret: String) {
        self.key = key
        self.secret = secret
    }
}

public struct CreateAPIKeyRequest: APIRequestBody, Sendable {
    public var name: String
    public var scopes: [Scope]
    public static let fields: Set<String> = ["name", "scopes"]
}

public struct OperationView: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var status: String
    public var targetId: String
    public var error: String?
    public var createdAt: String
    public var finishedAt: String?
    public init(id: String, kind: String, status: String, targetId: String, error: String?, createdAt: String, finishedAt: String?) {
        self.id = id
        self.kind = kind
        self.status = status
        self.targetId = targetId
        self.error = error
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

public struct ValidatorView: Codable, Sendable, Equatable {
    public var index: Int
    public var algorithm: String
    public var publicKey: String
    public init(index: Int, algorithm: String, publicKey: String) {
        self.index = index
        self.algorithm = algorithm
        self.publicKey = publicKey
    }
}

public struct ChainView: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var consensus: String
    public var status: String
    public var failure: String?
    public var validators: [ValidatorView]
    public var blockTransactionsMax: Int
    public var fuelMax: UInt64
    /// `members` or `open`: who may call contracts.
    public var access: String
    /// Height of the latest block; nil while provisioning.
    public var height: UInt64?
    public var latestBlockHash: String?
    public var genesisHash: String?
    public var mempool: Int?
    public var createdAt: String
    public init(id: String, name: String, consensus: String, status: String, failure: String?, validators: [ValidatorView],
                blockTransactionsMax: Int, fuelMax: UInt64, access: String, height: UInt64?, latestBlockHash: String?, genesisHash: String?,
                mempool: Int?, createdAt: String) {
        self.id = id
        self.name = name
        self.consensus = consensus
        self.status = status
        self.failure = failure
        self.validators = validators
        self.blockTransactionsMax = blockTransactionsMax
        self.fuelMax = fuelMax
        self.access = access
        self.height = height
        self.latestBlockHash = latestBlockHash
        self.genesisHash = genesisHash
        self.mempool = mempool
        self.createdAt = createdAt
    }
}

public struct CreateChainRequest: APIRequestBody, Sendable {
    public var name: String
    /// `solo` or `bft`.
    public var consensus: String
    /// Validators of a `bft` chain: 4 to 100 (solo has one).
    public var validators: Int?
    /// Algorithm of the validator keys: p256 (default), ed25519 or sm2.
    public var validatorAlgorithm: String?
    public var blockTransactionsMax: Int?
    public var fuelMax: UInt64?
    /// Who may call contracts: `members` (default; signers with the writer or admin role) or `open`.
    public var access: String?
    public static let fields: Set<String> = ["name", "consensus", "validators", "validator_algorithm", "block_transactions_max", "fuel_max", "access"]
}

public struct IdentityView: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: String
    public var mode: String
    public var algorithm: String
    public var publicKey: String
    /// The signer address contracts see (`caller`).
    public var address: String
    public var createdAt: String
    public var revokedAt: String?
    public init(id: String, name: String, role: String, mode: String, algorithm: String, publicKey: String, address: String,
                createdAt: String, revokedAt: String?) {
        self.id = id
        self.name = name
        self.role = role
        self.mode = mode
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.address = address
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

public struct CreateIdentityRequest: APIRequestBody, Sendable {
    public var name: String
    /// admin, writer or reader.
    public var role: String
    /// custodial (the platform keeps the key) or external (the client does).
    public var mode: String
    public var algorithm: String?
    /// External identities: the raw public key in hex, or a PEM SubjectPublicKeyInfo.
    public var publicKey: String?
    public static let fields: Set<String> = ["name", "role", "mode", "algorithm", "public_key"]
}

public struct ContractVersionView: Codable, Sendable, Equatable {
    public var version: String
    public var codeHash: String
    public var height: UInt64
    public var txId: String
    public init(version: String, codeHash: String, height: UInt64, txId: String) {
        self.version = version
        self.codeHash = codeHash
        self.height = height
        self.txId = txId
    }
}

public struct ContractView: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var codeHash: String
    public var status: String
    public var methods: [String]
    public var history: [ContractVersionView]
    public init(name: String, version: String, codeHash: String, status: String, methods: [String], history: [ContractVersionView]) {
        self.name = name
        self.version = version
        self.codeHash = codeHash
        self.status = status
        self.methods = methods
        self.history = history
    }
}

/// Deploy or upgrade: code as base64 (`code`) or WebAssembly text (`wat`).
public struct InstallContractRequest: APIRequestBody, Sendable {
    public var name: String?
    public var version: String
    public var code: String?
    public var wat: String?
    /// Arguments of `init` (deploy) or `migrate` (upgrade): the exact bytes of this string.
    public var initArgs: String?
    public var migrateArgs: String?
    /// The custodial admin identity that signs; default: the chain's platform admin.
    public var identity: String?
    public static let fields: Set<String> = ["name", "version", "code", "wat", "init_args", "migrate_args", "identity"]
}

public struct LifecycleRequest: APIRequestBody, Sendable {
    public var identity: String?
    public static let fields: Set<String> = ["identity"]
}

/// A contract event, or a block event (kind `block`, contract `_chain`, one per block, before the
/// block's contract events). `id` is stable: chain, height, and transaction and event index (or
/// `block`); `seq` counts every event of the chain from 0 without gaps.
public struct EventView: Codable, Sendable, Equatable {
    public var id: String?
    public var kind: String
    public var seq: Int64?
    public var height: UInt64?
    public var txIndex: Int?
    public var eventIndex: Int
    public var contract: String
    public var topic: String
    /// The event's data as text when it is UTF-8, else nil; always in `data_base64`.
    public var data: String?
    public var dataBase64: String
    public init(chain: String?, seq: Int64?, height: UInt64?, txIndex: Int?, eventIndex: Int, contract: String, topic: String,
                bytes: [UInt8]) {
        kind = txIndex == -1 ? "block" : "contract"
        if let chain, let height, let txIndex {
            id = txIndex == -1 ? "\(chain):\(height):block" : "\(chain):\(height):\(txIndex):\(eventIndex)"
        }
        self.seq = seq
        self.height = height
        self.txIndex = txIndex
        self.eventIndex = eventIndex
        self.contract = contract
        self.topic = topic
        self.data = String(validating: bytes, as: UTF8.self)
        self.dataBase64 = Data(bytes).base64EncodedString()
    }
}

/// Where a transaction stands: accepted (in the mempool), committed, failed (committed with a
/// failed receipt), expired, or unknown. Final states never change.
public struct TransactionStatusView: Codable, Sendable, Equatable {
    public var txId: String
    public var status: String
    public var height: UInt64?
    public var indexInBlock: Int?
    public var contract: String?
    public var method: String?
    public var signer: String?
    public var gasUsed: UInt64?
    public var result: String?
    public var resultBase64: String?
    public var error: String?
    public var events: [EventView]?
    public init(txId: String, status: String) {
        self.txId = txId
        self.status = status
    }
}

/// A client-signed transaction: the signed bytes (docs/signing.md) and the signature over them.
public struct SubmitTransactionRequest: APIRequestBody, Sendable {
    public var signedBytes: String
    public var signature: String
    public static let fields: Set<String> = ["signed_bytes", "signature"]
}

public struct BatchSubmitRequest: APIRequestBody, Sendable {
    public var transactions: [SubmitTransactionRequest]
    public static let fields: Set<String> = ["transactions"]

    public static func checkNestedFields(_ object: [String: Any]) throws {
        guard let items = object["transactions"] as? [Any] else { return }
        for (index, item) in items.enumerated() {
            guard let fields = item as? [String: Any] else { continue }
            if let unknown = fields.keys.sorted().first(where: { !SubmitTransactionRequest.fields.contains($0) }) {
                let field = "transactions[\(index)].\(unknown)"
                throw APIError.badRequest("unknown field \(field) (known: \(SubmitTransactionRequest.fields.sorted().joined(separator: ", ")))", field: field)
            }
        }
    }
}

extension SubmitTransactionRequest: Codable {}

/// The fields of a transaction to be signed elsewhere (browser, wallet, HSM).
public struct PrepareTransactionRequest: APIRequestBody, Sendable {
    public var contract: String
    public var method: String
    /// The exact bytes of the arguments document.
    public var args: String?
    public var algorithm: String
    /// The signer's raw public key in hex.
    public var publicKey: String
    /// Hex; default: 16 random bytes.
    public var nonce: String?
    /// Valid until this chain height, or until this Unix time in milliseconds.
    public var validUntilHeight: UInt64?
    public var validUntilMs: UInt64?
    public var gasLimit: UInt64?
    public static let fields: Set<String> = ["contract", "method", "args", "algorithm", "public_key", "nonce",
                                             "valid_until_height", "valid_until_ms", "gas_limit"]
}

public struct PreparedTransaction: Codable, Sendable, Equatable {
    /// Sign these bytes (base64) and submit them with the signature.
    public var signedBytes: String
    public var signedBytesHex: String
    public var txId: String
    public init(signedBytes: String, signedBytesHex: String, txId: String) {
        self.signedBytes = signedBytes
        self.signedBytesHex = signedBytesHex
        self.txId = txId
    }
}

/// A call signed by the platform with a custodial identity.
public struct CallRequest: APIRequestBody, Sendable {
    public var identity: String
    public var contract: String
    public var method: String
    public var args: String?
    public var gasLimit: UInt64?
    public static let fields: Set<String> = ["identity", "contract", "method", "args", "gas_limit"]
}

public struct QueryRequest: APIRequestBody, Sendable {
    public var contract: String
    public var method: String
    public var args: String?
    /// The address `caller` returns; default all zeros.
    public var caller: String?
    public static let fields: Set<String> = ["contract", "method", "args", "caller"]
}

public struct QueryView: Codable, Sendable, Equatable {
    public var result: String?
    public var resultBase64: String
    public var gasUsed: UInt64
    public var logs: [String]
    public var height: UInt64?
    public init(result: [UInt8], gasUsed: UInt64, logs: [String], height: UInt64?) {
        self.result = String(validating: result, as: UTF8.self)
        self.resultBase64 = Data(result).base64EncodedString()
        self.gasUsed = gasUsed
        self.logs = logs
        self.height = height
    }
}

public struct StateView: Codable, Sendable, Equatable {
    public var contract: String
    public var keyHex: String
    public var value: String?
    public var valueBase64: String?
    public var version: Int64
    public var height: UInt64
    public var deleted: Bool
    public init(contract: String, key: [UInt8], value: [UInt8]?, version: Int64, height: UInt64) {
        self.contract = contract
        self.keyHex = key.map { String(format: "%02x", $0) }.joined()
        self.value = value.flatMap { String(validating: $0, as: UTF8.self) }
        self.valueBase64 = value.map { Data($0).base64EncodedString() }
        self.version = version
        self.height = height
        self.deleted = value == nil
    }
}

public struct SignatureView: Codable, Sendable, Equatable {
    public var validator: UInt32
    public var signature: String
    public init(validator: UInt32, signature: String) {
        self.validator = validator
        self.signature = signature
    }
}

public struct CertificateView: Codable, Sendable, Equatable {
    public var round: UInt32
    public var signatures: [SignatureView]
    public init(round: UInt32, signatures: [SignatureView]) {
        self.round = round
        self.signatures = signatures
    }
}

public struct BlockView: Codable, Sendable, Equatable {
    public var chainId: String
    public var height: UInt64
    public var hash: String
    public var previousHash: String
    public var txRoot: String
    public var writeSetRoot: String
    public var ledgerRoot: String
    public var ledgerSize: UInt64
    public var timestamp: UInt64
    public var proposer: UInt32
    public var validatorSetHash: String
    public var certificate: CertificateView
    public var transactionCount: Int
    public init(chainId: String, height: UInt64, hash: String, previousHash: String, txRoot: String, writeSetRoot: String,
                ledgerRoot: String, ledgerSize: UInt64, timestamp: UInt64, proposer: UInt32, validatorSetHash: String,
                certificate: CertificateView, transactionCount: Int) {
        self.chainId = chainId
        self.height = height
        self.hash = hash
        self.previousHash = previousHash
        self.txRoot = txRoot
        self.writeSetRoot = writeSetRoot
        self.ledgerRoot = ledgerRoot
        self.ledgerSize = ledgerSize
        self.timestamp = timestamp
        self.proposer = proposer
        self.validatorSetHash = validatorSetHash
        self.certificate = certificate
        self.transactionCount = transactionCount
    }
}

/// Everything a stranger needs to check that a transaction is in the chain: the transaction's
/// signed bytes (its id is their SHA-256), the RFC 6962 audit path to the ledger root of a block,
/// that block's header and commit certificate, and the validators (from the genesis).
public struct InclusionProofView: Codable, Sendable, Equatable {
    public var txId: String
    public var signedBytes: String
    public var signature: String
    public var leafIndex: UInt64
    public var treeSize: UInt64
    public var auditPath: [String]
    public var block: BlockView
    public var validators: [ValidatorView]
    public init(txId: String, signedBytes: String, signature: String, leafIndex: UInt64, treeSize: UInt64, auditPath: [String],
                block: BlockView, validators: [ValidatorView]) {
        self.txId = txId
        self.signedBytes = signedBytes
        self.signature = signature
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.auditPath = auditPath
        self.block = block
        self.validators = validators
    }
}

public struct ConsistencyProofView: Codable, Sendable, Equatable {
    public var fromHeight: UInt64
    public var toHeight: UInt64
    public var fromSize: UInt64
    public var toSize: UInt64
    public var fromRoot: String
    public var toRoot: String
    public var proof: [String]
    public init(fromHeight: UInt64, toHeight: UInt64, fromSize: UInt64, toSize: UInt64, fromRoot: String, toRoot: String, proof: [String]) {
        self.fromHeight = fromHeight
        self.toHeight = toHeight
        self.fromSize = fromSize
        self.toSize = toSize
        self.fromRoot = fromRoot
        self.toRoot = toRoot
        self.proof = proof
    }
}

public struct AuditEntryView: Codable, Sendable, Equatable {
    public var seq: Int64
    public var tenantId: String?
    public var actor: String
    public var action: String
    public var target: String
    public var requestId: String
    public var status: Int
    public var at: String
    public init(seq: Int64, tenantId: String?, actor: String, action: String, target: String, requestId: String, status: Int, at: String) {
        self.seq = seq
        self.tenantId = tenantId
        self.actor = actor
        self.action = action
        self.target = target
        self.requestId = requestId
        self.status = status
        self.at = at
    }
}
