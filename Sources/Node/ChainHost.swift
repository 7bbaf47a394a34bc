public import Consensus
public import Crypto
public import Ledger
internal import HanseCore

/// The consensus host of one validator of a chain: signs with the validator's key, verifies with
/// the chain's validator set, names a value by its block hash, and asks the chain's worker
/// whether a proposed block is right. Precommits for a block are signed over the ledger's
/// commit-vote bytes, so a decision's precommits are the block's `CommitCertificate`.
public struct ChainHost: ConsensusHost {
    let chainID: String
    let key: PrivateKey
    let validators: ValidatorSet
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
        validators.keys.indices.contains(vote.validator)
            && validators.keys[vote.validator].isValidSignature(signature, for: Self.bytes(vote, chainID: chainID))
    }

    public func isValid(_ signature: [UInt8], of proposal: Proposal) -> Bool {
        validators.keys.indices.contains(proposal.proposer)
            && validators.keys[proposal.proposer].isValidSignature(signature, for: Self.bytes(proposal, chainID: chainID))
    }
}
