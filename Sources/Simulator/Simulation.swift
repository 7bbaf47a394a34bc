public import Consensus
internal import Crypto
public import HanseCore

/// The faults a run injects, all drawn from its seed.
public struct SimulationOptions: Sendable, Equatable {
    public var validators = 4
    /// Byzantine validators (at most f): they equivocate, withhold and send garbage.
    public var byzantine = 0
    /// Heights every honest validator must decide.
    public var heights: UInt64 = 8
    /// Until this tick the network drops, duplicates, delays and partitions, and validators
    /// crash and restart; after it the network is reliable (Byzantine validators go on).
    public var healAt: UInt64 = 300
    /// After healing, every honest validator must reach `heights` within this many ticks.
    public var livenessTicks: UInt64 = 1_500
    /// Per-mille chances, before healing, that a message is dropped or duplicated.
    public var dropPerMille: UInt64 = 150
    public var duplicatePerMille: UInt64 = 50
    /// Most ticks a message is delayed (messages are reordered by their random delays).
    public var maxDelay: UInt64 = 4
    public var partitions = true
    public var crashes = true

    public init() {}

    /// Options drawn from a seed, so that a list of seeds covers many shapes of run.
    public static func random(seed: UInt64) -> SimulationOptions {
        var random = SeededRandom(seed: seed ^ 0x5EED)
        var options = SimulationOptions()
        options.validators = [1, 4, 4, 4, 5, 7][Int(random.next() % 6)]
        let f = (options.validators - 1) / 3
        options.byzantine = f == 0 ? 0 : Int(random.next() % UInt64(f + 1))
        options.dropPerMille = random.next() % 300
        options.duplicatePerMille = random.next() % 100
        options.maxDelay = 1 + random.next() % 6
        options.partitions = random.next() % 2 == 0
        options.crashes = random.next() % 2 == 0
        options.healAt = 100 + random.next() % 300
        return options
    }
}

/// What a run found: an empty `violations` means safety and liveness held.
public struct SimulationResult: Sendable {
    public var seed: UInt64
    public var options: SimulationOptions
    public var ticks: UInt64
    /// Heights decided by each honest validator.
    public var heights: [Int: UInt64]
    public var violations: [String]
    public var evidence: Int
    public var messages: Int
    /// Each validator's consensus state at the end, for reading a failure.
    public var finalStates: [String]

    public var summary: String {
        let verdict = violations.isEmpty ? "ok" : "FAILED: \(violations.joined(separator: "; "))"
        return "seed=\(seed) n=\(options.validators) byzantine=\(options.byzantine) drop=\(options.dropPerMille)‰ "
            + "partitions=\(options.partitions) crashes=\(options.crashes) heal@\(options.healAt) ticks=\(ticks) "
            + "messages=\(messages) evidence=\(evidence): \(verdict) (reproduce with: hanse simulate --seed \(seed))"
    }
}

/// A deterministic run of n validators over a simulated network: every choice (delays, drops,
/// partitions, crashes, Byzantine behaviour, values) comes from one seed, so a failing run is
/// repeated exactly by its seed. Checks safety (no two honest validators decide different values
/// at one height; every decision carries a valid quorum certificate) and liveness (after the
/// network heals, every honest validator reaches the target height within a bound).
public final class Simulation {
    public let seed: UInt64
    public let options: SimulationOptions
    private var random: SeededRandom
    private let crypto: SimulatedCrypto
    private var nodes: [Tendermint<SimulatedCrypto>?]
    private var persisted: [HardState?]
    private var chains: [[Decision]]
    private var crashedUntil: [UInt64?]
    private let byzantine: Set<Int>
    private var inFlight: [Envelope] = []
    private var valuesNeeded: [(index: Int, height: UInt64, round: UInt32)] = []
    private var sequence: UInt64 = 0
    private var now: UInt64 = 0
    private var decided: [UInt64: [UInt8]] = [:]
    private var violations: [String] = []
    private var evidence = 0
    private var messages = 0
    private var partition: Set<Int>?
    private var partitionUntil: UInt64 = 0

    private struct Envelope { var at: UInt64; var sequence: UInt64; var from: Int; var to: Int; var message: ConsensusMessage }

    public init(seed: UInt64, options: SimulationOptions) {
        precondition(options.byzantine <= (options.validators - 1) / 3, "at most f Byzantine validators")
        self.seed = seed
        self.options = options
        self.random = SeededRandom(seed: seed)
        self.crypto = SimulatedCrypto(seed: seed, validators: options.validators)
        var shuffled = Array(0..<options.validators)
        shuffled.shuffle(using: &random)
        self.byzantine = Set(shuffled.prefix(options.byzantine))
        nodes = Array(repeating: nil, count: options.validators)
        persisted = Array(repeating: nil, count: options.validators)
        chains = Array(repeating: [], count: options.validators)
        crashedUntil = Array(repeating: nil, count: options.validators)
    }

    private var honest: [Int] { (0..<options.validators).filter { !byzantine.contains($0) } }

    /// Runs until every honest validator has decided `heights` heights, or the liveness bound
    /// passes, or a safety violation is found.
    public func run() -> SimulationResult {
        for index in 0..<options.validators { boot(index) }
        let deadline = options.healAt + options.livenessTicks
        while now < deadline, violations.isEmpty {
            now += 1
            injectFaults()
            provideValues()
            deliver()
            for index in 0..<options.validators {
                guard var node = nodes[index] else { continue }
                let ready = node.step(.tick)
                nodes[index] = node
                apply(ready, of: index)
            }
            if honest.allSatisfy({ UInt64(chains[$0].count) >= options.heights }) { break }
        }
        if violations.isEmpty {
            for index in honest where UInt64(chains[index].count) < options.heights {
                violations.append("liveness: validator \(index) decided \(chains[index].count) of \(options.heights) heights by tick \(now) (healed at \(options.healAt))")
            }
        }
        return SimulationResult(seed: seed, options: options, ticks: now, heights: Dictionary(uniqueKeysWithValues: honest.map { ($0, UInt64(chains[$0].count)) }),
                                violations: violations, evidence: evidence, messages: messages,
                                finalStates: (0..<options.validators).map { index in
                                    guard let state = nodes[index]?.state else { return "\(index): down" }
                                    return "\(index)\(byzantine.contains(index) ? " (byzantine)" : ""): height \(state.height) round \(state.round) "
                                        + "\(state.step) locked \(state.lockedRound) valid \(state.validRound) sent \(state.sent.count)"
                                })
    }

    static func describe(_ evidence: Evidence) -> String {
        func id(_ bytes: [UInt8]?) -> String { bytes.map { $0.prefix(4).map { String($0, radix: 16) }.joined() } ?? "nil" }
        switch evidence {
        case .conflictingVotes(let a, let b):
            return "\(a.vote.type) h\(a.vote.height) r\(a.vote.round): \(id(a.vote.valueID)) vs \(id(b.vote.valueID))"
        case .conflictingProposals(let a, let b):
            return "proposal h\(a.proposal.height) r\(a.proposal.round) vr \(a.proposal.validRound)/\(b.proposal.validRound)"
        }
    }

    // MARK: - Validators

    private func boot(_ index: Int) {
        let height = UInt64(chains[index].count)
        var state = persisted[index] ?? .start(height: height)
        if state.height < height { state = .start(height: height) }
        var node = Tendermint(config: ConsensusConfig(validators: options.validators, me: index), host: crypto, state: state,
                              lastDecision: chains[index].last)
        let ready = node.start()
        nodes[index] = node
        apply(ready, of: index)
    }

    private func apply(_ ready: Ready, of index: Int) {
        // Persist first; a crash now loses the messages but never the state that signed them.
        if let state = ready.hardState { persisted[index] = state }
        for decision in ready.decisions { commit(decision, by: index) }
        evidence += ready.evidence.count
        for proof in ready.evidence where !byzantine.contains(proof.validator) {
            violations.append("safety: honest validator \(proof.validator) signed two different messages for one round and step (seen by \(index) at tick \(now)): \(Self.describe(proof))")
        }
        if options.crashes, now < options.healAt, !byzantine.contains(index), random.next() % 1000 < 3,
           crashedUntil.compactMap({ $0 }).count < (options.validators - 1) / 3 + 1 {
            nodes[index] = nil
            crashedUntil[index] = now + 5 + random.next() % 40
            return
        }
        if let (height, round) = ready.proposalNeeded {
            // Delivered on the next tick, as a block builder would answer.
            valuesNeeded.append((index, height, round))
        }
        for message in ready.broadcast {
            for peer in 0..<options.validators where peer != index {
                send(byzantine.contains(index) ? corrupt(message, from: index, to: peer) : message, from: index, to: peer)
            }
        }
        for (peer, message) in ready.direct { send(message, from: index, to: peer) }
        for (peer, height) in ready.catchUp where Int(height) < chains[peer].count {
            send(.decision(chains[peer][Int(height)]), from: peer, to: index)
        }
        if byzantine.contains(index), random.next() % 10 == 0 { sendGarbage(from: index) }
    }

    private func commit(_ decision: Decision, by index: Int) {
        guard UInt64(chains[index].count) == decision.height else {
            violations.append("validator \(index) decided height \(decision.height) after \(chains[index].count) heights")
            return
        }
        chains[index].append(decision)
        guard !byzantine.contains(index) else { return }
        if let problem = certificateProblem(decision) {
            violations.append("safety: validator \(index) decided height \(decision.height) with a bad certificate: \(problem)")
        }
        if let earlier = decided[decision.height] {
            if earlier != decision.value {
                violations.append("safety: honest validators decided different values at height \(decision.height)")
            }
        } else {
            decided[decision.height] = decision.value
        }
    }

    /// A quorum of distinct validators' valid precommits for the value's id, in one round.
    private func certificateProblem(_ decision: Decision) -> String? {
        let id = crypto.valueID(of: decision.value)
        var signers = Set<Int>()
        for signed in decision.precommits {
            let vote = signed.vote
            guard vote.type == .precommit, vote.height == decision.height, vote.round == decision.round, vote.valueID == id,
                  crypto.isValid(signed.signature, of: vote) else { return "a precommit does not match or does not verify" }
            signers.insert(vote.validator)
        }
        let quorum = options.validators - (options.validators - 1) / 3
        return signers.count >= quorum ? nil : "\(signers.count) signers, quorum \(quorum)"
    }

    private func proposedValue(by index: Int, height: UInt64, round: UInt32) -> [UInt8] {
        if byzantine.contains(index), random.next() % 3 == 0 { return Array("bad-\(height)-\(round)".utf8) }
        return Array("ok-\(index)-\(height)-\(round)-\(random.next() % 1000)".utf8)
    }

    private func provideValues() {
        let requests = valuesNeeded
        valuesNeeded = []
        for (index, height, round) in requests {
            guard var node = nodes[index] else { continue }
            let ready = node.step(.proposalValue(height: height, round: round, value: proposedValue(by: index, height: height, round: round)))
            nodes[index] = node
            apply(ready, of: index)
        }
    }

    // MARK: - Network

    private func injectFaults() {
        for index in 0..<options.validators {
            if let until = crashedUntil[index], until <= now {
                crashedUntil[index] = nil
                boot(index)
            }
        }
        guard options.partitions, now < options.healAt else {
            partition = nil
            return
        }
        if partition == nil, random.next() % 100 == 0 {
            partition = Set((0..<options.validators).filter { _ in random.next() % 2 == 0 })
            partitionUntil = now + 10 + random.next() % 60
        } else if partition != nil, now >= partitionUntil {
            partition = nil
        }
    }

    private func send(_ message: ConsensusMessage, from: Int, to: Int) {
        let faulty = now < options.healAt
        if faulty, random.next() % 1000 < options.dropPerMille { return }
        if faulty, let partition, partition.contains(from) != partition.contains(to) { return }
        let copies = faulty && random.next() % 1000 < options.duplicatePerMille ? 2 : 1
        for _ in 0..<copies {
            sequence += 1
            inFlight.append(Envelope(at: now + 1 + random.next() % options.maxDelay, sequence: sequence, from: from, to: to, message: message))
        }
    }

    private func deliver() {
        let due = inFlight.filter { $0.at <= now }.sorted { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
        inFlight.removeAll { $0.at <= now }
        for envelope in due {
            guard var node = nodes[envelope.to] else { continue }
            messages += 1
            let ready = node.step(.message(envelope.message, from: envelope.from))
            nodes[envelope.to] = node
            apply(ready, of: envelope.to)
        }
    }

    // MARK: - Byzantine behaviour

    /// A Byzantine validator's version of its honest message for one peer: withheld, or an
    /// equivocating (validly signed) vote or proposal, or as is.
    private func corrupt(_ message: ConsensusMessage, from index: Int, to peer: Int) -> ConsensusMessage {
        switch random.next() % 4 {
        case 0:
            return .vote(SignedVote(vote: Vote(type: .prevote, height: message.height, round: 0, valueID: nil, validator: index), signature: []))
        case 1:
            switch message {
            case .vote(var signed) where signed.vote.validator == index:
                signed.vote.valueID = peer % 2 == 0 ? nil : crypto.valueID(of: Array("other-\(peer)".utf8))
                signed.signature = crypto.sign(signed.vote)
                return .vote(signed)
            case .proposal(var signed) where signed.proposal.proposer == index:
                signed.proposal.value = Array("ok-equivocation-\(peer)-\(signed.proposal.height)".utf8)
                signed.signature = crypto.sign(signed.proposal)
                return .proposal(signed)
            default:
                // Relayed messages of others: a Byzantine validator signs only with its own key.
                return message
            }
        default:
            return message
        }
    }

    private func sendGarbage(from index: Int) {
        let peer = Int(random.next() % UInt64(options.validators))
        let vote = Vote(type: random.next() % 2 == 0 ? .prevote : .precommit, height: random.next() % 20, round: UInt32(random.next() % 1000),
                        valueID: Array(repeating: UInt8(random.next() % 256), count: Int(random.next() % 40)), validator: Int(random.next() % 9))
        var own = vote
        own.validator = index  // it can sign validly only as itself
        let garbage: [ConsensusMessage] = [
            .vote(SignedVote(vote: vote, signature: Array(repeating: 7, count: 32))),
            .vote(SignedVote(vote: own, signature: crypto.sign(own))),
            .decision(Decision(height: vote.height, round: 0, value: Array("ok-forged".utf8), precommits: [])),
            .proposal(SignedProposal(proposal: Proposal(height: vote.height, round: vote.round, value: [], validRound: Int64(vote.round) + 5,
                                                        proposer: index), signature: [])),
        ]
        send(garbage[Int(random.next() % UInt64(garbage.count))], from: index, to: peer)
    }
}

/// Signatures for the simulator: SHA-256 of a validator's secret and the message. Each validator
/// signs only with its own secret, so a Byzantine one cannot forge another's vote; cheap enough
/// for a thousand seeds in a test run. (The chain runtime signs with the validators' real keys.)
struct SimulatedCrypto: ConsensusHost {
    let secrets: [[UInt8]]

    init(seed: UInt64, validators: Int) {
        secrets = (0..<validators).map { SHA256.hash(Array("validator-\($0)-\(seed)".utf8)) }
    }

    func valueID(of value: [UInt8]) -> [UInt8] { SHA256.hash(value) }
    func isAcceptable(_ value: [UInt8], height: UInt64) -> Bool { value.starts(with: Array("ok-".utf8)) }

    private func bytes(_ vote: Vote) -> [UInt8] {
        var bytes: [UInt8] = [vote.type.rawValue]
        withUnsafeBytes(of: vote.height.bigEndian) { bytes += $0 }
        withUnsafeBytes(of: vote.round.bigEndian) { bytes += $0 }
        bytes += vote.valueID.map { [1] + $0 } ?? [0]
        return bytes
    }

    private func bytes(_ proposal: Proposal) -> [UInt8] {
        var bytes: [UInt8] = [9]
        withUnsafeBytes(of: proposal.height.bigEndian) { bytes += $0 }
        withUnsafeBytes(of: proposal.round.bigEndian) { bytes += $0 }
        withUnsafeBytes(of: proposal.validRound.bigEndian) { bytes += $0 }
        return bytes + SHA256.hash(proposal.value)
    }

    private func mac(_ validator: Int, _ bytes: [UInt8]) -> [UInt8] {
        guard secrets.indices.contains(validator) else { return [] }
        return SHA256.hash(secrets[validator] + bytes)
    }

    func sign(_ vote: Vote) -> [UInt8] { mac(vote.validator, bytes(vote)) }
    func sign(_ proposal: Proposal) -> [UInt8] { mac(proposal.proposer, bytes(proposal)) }
    func isValid(_ signature: [UInt8], of vote: Vote) -> Bool { !signature.isEmpty && signature == mac(vote.validator, bytes(vote)) }
    func isValid(_ signature: [UInt8], of proposal: Proposal) -> Bool { !signature.isEmpty && signature == mac(proposal.proposer, bytes(proposal)) }
}
