public import API
internal import Crypto
internal import Foundation
internal import HanseCore
internal import Ledger
internal import Merkle

/// Checks a saved inclusion proof (the answer of `GET …/transactions/{tx}/proof`) with nothing
/// but the document itself: the transaction's signature, its id, the audit path to the block's
/// ledger root, the block hash, and a quorum of validator signatures over that hash. What it
/// cannot know by itself is whether the validators are the chain's: compare the validator set
/// hash it returns with the one of a genesis block you trust (or pass `expectedValidatorSetHash`).
public enum ProofVerifier {
    public struct Verified: Sendable, Equatable {
        public var txID: String
        public var height: UInt64
        public var blockHash: String
        public var validatorSetHash: String
        public var signers: Int
        public var validators: Int
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Decodes a proof document as the API writes it (snake_case members).
    public static func decode(_ bytes: [UInt8]) throws -> InclusionProofView {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(InclusionProofView.self, from: Data(bytes)) } catch { throw Failure("not an inclusion proof document: \(error)") }
    }

    public static func verify(_ proof: InclusionProofView, expectedValidatorSetHash: String? = nil) throws -> Verified {
        func hex(_ text: String, _ what: String) throws -> [UInt8] {
            guard let bytes = Hex.decode(text) else { throw Failure("\(what) is not hex") }
            return bytes
        }
        // The transaction: its id is the SHA-256 of the signed bytes, signed by its signer.
        guard let signedBytes = Data(base64Encoded: proof.signedBytes).map(Array.init) else { throw Failure("signed_bytes is not base64") }
        let envelope: TransactionEnvelope
        do { envelope = try TransactionEnvelope(signedBytes: signedBytes, signature: try hex(proof.signature, "signature")) } catch {
            throw Failure("the transaction bytes do not parse: \(error)")
        }
        guard Hex.encode(envelope.id) == proof.txId.lowercased() else { throw Failure("tx_id is not the SHA-256 of signed_bytes") }
        do { try envelope.verify(cache: PublicKeyCache()) } catch { throw Failure("the transaction's signature is not valid: \(error)") }

        // The block header, rebuilt from its fields: its hash must be the one the validators signed.
        let block = proof.block
        let header = BlockHeader(chainID: block.chainId, height: block.height, previousHash: try hex(block.previousHash, "previous_hash"),
                                 txRoot: try hex(block.txRoot, "tx_root"), writeSetRoot: try hex(block.writeSetRoot, "write_set_root"),
                                 ledgerRoot: try hex(block.ledgerRoot, "ledger_root"), ledgerSize: block.ledgerSize, timestamp: block.timestamp,
                                 proposer: block.proposer, validatorSetHash: try hex(block.validatorSetHash, "validator_set_hash"))
        guard Hex.encode(header.hash) == block.hash.lowercased() else { throw Failure("the block's fields do not hash to its hash") }
        guard envelope.chainID == header.chainID else { throw Failure("the transaction is for chain \(envelope.chainID), the block is \(header.chainID)") }

        // The audit path from the transaction's leaf to the block's ledger root.
        guard proof.treeSize == header.ledgerSize else { throw Failure("tree_size \(proof.treeSize) is not the block's ledger size \(header.ledgerSize)") }
        do {
            try MerkleVerifier.verifyInclusion(index: proof.leafIndex, size: proof.treeSize, leafHash: RFC6962.leafHash(envelope.id),
                                               proof: try proof.auditPath.map { try hex($0, "audit_path") }, root: header.ledgerRoot)
        } catch let error as MerkleProofError {
            throw Failure("the audit path does not lead to the block's ledger root: \(error)")
        }

        // The commit certificate: a quorum of the validators signed this block.
        let keys = try proof.validators.sorted { $0.index < $1.index }.enumerated().map { offset, validator in
            guard validator.index == offset, let algorithm = SignatureAlgorithm(rawValue: validator.algorithm) else {
                throw Failure("validators must be numbered 0… with a known algorithm")
            }
            do { return try PublicKey(algorithm: algorithm, raw: try hex(validator.publicKey, "validator public_key")) } catch {
                throw Failure("validator \(validator.index): \(error)")
            }
        }
        let validators = ValidatorSet(keys: keys)
        if let expected = expectedValidatorSetHash, expected.lowercased() != Hex.encode(validators.hash) {
            throw Failure("the validators are not the expected set (hash \(Hex.encode(validators.hash)), want \(expected))")
        }
        let certificate = CommitCertificate(chainID: header.chainID, height: header.height, round: block.certificate.round, blockHash: header.hash,
                                            signatures: try block.certificate.signatures.map { .init(validator: $0.validator, signature: try hex($0.signature, "certificate signature")) })
        do { try certificate.verify(header: header, validators: validators) } catch {
            throw Failure("the commit certificate does not prove the block: \(error)")
        }
        return Verified(txID: proof.txId, height: header.height, blockHash: block.hash, validatorSetHash: Hex.encode(validators.hash),
                        signers: certificate.signatures.count, validators: keys.count)
    }
}
