public import Crypto
internal import Foundation
public import HanseCore

/// What a chain starts from, recorded by the one transaction of its first block (height 0),
/// `_system.genesis`, so that anyone holding block 0 and its inclusion proof knows the chain's
/// validators (every block header names their set by hash) and first admins. Block 0 is signed by
/// every validator.
public struct ChainGenesis: Codable, Sendable, Equatable {
    public struct Validator: Codable, Sendable, Equatable {
        public var algorithm: SignatureAlgorithm
        /// Raw public key, lower-case hex.
        public var publicKey: String
        public init(algorithm: SignatureAlgorithm, publicKey: String) {
            self.algorithm = algorithm
            self.publicKey = publicKey
        }
        enum CodingKeys: String, CodingKey { case algorithm, publicKey = "public_key" }
    }

    public var chainID: String
    public var name: String
    /// `solo` or `bft`.
    public var consensus: String
    public var validators: [Validator]
    /// Signer addresses that hold the admin role from the start.
    public var admins: [String]
    /// Block limits the chain was provisioned with.
    public var blockTransactionsMax: Int
    public var fuelMax: UInt64
    /// Who may call contracts: `members` (signers holding the writer or admin role) or `open`
    /// (any signer). Absent in chains created before access control; those are `open`.
    public var access: ChainAccess?

    public init(chainID: String, name: String, consensus: String, validators: [Validator], admins: [String],
                blockTransactionsMax: Int, fuelMax: UInt64, access: ChainAccess? = .members) {
        self.chainID = chainID
        self.name = name
        self.consensus = consensus
        self.validators = validators
        self.admins = admins
        self.blockTransactionsMax = blockTransactionsMax
        self.fuelMax = fuelMax
        self.access = access
    }

    enum CodingKeys: String, CodingKey {
        case chainID = "chain_id", name, consensus, validators, admins
        case blockTransactionsMax = "block_transactions_max", fuelMax = "fuel_max", access
    }

    /// The method of `_system` that records a genesis; it runs only at height 0.
    public static let method = "genesis"

    /// The canonical JSON of this genesis (sorted keys): the bytes of the genesis transaction's args.
    public var encoded: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try! encoder.encode(self))
    }

    /// Parses genesis args, refusing unknown or missing fields and malformed keys.
    public init(encoded bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(ChainGenesis.self, from: Data(bytes))
        guard encoded == bytes else { throw GenesisError("genesis args are not in canonical form (sorted keys, no spaces)") }
        _ = try validatorSet()
        for admin in admins where admin.utf8.count != 40 || Hex.decode(admin) == nil || admin != admin.lowercased() {
            throw GenesisError("admin \(admin) is not a signer address")
        }
    }

    /// The validator set the chain's block headers commit to.
    public func validatorSet() throws -> ValidatorSet {
        guard !validators.isEmpty else { throw GenesisError("a chain needs at least one validator") }
        return ValidatorSet(keys: try validators.map { validator in
            guard let raw = Hex.decode(validator.publicKey) else { throw GenesisError("validator key is not hex") }
            return try PublicKey(algorithm: validator.algorithm, raw: raw)
        })
    }
}

/// Who may call a chain's contracts (`_system` methods check their own rules: admins only).
public enum ChainAccess: String, Codable, Sendable, Equatable, CaseIterable {
    /// Only signers holding the writer or admin role (granted by `_system.grant_role`, which the
    /// identity routes call). Readers and unknown signers get a failed receipt.
    case members
    /// Any signer with a valid signature.
    case open
}

/// A genesis that cannot be used.
public struct GenesisError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
