public import Consensus
public import Crypto
public import Ledger
internal import HanseCore
internal import Synchronization

/// The consensus host of one validator of a chain: signs with the validator's key, verifies with
/// the chain's validator set, names a value by its block hash, and asks the chain's worker
/// whether a proposed block is right. Precommits for a block are signed over the ledger's
/// commit-vote bytes, so a decision's precommits are the block's `CommitCertificate`.
public struct ChainHost: ConsensusHost {
    let chainID: String
    let key: PrivateKey
    let validators: ValidatorSet
    /// Signatures already checked by a validator hosted on the same worker.
    let verified: VerifiedSignatures
    /// Judges a proposed block (decodes, re-executes, compares the header); called on the worker's queue.
    let judge: ([UInt8], UInt64) -> Bool

    public func valueID(of value: [UInt8]) -> [UInt8] {
        BlockProposal.header(ofEncoded: value)?.hash ?? SHA256.hash(value)
    }

    public func isAcceptable(_ value: [UInt8], height: UInt64) -> Bool { judge(value, height) }

    static func bytes(_ vote: Vote, chainID: String) -> [UInt8] {
        if vote.type == .precommit, let id = vote.valueID, id.count == 32 {
            return CommitCertificate.voteBytes(chainID: chainID, height: vote.height, round: vote.round, blockHash: id)
        }
        var writer = ByteWriter(domain: "HANSE-VOTE", version: 1)
        writer.field(chainID)
        writer.u8(vote.type.rawValue)
        writer.u64(vote.height)
        writer.u32(vote.round)
        writer.field(vote.valueID ?? [])
        return writer.bytes
    }

    static func bytes(_ proposal: Proposal, chainID: String) -> [UInt8] {
        var writer = ByteWriter(domain: "HANSE-PROPOSE", version: 1)
        writer.field(chainID)
        writer.u64(proposal.height)
        writer.u32(proposal.round)
        writer.u64(UInt64(bitPattern: proposal.validRound))
        writer.field(SHA256.hash(proposal.value))
        return writer.bytes
    }

    public func sign(_ vote: Vote) -> [UInt8] {
        (try? key.sign(Self.bytes(vote, chainID: chainID))) ?? []
    }

    public func sign(_ proposal: Proposal) -> [UInt8] {
        (try? key.sign(Self.bytes(proposal, chainID: chainID))) ?? []
    }

    public func isValid(_ signature: [UInt8], of vote: Vote) -> Bool {
        isValid(signature, by: vote.validator, of: Self.bytes(vote, chainID: chainID))
    }

    public func isValid(_ signature: [UInt8], of proposal: Proposal) -> Bool {
        isValid(signature, by: proposal.proposer, of: Self.bytes(proposal, chainID: chainID))
    }

    private func isValid(_ signature: [UInt8], by validator: Int, of message: [UInt8]) -> Bool {
        guard validators.keys.indices.contains(validator) else { return false }
        if verified.contains(signature, by: validator, of: message) { return true }
        guard validators.keys[validator].isValidSignature(signature, for: message) else { return false }
        verified.insert(signature, by: validator, of: message)
        return true
    }
}

/// Signatures found valid by one of a worker's hosted validators, so that the others do not
/// check them again: every message between validators on one node reaches all of them, and
/// each used to verify it on its own (about 27 checks per block for four validators, on the
/// chain's serial queue). A hit needs the same validator, signature and message bytes. Bounded:
/// it forgets everything once it holds `capacity` entries (a height needs a few dozen).
final class VerifiedSignatures: Sendable {
    private struct Entry: Hashable {
        let validator: Int
        let signature: [UInt8]
        let message: [UInt8]
    }

    private let entries = Mutex<Set<Entry>>([])
    private let capacity: Int

    init(capacity: Int = 512) { self.capacity = capacity }

    func contains(_ signature: [UInt8], by validator: Int, of message: [UInt8]) -> Bool {
        entries.withLock { $0.contains(Entry(validator: validator, signature: signature, message: message)) }
    }

    func insert(_ signature: [UInt8], by validator: Int, of message: [UInt8]) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries.insert(Entry(validator: validator, signature: signature, message: message))
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
