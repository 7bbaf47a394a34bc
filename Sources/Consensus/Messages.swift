/// The two kinds of vote of a Tendermint round.
public enum VoteType: UInt8, Sendable, Hashable, Codable {
    case prevote = 1
    case precommit = 2
}

/// A validator's vote for a value (by its id) or for nothing (`valueID == nil`) in one round.
public struct Vote: Sendable, Hashable, Codable {
    public var type: VoteType
    public var height: UInt64
    public var round: UInt32
    public var valueID: [UInt8]?
    public var validator: Int

    public init(type: VoteType, height: UInt64, round: UInt32, valueID: [UInt8]?, validator: Int) {
        self.type = type
        self.height = height
        self.round = round
        self.valueID = valueID
        self.validator = validator
    }
}

public struct SignedVote: Sendable, Hashable, Codable {
    public var vote: Vote
    public var signature: [UInt8]
    public init(vote: Vote, signature: [UInt8]) {
        self.vote = vote
        self.signature = signature
    }
}

/// The proposer's value for a round, with the round in which it was last seen with a prevote
/// quorum (`validRound`, -1 if none): the paper's PROPOSAL message.
public struct Proposal: Sendable, Hashable, Codable {
    public var height: UInt64
    public var round: UInt32
    public var value: [UInt8]
    public var validRound: Int64
    public var proposer: Int

    public init(height: UInt64, round: UInt32, value: [UInt8], validRound: Int64, proposer: Int) {
        self.height = height
        self.round = round
        self.value = value
        self.validRound = validRound
        self.proposer = proposer
    }
}

public struct SignedProposal: Sendable, Hashable, Codable {
    public var proposal: Proposal
    public var signature: [UInt8]
    public init(proposal: Proposal, signature: [UInt8]) {
        self.proposal = proposal
        self.signature = signature
    }
}

/// A decided value with its proof: precommits of a quorum for its id in one round. It is what a
/// validator commits, and what brings a validator that fell behind up to date.
public struct Decision: Sendable, Hashable, Codable {
    public var height: UInt64
    public var round: UInt32
    public var value: [UInt8]
    public var precommits: [SignedVote]

    public init(height: UInt64, round: UInt32, value: [UInt8], precommits: [SignedVote]) {
        self.height = height
        self.round = round
        self.value = value
        self.precommits = precommits
    }
}

/// What validators send each other.
public enum ConsensusMessage: Sendable, Hashable, Codable {
    case proposal(SignedProposal)
    case vote(SignedVote)
    /// A decision, sent to a validator that is behind.
    case decision(Decision)

    /// The height the message is about.
    public var height: UInt64 {
        switch self {
        case .proposal(let signed): signed.proposal.height
        case .vote(let signed): signed.vote.height
        case .decision(let decision): decision.height
        }
    }
}

/// Proof that a validator signed two different things where it may sign one: two proposals for
/// one round, or two votes of one type in one round.
public enum Evidence: Sendable, Hashable {
    case conflictingProposals(SignedProposal, SignedProposal)
    case conflictingVotes(SignedVote, SignedVote)

    public var validator: Int {
        switch self {
        case .conflictingProposals(let first, _): first.proposal.proposer
        case .conflictingVotes(let first, _): first.vote.validator
        }
    }
}

/// Signing and checking consensus messages, naming values and judging them: the state machine's
/// only link to cryptography and to what the values are. The chain runtime signs precommits over
/// the ledger's commit-vote bytes, so that a decision's precommits are the block's commit
/// certificate, and judges a value by checking the proposed block.
public protocol ConsensusHost {
    /// The id of a value (a block's hash).
    func valueID(of value: [UInt8]) -> [UInt8]
    /// Whether `value` may be decided at `height` (the paper's valid(v)).
    func isAcceptable(_ value: [UInt8], height: UInt64) -> Bool
    func sign(_ vote: Vote) -> [UInt8]
    func sign(_ proposal: Proposal) -> [UInt8]
    func isValid(_ signature: [UInt8], of vote: Vote) -> Bool
    func isValid(_ signature: [UInt8], of proposal: Proposal) -> Bool
}
