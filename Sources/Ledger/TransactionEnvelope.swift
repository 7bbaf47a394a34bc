public import Crypto
public import HanseCore

/// When a transaction stops being valid.
public enum ValidUntil: Sendable, Equatable, Codable {
    /// Valid in blocks up to and including this height.
    case height(UInt64)
    /// Valid in blocks whose timestamp is at most this Unix time in milliseconds.
    case unixMilliseconds(UInt64)
}

/// Why a transaction was refused before it reached the mempool.
public struct TransactionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    /// The field at fault, for the API's problem document.
    public let field: String?
    init(_ description: String, field: String? = nil) {
        self.description = description
        self.field = field
    }
}

/// A client's signed request to call a contract method. The signature covers `signedBytes`, a
/// binary encoding specified in docs/signing.md; the transaction id is SHA-256 of those bytes
/// (not of the signature, which for ECDSA can be altered without the key).
public struct TransactionEnvelope: Sendable, Equatable {
    public var chainID: String { didSet { encode() } }
    public var contract: String { didSet { encode() } }
    public var method: String { didSet { encode() } }
    /// The arguments, a JSON document as bytes.
    public var args: [UInt8] { didSet { encode() } }
    /// Random bytes chosen by the client, so that two identical calls are two transactions.
    public var nonce: [UInt8] { didSet { encode() } }
    public var validUntil: ValidUntil { didSet { encode() } }
    /// The most fuel the call may burn (gas used = fuel consumed); the chain caps it further.
    public var gasLimit: UInt64 { didSet { encode() } }
    public var algorithm: SignatureAlgorithm { didSet { encode() } }
    /// The signer's raw public key.
    public var signer: [UInt8] { didSet { encode() } }
    /// The raw signature over `signedBytes` (64 bytes).
    public var signature: [UInt8]
    /// `signedBytes` and `id`, kept up to date by every change of a signed field: the node asks
    /// for them many times per transaction (mempool, execution, roots, commit).
    public private(set) var signedBytes: [UInt8] = []
    public private(set) var id: [UInt8] = []

    /// Domain tag of the signed bytes: nothing else Hanse signs starts with it.
    public static let domain = "HANSE-TX"
    public static let version: UInt8 = 1
    /// The contract name of the platform's own methods: contract lifecycle and roles.
    public static let systemContract = "_system"
    /// The gas limit of envelopes built without one: enough for any ordinary call.
    public static let defaultGasLimit: UInt64 = 10_000_000

    public init(chainID: String, contract: String, method: String, args: [UInt8], nonce: [UInt8], validUntil: ValidUntil,
                gasLimit: UInt64 = TransactionEnvelope.defaultGasLimit,
                algorithm: SignatureAlgorithm, signer: [UInt8], signature: [UInt8] = []) {
        self.chainID = chainID
        self.contract = contract
        self.method = method
        self.args = args
        self.nonce = nonce
        self.validUntil = validUntil
        self.gasLimit = gasLimit
        self.algorithm = algorithm
        self.signer = signer
        self.signature = signature
        encode()
    }

    /// Computes the bytes that are signed: domain tag, version, then the nine fields in order,
    /// each length-prefixed (docs/signing.md), and the id, SHA-256 of those bytes.
    private mutating func encode() {
        var writer = ByteWriter(domain: Self.domain, version: Self.version)
        writer.field(chainID)
        writer.field(contract)
        writer.field(method)
        writer.field(args)
        writer.field(nonce)
        var until = ByteWriter()
        switch validUntil {
        case .height(let height):
            until.u8(1)
            until.u64(height)
        case .unixMilliseconds(let milliseconds):
            until.u8(2)
            until.u64(milliseconds)
        }
        writer.field(until.bytes)
        writer.field(signer)
        writer.field(algorithm.rawValue)
        var gas = ByteWriter()
        gas.u64(gasLimit)
        writer.field(gas.bytes)
        signedBytes = writer.bytes
        id = SHA256.hash(signedBytes)
    }

    /// Checks sizes and names against `limits`; reports the first problem with its field.
    public func validate(limits: Limits = Limits()) throws(TransactionError) {
        for (name, value) in [("chain_id", chainID), ("contract", contract), ("method", method)] {
            guard !value.isEmpty, value.utf8.count <= limits.txNameBytesMax else {
                throw TransactionError("\(name) must be 1 to \(limits.txNameBytesMax) bytes, got \(value.utf8.count)", field: name)
            }
            guard value.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw TransactionError("\(name) must be printable ASCII without spaces", field: name)
            }
        }
        let argsMax = contract == Self.systemContract ? limits.systemArgsBytesMax : limits.txArgsBytesMax
        guard args.count <= argsMax else {
            throw TransactionError("args has \(args.count) bytes, limit \(argsMax)", field: "args")
        }
        guard (1...limits.txGasLimitMax).contains(gasLimit) else {
            throw TransactionError("gas_limit must be 1 to \(limits.txGasLimitMax), got \(gasLimit)", field: "gas_limit")
        }
        guard (limits.txNonceBytesMin...limits.txNonceBytesMax).contains(nonce.count) else {
            throw TransactionError("nonce must be \(limits.txNonceBytesMin) to \(limits.txNonceBytesMax) bytes, got \(nonce.count)", field: "nonce")
        }
        guard signer.count == algorithm.publicKeyBytes else {
            throw TransactionError("signer must be a \(algorithm.publicKeyBytes)-byte \(algorithm.rawValue) public key, got \(signer.count) bytes", field: "signer")
        }
        guard signature.count == algorithm.signatureBytes else {
            throw TransactionError("signature must be \(algorithm.signatureBytes) bytes, got \(signature.count)", field: "signature")
        }
    }

    /// Validates, then checks the signature with the signer's key (parsed keys come from `cache`).
    public func verify(limits: Limits = Limits(), cache: PublicKeyCache) throws(TransactionError) {
        try validate(limits: limits)
        let key: PublicKey
        do {
            key = try cache.key(algorithm: algorithm, raw: signer)
        } catch {
            throw TransactionError("signer is not a valid \(algorithm.rawValue) public key", field: "signer")
        }
        guard key.isValidSignature(signature, for: signedBytes) else {
            throw TransactionError("signature does not match the transaction and signer", field: "signature")
        }
    }

    /// Signs with `key`, setting `algorithm`, `signer` and `signature`.
    public mutating func sign(with key: PrivateKey) throws {
        algorithm = key.algorithm
        signer = key.publicKey.raw
        signature = try key.sign(signedBytes)
    }
}

extension TransactionEnvelope {
    /// Parses signed bytes back into an envelope (with `signature`), refusing anything that does
    /// not re-encode to exactly the same bytes.
    public init(signedBytes bytes: [UInt8], signature: [UInt8]) throws(TransactionError) {
        var reader = ByteReader(bytes)
        guard reader.take(Self.domain.utf8.count).map({ Array($0) == Array(Self.domain.utf8) }) == true,
              reader.take(1)?.first == Self.version else { throw TransactionError("not Hanse transaction bytes (domain tag or version)") }
        var fields: [[UInt8]] = []
        for _ in 0..<9 {
            guard let field = reader.field() else { throw TransactionError("truncated transaction bytes") }
            fields.append(field)
        }
        guard reader.isAtEnd else { throw TransactionError("bytes after the last field") }
        let until = fields[5]
        guard until.count == 9, until[0] == 1 || until[0] == 2 else { throw TransactionError("malformed valid_until", field: "valid_until") }
        let value = until[1...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard let algorithm = SignatureAlgorithm(rawValue: String(decoding: fields[7], as: UTF8.self)) else {
            throw TransactionError("unknown algorithm", field: "algorithm")
        }
        guard fields[8].count == 8 else { throw TransactionError("malformed gas_limit", field: "gas_limit") }
        let gasLimit = fields[8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self.init(chainID: String(decoding: fields[0], as: UTF8.self), contract: String(decoding: fields[1], as: UTF8.self),
                  method: String(decoding: fields[2], as: UTF8.self), args: fields[3], nonce: fields[4],
                  validUntil: until[0] == 1 ? .height(value) : .unixMilliseconds(value), gasLimit: gasLimit, algorithm: algorithm,
                  signer: fields[6], signature: signature)
        guard signedBytes == bytes else { throw TransactionError("transaction bytes are not in canonical form") }
    }
}

/// Reads the length-prefixed encodings written by `ByteWriter`.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func field() -> [UInt8]? {
        guard let length = take(4) else { return nil }
        let count = length.reduce(0) { $0 << 8 | Int($1) }
        return take(count).map(Array.init)
    }
}
