/// Consensus of a chain with one validator, for development: every value it is given is decided
/// at once, with its own precommit as the certificate (a quorum of one). Same inputs and outputs
/// as `Tendermint`, so the chain runtime drives both alike.
public struct Solo<Host: ConsensusHost> {
    private let host: Host
    public private(set) var height: UInt64
    public private(set) var lastDecision: Decision?

    public init(host: Host, height: UInt64, lastDecision: Decision? = nil) {
        self.host = host
        self.height = height
        self.lastDecision = lastDecision
    }

    /// Asks for the first value.
    public mutating func start() -> Ready {
        var ready = Ready()
        ready.proposalNeeded = (height, 0)
        return ready
    }

    public mutating func step(_ input: ConsensusInput) -> Ready {
        var ready = Ready()
        guard case .proposalValue(let height, 0, let value) = input, height == self.height,
              host.isAcceptable(value, height: height) else { return ready }
        let vote = Vote(type: .precommit, height: height, round: 0, valueID: host.valueID(of: value), validator: 0)
        let decision = Decision(height: height, round: 0, value: value, precommits: [SignedVote(vote: vote, signature: host.sign(vote))])
        ready.decisions = [decision]
        lastDecision = decision
        self.height += 1
        ready.hardState = .start(height: self.height)
        ready.proposalNeeded = (self.height, 0)
        return ready
    }
}
