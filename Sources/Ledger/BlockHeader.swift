public import Crypto
public import HanseCore

/// The header of a block. Its hash, SHA-256 of `encoded`, is what validators sign and what the
/// next block points back to.
public struct BlockHeader: Sendable, Equatable, Codable {
    public var chainID: String
    public var height: UInt64
    public var previousHash: [UInt8]
    /// RFC 6962 root of the ids of this block's transactions, in order.
    public var txRoot: [UInt8]
    /// Root over the block's state writes (defined with execution).
    public var writeSetRoot: [UInt8]
    /// RFC 6962 root of every transaction id ever committed on the chain, in order.
    public var ledgerRoot: [UInt8]
    /// Number of leaves under `ledgerRoot`: proofs are against a tree of this size.
    public var ledgerSize: UInt64
    /// Proposal time, Unix milliseconds.
    public var timestamp: UInt64
    /// Index of the proposing validator.
    public var proposer: UInt32
    public var validatorSetHash: [UInt8]

    public static let domain = "HANSE-BLOCK"
    public static let version: UInt8 = 1

    public init(chainID: String, height: UInt64, previousHash: [UInt8], txRoot: [UInt8], writeSetRoot: [UInt8],
                ledgerRoot: [UInt8], ledgerSize: UInt64, timestamp: UInt64, proposer: UInt32, validatorSetHash: [UInt8]) {
        self.chainID = chainID
        self.height = height
        self.previousHash = previousHash
        self.txRoot = txRoot
        self.writeSetRoot = writeSetRoot
        self.ledgerRoot = ledgerRoot
        self.ledgerSize = ledgerSize
        self.timestamp = timestamp
        self.proposer = proposer
        self.validatorSetHash = validatorSetHash
    }

    /// Domain tag, version, chain id (length-prefixed), height, the four 32-byte roots with the
    /// previous hash, ledger size, timestamp, proposer, validator set hash (docs/signing.md).
    public var encoded: [UInt8] {
        var writer = ByteWriter(domain: Self.domain, version: Self.version)
        writer.field(chainID)
        writer.u64(height)
        writer.hash(previousHash)
        writer.hash(txRoot)
        writer.hash(writeSetRoot)
        writer.hash(ledgerRoot)
        writer.u64(ledgerSize)
        writer.u64(timestamp)
        writer.u32(proposer)
        writer.hash(validatorSetHash)
        return writer.bytes
    }

    /// SHA-256 of `encoded`.
    public var hash: [UInt8] { SHA256.hash(encoded) }
}

/// A chain's validators, in index order.
public struct ValidatorSet: Sendable, Equatable {
    public let keys: [PublicKey]

    public init(keys: [PublicKey]) { self.keys = keys }

    /// Signatures needed to commit: more than two thirds, i.e. 2f+1 of n = 3f+1.
    public var quorum: Int { keys.count * 2 / 3 + 1 }

    /// SHA-256 over the domain tag, the count and each key's algorithm and raw bytes.
    public var hash: [UInt8] {
        var writer = ByteWriter(domain: "HANSE-VALIDATORS", version: 1)
        writer.u32(UInt32(keys.count))
        for key in keys {
            writer.field(key.algorithm.rawValue)
            writer.field(key.raw)
        }
        return SHA256.hash(writer.bytes)
    }
}

/// Why a commit certificate does not prove a block.
public struct CertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Proof that a quorum of validators committed a block: each signs `voteBytes`, which names
/// the chain, height, round and block hash.
public struct CommitCertificate: Sendable, Equatable, Codable {
    public struct Signature: Sendable, Equatable, Codable {
        public var validator: UInt32
        public var signature: [UInt8]
        public init(validator: UInt32, signature: [UInt8]) {
            self.validator = validator
            self.signature = signature
        }
    }

    public var chainID: String
    public var height: UInt64
    public var round: UInt32
    public var blockHash: [UInt8]
    public var signatures: [Signature]

    public init(chainID: String, height: UInt64, round: UInt32, blockHash: [UInt8], signatures: [Signature]) {
        self.chainID = chainID
        self.height = height
        self.round = round
        self.blockHash = blockHash
        self.signatures = signatures
    }

    public static let domain = "HANSE-COMMIT"
    public static let version: UInt8 = 1

    /// What each validator signs.
    public static func voteBytes(chainID: String, height: UInt64, round: UInt32, blockHash: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: domain, version: version)
        writer.field(chainID)
        writer.u64(height)
        writer.u32(round)
        writer.hash(blockHash)
        return writer.bytes
    }

    /// Checks the certificate proves `header` under `validators`: it names the header's chain,
    /// height and hash, and holds valid signatures from at least a quorum of distinct validators.
    public func verify(header: BlockHeader, validators: ValidatorSet, limits: Limits = Limits()) throws(CertificateError) {
        guard (1...limits.chainValidatorsMax).contains(validators.keys.count) else {
            throw CertificateError("validator set of \(validators.keys.count), want 1 to \(limits.chainValidatorsMax)")
        }
        guard signatures.count <= validators.keys.count else {
            throw CertificateError("\(signatures.count) signatures for \(validators.keys.count) validators")
        }
        guard chainID == header.chainID, height == header.height else {
            throw CertificateError("certificate is for \(chainID) height \(height), block is \(header.chainID) height \(header.height)")
        }
        guard blockHash == header.hash else { throw CertificateError("certificate signs another block hash") }
        guard validators.hash == header.validatorSetHash else { throw CertificateError("validator set does not match the block's") }
        let message = Self.voteBytes(chainID: chainID, height: height, round: round, blockHash: blockHash)
        var signers = Set<UInt32>()
        for entry in signatures {
            guard Int(entry.validator) < validators.keys.count else { throw CertificateError("validator index \(entry.validator) is not in the set") }
            guard signers.insert(entry.validator).inserted else { throw CertificateError("validator \(entry.validator) signed twice") }
            guard validators.keys[Int(entry.validator)].isValidSignature(entry.signature, for: message) else {
                throw CertificateError("signature of validator \(entry.validator) is not valid")
            }
        }
        guard signers.count >= validators.quorum else {
            throw CertificateError("\(signers.count) signatures, need \(validators.quorum) of \(validators.keys.count)")
        }
    }
}
