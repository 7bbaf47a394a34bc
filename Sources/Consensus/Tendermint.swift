/// Settings of one validator's Tendermint state machine. Time is counted in ticks, which the
/// caller delivers (the chain runtime turns a timer into ticks; the simulator counts them).
public struct ConsensusConfig: Sendable, Equatable {
    /// Validators of the chain; indices 0 ..< validators.
    public var validators: Int
    /// This validator's index.
    public var me: Int
    /// Ticks to wait for a proposal, a prevote quorum and a precommit quorum in round 0; each
    /// later round waits `timeoutDelta` more (the paper's timeoutX(r) = initial + r * delta).
    public var timeoutPropose: UInt64 = 6
    public var timeoutPrevote: UInt64 = 3
    public var timeoutPrecommit: UInt64 = 3
    public var timeoutDelta: UInt64 = 2
    /// Ticks between resending this round's own messages (lost messages are only ever resent).
    public var resendTicks: UInt64 = 4
    /// Rounds ahead of the current one whose messages are kept; later ones are dropped, so a
    /// Byzantine validator cannot fill memory with votes for far-away rounds.
    public var futureRoundsMax: UInt32 = 8
    /// Rounds behind the current one whose messages are kept and resent. A proposal may re-propose
    /// a value with the round it gathered a prevote quorum in (lines 28-33), and those prevotes
    /// must still reach everyone, so past rounds are kept, up to this bound.
    public var pastRoundsMax: UInt32 = 64
    /// Largest value (block) a proposal may carry.
    public var valueBytesMax: Int = 16 << 20

    public init(validators: Int, me: Int) {
        self.validators = validators
        self.me = me
    }

    /// The most validators that may be faulty: f with n >= 3f + 1.
    public var faultsTolerated: Int { (validators - 1) / 3 }
    /// Votes that make a quorum: n - f, which is 2f + 1 when n = 3f + 1.
    public var quorum: Int { validators - faultsTolerated }

    /// The proposer of a round: round-robin over height and round.
    public func proposer(height: UInt64, round: UInt32) -> Int {
        Int((height &+ UInt64(round)) % UInt64(validators))
    }
}

/// The steps of a round.
public enum RoundStep: UInt8, Sendable, Comparable, Codable {
    case propose = 1, prevote = 2, precommit = 3
    public static func < (lhs: RoundStep, rhs: RoundStep) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What must survive a crash, written before any message of the same `Ready` leaves: with it a
/// restarted validator never signs two different votes for one round and step, and keeps its
/// lock (the paper's safety argument rests on both).
public struct HardState: Sendable, Equatable, Codable {
    public var height: UInt64
    public var round: UInt32
    public var step: RoundStep
    public var lockedRound: Int64
    public var lockedValue: [UInt8]?
    public var validRound: Int64
    public var validValue: [UInt8]?
    /// This validator's own messages of this height (the last `pastRoundsMax` rounds), resent
    /// until the height is decided, and after a restart.
    public var sent: [ConsensusMessage]

    public static func start(height: UInt64) -> HardState {
        HardState(height: height, round: 0, step: .propose, lockedRound: -1, lockedValue: nil, validRound: -1, validValue: nil, sent: [])
    }
}

/// An input to the state machine.
public enum ConsensusInput: Sendable {
    case tick
    case message(ConsensusMessage, from: Int)
    /// The value this validator proposes for (height, round), after `Ready.proposalNeeded`.
    case proposalValue(height: UInt64, round: UInt32, value: [UInt8])
}

/// What the caller must do after a step, in this order: persist `hardState`, send the
/// messages, commit the decisions, keep the evidence.
public struct Ready: Sendable {
    public var hardState: HardState?
    public var broadcast: [ConsensusMessage] = []
    public var direct: [(to: Int, message: ConsensusMessage)] = []
    public var decisions: [Decision] = []
    public var evidence: [Evidence] = []
    /// This validator proposes in (height, round) and needs a value.
    public var proposalNeeded: (height: UInt64, round: UInt32)?
    /// Ask `peer` for its decision at `height`: this validator is behind.
    public var catchUp: [(peer: Int, height: UInt64)] = []

    public var isEmpty: Bool {
        hardState == nil && broadcast.isEmpty && direct.isEmpty && decisions.isEmpty && evidence.isEmpty && proposalNeeded == nil && catchUp.isEmpty
    }
}

/// One validator's Tendermint consensus (Buchman, Kwon, Milosevic, "The latest gossip on BFT
/// consensus", arXiv:1807.04938, Algorithm 1), as a pure state machine: `step` takes a tick, a
/// message or a proposal value and returns what to persist, send and commit. No clock, network
/// or storage inside; docs/consensus.md maps each rule to the paper's line numbers.
public struct Tendermint<Host: ConsensusHost> {
    public let config: ConsensusConfig
    private let host: Host
    public private(set) var state: HardState
    private var now: UInt64 = 0
    private var lastResend: UInt64 = 0
    private var timers: [Timer] = []
    private var proposals: [UInt32: SignedProposal] = [:]
    /// Votes by round and type, then by validator. An equivocating validator may have two (its
    /// first two different votes); counting both is safe, because two quorums of one round
    /// always share an honest validator, who votes once.
    private var votes: [VoteKey: [Int: [SignedVote]]] = [:]
    /// Rounds in which a one-time rule already fired (the paper's "for the first time").
    private var fired: Set<FiredRule> = []
    private var waitingForValue = false
    /// The last decision, to hand to validators that are one height behind.
    public private(set) var lastDecision: Decision?
    private var ready = Ready()

    private struct Timer: Equatable { var at: UInt64; var step: RoundStep; var height: UInt64; var round: UInt32 }
    private struct VoteKey: Hashable { var round: UInt32; var type: VoteType }
    private struct FiredRule: Hashable { var round: UInt32; var rule: Int }

    /// A validator starting at `state` (a fresh `HardState.start(height:)`, or what it persisted
    /// before a crash), with the decision of the height before, if it has it.
    public init(config: ConsensusConfig, host: Host, state: HardState, lastDecision: Decision? = nil) {
        precondition(config.validators >= 1 && (0..<config.validators).contains(config.me), "bad consensus config")
        self.config = config
        self.host = host
        self.state = state
        self.lastDecision = lastDecision
    }

    /// Starts (or, after a restart, resumes) the current round: what was sent before a crash is
    /// counted and resent; a round still in its propose step starts over (it signed nothing yet
    /// in that step, so starting over cannot make it sign twice).
    public mutating func start() -> Ready {
        for message in state.sent { record(message) }
        ready.broadcast += state.sent
        if state.step == .propose {
            startRound(state.round)
        } else {
            schedule(state.step, round: state.round)
        }
        evaluate()
        return takeReady()
    }

    public mutating func step(_ input: ConsensusInput) -> Ready {
        switch input {
        case .tick:
            now += 1
            fireTimers()
            if now - lastResend >= config.resendTicks {
                lastResend = now
                ready.broadcast += state.sent + proofOfValidValue()
            }
        case .message(let message, let from):
            receive(message, from: from)
        case .proposalValue(let height, let round, let value):
            if waitingForValue, height == state.height, round == state.round, state.step == .propose {
                waitingForValue = false
                propose(value, validRound: -1)
            }
        }
        evaluate()
        return takeReady()
    }

    /// The step's output, with the state as it is at the end of the step: a vote and the step it
    /// moved to are persisted together, so a restart can never cast that round's vote again.
    private mutating func takeReady() -> Ready {
        if ready.hardState != nil { ready.hardState = state }
        defer { ready = Ready() }
        return ready
    }

    // MARK: - Receiving (untrusted input is checked first)

    private mutating func receive(_ message: ConsensusMessage, from peer: Int) {
        guard (0..<config.validators).contains(peer) else { return }
        if message.height > state.height {
            if !ready.catchUp.contains(where: { $0.peer == peer }) { ready.catchUp.append((peer, state.height)) }
            return
        }
        if message.height < state.height {
            // A peer still voting on the last height gets its decision (never in answer to a
            // decision, or two validators ahead of it would hand it back and forth).
            if case .decision = message { return }
            if let decision = lastDecision, decision.height == message.height, peer != config.me {
                ready.direct.append((peer, .decision(decision)))
            }
            return
        }
        switch message {
        case .proposal(let signed): accept(signed)
        case .vote(let signed): accept(signed)
        case .decision(let decision): accept(decision)
        }
    }

    private func roundInWindow(_ round: UInt32) -> Bool {
        round <= state.round &+ config.futureRoundsMax && round >= state.round.saturatingSubtract(config.pastRoundsMax)
    }

    private mutating func accept(_ signed: SignedProposal) {
        let proposal = signed.proposal
        guard roundInWindow(proposal.round),
              proposal.proposer == config.proposer(height: proposal.height, round: proposal.round),
              proposal.value.count <= config.valueBytesMax,
              proposal.validRound >= -1, proposal.validRound < Int64(proposal.round),
              host.isValid(signed.signature, of: proposal) else { return }
        if let existing = proposals[proposal.round] {
            if existing != signed, existing.proposal != proposal {
                ready.evidence.append(.conflictingProposals(existing, signed))
            }
            return
        }
        proposals[proposal.round] = signed
    }

    private mutating func accept(_ signed: SignedVote) {
        let vote = signed.vote
        guard roundInWindow(vote.round), (0..<config.validators).contains(vote.validator),
              vote.valueID == nil || vote.valueID?.count == 32,
              host.isValid(signed.signature, of: vote) else { return }
        let key = VoteKey(round: vote.round, type: vote.type)
        let existing = votes[key]?[vote.validator] ?? []
        guard !existing.contains(where: { $0.vote.valueID == vote.valueID }) else { return }
        if let first = existing.first { ready.evidence.append(.conflictingVotes(first, signed)) }
        guard existing.count < 2 else { return }
        votes[key, default: [:]][vote.validator, default: []].append(signed)
    }

    /// A decision handed over by a peer: checked like a commit certificate (a quorum of distinct
    /// validators' valid precommits for the value's id in one round), then decided.
    private mutating func accept(_ decision: Decision) {
        let id = host.valueID(of: decision.value)
        var signers = Set<Int>()
        for signed in decision.precommits {
            let vote = signed.vote
            guard vote.type == .precommit, vote.height == decision.height, vote.round == decision.round, vote.valueID == id,
                  (0..<config.validators).contains(vote.validator), host.isValid(signed.signature, of: vote) else { continue }
            signers.insert(vote.validator)
        }
        guard signers.count >= config.quorum, host.isAcceptable(decision.value, height: decision.height) else { return }
        decide(decision)
    }

    /// Counts our own message as received, so quorums include it.
    private mutating func record(_ message: ConsensusMessage) {
        switch message {
        case .proposal(let signed): proposals[signed.proposal.round] = proposals[signed.proposal.round] ?? signed
        case .vote(let signed):
            let key = VoteKey(round: signed.vote.round, type: signed.vote.type)
            if votes[key]?[signed.vote.validator]?.contains(signed) != true { votes[key, default: [:]][signed.vote.validator, default: []].append(signed) }
        case .decision: break
        }
    }

    // MARK: - The rules of Algorithm 1

    private func count(_ round: UInt32, _ type: VoteType, for id: [UInt8]?) -> Int {
        votes[VoteKey(round: round, type: type)]?.values.reduce(0) { $0 + ($1.contains { $0.vote.valueID == id } ? 1 : 0) } ?? 0
    }

    /// The votes of a round and type for one value, one per validator, in validator order.
    private func votes(_ round: UInt32, _ type: VoteType, for id: [UInt8]?) -> [SignedVote] {
        (votes[VoteKey(round: round, type: type)] ?? [:]).sorted { $0.key < $1.key }.compactMap { $0.value.first { $0.vote.valueID == id } }
    }

    private func total(_ round: UInt32, _ type: VoteType) -> Int { votes[VoteKey(round: round, type: type)]?.count ?? 0 }

    private mutating func once(_ round: UInt32, _ rule: Int) -> Bool { fired.insert(FiredRule(round: round, rule: rule)).inserted }

    /// Applies every rule whose condition holds, until none does.
    private mutating func evaluate() {
        var progressed = true
        while progressed {
            progressed = false
            // Lines 49-54: a proposal and a precommit quorum for it, in any round: decide.
            for (round, signed) in proposals.sorted(by: { $0.key < $1.key }) {
                let id = host.valueID(of: signed.proposal.value)
                if count(round, .precommit, for: id) >= config.quorum, host.isAcceptable(signed.proposal.value, height: state.height) {
                    decide(Decision(height: state.height, round: round, value: signed.proposal.value, precommits: votes(round, .precommit, for: id)))
                    progressed = true
                    break
                }
            }
            if progressed { continue }
            // Lines 55-56: f + 1 validators are in a later round: join it.
            if let later = laterRoundWithFPlusOne() {
                startRound(later)
                progressed = true
                continue
            }
            progressed = evaluateCurrentRound()
        }
    }

    private func laterRoundWithFPlusOne() -> UInt32? {
        var senders: [UInt32: Set<Int>] = [:]
        for (round, signed) in proposals where round > state.round { senders[round, default: []].insert(signed.proposal.proposer) }
        for (key, byValidator) in votes where key.round > state.round { senders[key.round, default: []].formUnion(byValidator.keys) }
        return senders.filter { $0.value.count >= config.faultsTolerated + 1 }.keys.min()
    }

    /// The rules about the current round; returns whether one fired.
    private mutating func evaluateCurrentRound() -> Bool {
        let round = state.round
        let proposal = proposals[round]?.proposal
        let id = proposal.map { host.valueID(of: $0.value) }
        let acceptable = proposal.map { host.isAcceptable($0.value, height: state.height) } ?? false
        if state.step == .propose, let proposal, let id {
            if proposal.validRound == -1 {
                // Lines 22-27.
                let ok = acceptable && (state.lockedRound == -1 || state.lockedValue == proposal.value)
                castVote(.prevote, ok ? id : nil)
                state.step = .prevote
                return true
            }
            let validRound = UInt32(proposal.validRound)
            if count(validRound, .prevote, for: id) >= config.quorum {
                // Lines 28-33.
                let ok = acceptable && (state.lockedRound <= proposal.validRound || state.lockedValue == proposal.value)
                castVote(.prevote, ok ? id : nil)
                state.step = .prevote
                return true
            }
        }
        if state.step == .prevote, total(round, .prevote) >= config.quorum, once(round, 34) {
            // Lines 34-35.
            schedule(.prevote, round: round)
        }
        if state.step >= .prevote, let proposal, let id, acceptable, count(round, .prevote, for: id) >= config.quorum, once(round, 36) {
            // Lines 36-43.
            if state.step == .prevote {
                state.lockedValue = proposal.value
                state.lockedRound = Int64(round)
                castVote(.precommit, id)
                state.step = .precommit
            }
            state.validValue = proposal.value
            state.validRound = Int64(round)
            return true
        }
        if state.step == .prevote, count(round, .prevote, for: nil) >= config.quorum {
            // Lines 44-46.
            castVote(.precommit, nil)
            state.step = .precommit
            return true
        }
        if total(round, .precommit) >= config.quorum, once(round, 47) {
            // Lines 47-48.
            schedule(.precommit, round: round)
        }
        return false
    }

    /// The prevote quorum that made this validator's valid value valid, relayed with its own
    /// messages: a re-proposal of that value (lines 28-33) needs everyone to have seen it, and
    /// the paper assumes a gossip layer that relays what correct validators received.
    private func proofOfValidValue() -> [ConsensusMessage] {
        guard state.validRound >= 0, let value = state.validValue else { return [] }
        return votes(UInt32(state.validRound), .prevote, for: host.valueID(of: value)).filter { $0.vote.validator != config.me }.map { .vote($0) }
    }

    // MARK: - Actions

    private mutating func startRound(_ round: UInt32) {
        // Lines 11-21.
        state.round = round
        state.step = .propose
        waitingForValue = false
        timers.removeAll { $0.height == state.height && $0.round < round }
        dropOldRounds()
        let proposed = state.sent.contains { if case .proposal(let signed) = $0 { signed.proposal.round == round } else { false } }
        if config.proposer(height: state.height, round: round) == config.me, !proposed {
            if let value = state.validValue {
                propose(value, validRound: state.validRound)
            } else {
                waitingForValue = true
                ready.proposalNeeded = (state.height, round)
            }
        }
        schedule(.propose, round: round)
        ready.hardState = state
    }

    private mutating func propose(_ value: [UInt8], validRound: Int64) {
        let proposal = Proposal(height: state.height, round: state.round, value: value, validRound: validRound, proposer: config.me)
        let signed = SignedProposal(proposal: proposal, signature: host.sign(proposal))
        send(.proposal(signed))
    }

    private mutating func castVote(_ type: VoteType, _ id: [UInt8]?) {
        let vote = Vote(type: type, height: state.height, round: state.round, valueID: id, validator: config.me)
        send(.vote(SignedVote(vote: vote, signature: host.sign(vote))))
    }

    private mutating func send(_ message: ConsensusMessage) {
        record(message)
        state.sent.append(message)
        ready.broadcast.append(message)
        ready.hardState = state
    }

    private mutating func decide(_ decision: Decision) {
        ready.decisions.append(decision)
        lastDecision = decision
        state = .start(height: decision.height + 1)
        proposals = [:]
        votes = [:]
        fired = []
        timers = []
        startRound(0)
    }

    private mutating func dropOldRounds() {
        let low = state.round.saturatingSubtract(config.pastRoundsMax)
        proposals = proposals.filter { $0.key >= low }
        votes = votes.filter { $0.key.round >= low }
        state.sent.removeAll { message in
            switch message {
            case .proposal(let signed): signed.proposal.round < low
            case .vote(let signed): signed.vote.round < low
            case .decision: true
            }
        }
    }

    private mutating func schedule(_ step: RoundStep, round: UInt32) {
        let base: UInt64 = switch step {
        case .propose: config.timeoutPropose
        case .prevote: config.timeoutPrevote
        case .precommit: config.timeoutPrecommit
        }
        timers.append(Timer(at: now + base + UInt64(round) * config.timeoutDelta, step: step, height: state.height, round: round))
    }

    private mutating func fireTimers() {
        while let index = timers.firstIndex(where: { $0.at <= now }) {
            let timer = timers.remove(at: index)
            guard timer.height == state.height, timer.round == state.round else { continue }
            switch timer.step {
            case .propose where state.step == .propose:
                // Lines 57-60.
                castVote(.prevote, nil)
                state.step = .prevote
            case .prevote where state.step == .prevote:
                // Lines 61-64.
                castVote(.precommit, nil)
                state.step = .precommit
            case .precommit:
                // Lines 65-67.
                startRound(state.round + 1)
            default:
                break
            }
            ready.hardState = state
        }
    }
}

extension UInt32 {
    func saturatingSubtract(_ other: UInt32) -> UInt32 { self > other ? self - other : 0 }
}
