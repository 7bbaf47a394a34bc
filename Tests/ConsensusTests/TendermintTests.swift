// The state machine in small, readable scenarios: one validator's steps driven by hand, with
// the simulator's hash-based signatures; what it sends, decides, and refuses.
import Consensus
import HanseCore
@testable import Simulator
import XCTest

final class TendermintTests: XCTestCase {
    private let crypto = SimulatedCrypto(seed: 9, validators: 4)

    private func vote(_ type: VoteType, round: UInt32 = 0, id: [UInt8]?, by validator: Int, height: UInt64 = 0) -> ConsensusMessage {
        let vote = Vote(type: type, height: height, round: round, valueID: id, validator: validator)
        return .vote(SignedVote(vote: vote, signature: crypto.sign(vote)))
    }

    private func proposal(_ value: String, round: UInt32 = 0, by proposer: Int) -> ConsensusMessage {
        let proposal = Proposal(height: 0, round: round, value: Array(value.utf8), validRound: -1, proposer: proposer)
        return .proposal(SignedProposal(proposal: proposal, signature: crypto.sign(proposal)))
    }

    func testAHappyRoundLocksPrecommitsAndDecides() {
        // Validator 1 of 4; validator 0 proposes at height 0, round 0.
        var node = Tendermint(config: ConsensusConfig(validators: 4, me: 1), host: crypto, state: .start(height: 0))
        XCTAssertNil(node.start().proposalNeeded, "not the proposer")
        let value = "ok-block-0"
        let id = crypto.valueID(of: Array(value.utf8))
        var ready = node.step(.message(proposal(value, by: 0), from: 0))
        XCTAssertEqual(ready.broadcast.count, 1)
        guard case .vote(let prevote) = ready.broadcast.first else { return XCTFail() }
        XCTAssertEqual(prevote.vote.type, .prevote)
        XCTAssertEqual(prevote.vote.valueID, id)
        XCTAssertEqual(ready.hardState?.step, .prevote, "the step is persisted with the vote")
        _ = node.step(.message(vote(.prevote, id: id, by: 0), from: 0))
        ready = node.step(.message(vote(.prevote, id: id, by: 2), from: 2))
        guard case .vote(let precommit) = ready.broadcast.first else { return XCTFail("a prevote quorum makes it precommit") }
        XCTAssertEqual(precommit.vote.type, .precommit)
        XCTAssertEqual(node.state.lockedRound, 0)
        XCTAssertEqual(node.state.lockedValue, Array(value.utf8))
        _ = node.step(.message(vote(.precommit, id: id, by: 0), from: 0))
        ready = node.step(.message(vote(.precommit, id: id, by: 3), from: 3))
        XCTAssertEqual(ready.decisions.count, 1)
        XCTAssertEqual(ready.decisions.first?.value, Array(value.utf8))
        XCTAssertEqual(ready.decisions.first?.precommits.map(\.vote.validator), [0, 1, 3])
        XCTAssertEqual(node.state.height, 1)
    }

    func testTimeoutsMoveToTheNextRoundAndForgedOrConflictingMessagesAreRefused() {
        var node = Tendermint(config: ConsensusConfig(validators: 4, me: 1), host: crypto, state: .start(height: 0))
        _ = node.start()
        // A proposal from the wrong proposer, and a vote with a forged signature, change nothing.
        XCTAssertTrue(node.step(.message(proposal("ok-x", by: 2), from: 2)).broadcast.isEmpty)
        var forged = Vote(type: .prevote, height: 0, round: 0, valueID: nil, validator: 3)
        let signature = crypto.sign(forged)
        forged.validator = 2
        XCTAssertTrue(node.step(.message(.vote(SignedVote(vote: forged, signature: signature)), from: 2)).evidence.isEmpty)
        // Two different prevotes from one validator are evidence.
        _ = node.step(.message(vote(.prevote, id: nil, by: 3), from: 3))
        let conflicting = node.step(.message(vote(.prevote, id: crypto.valueID(of: [1]), by: 3), from: 3))
        XCTAssertEqual(conflicting.evidence.first?.validator, 3)
        // With no proposal, the propose timeout makes it prevote nil.
        var prevotedNil = false
        for _ in 0..<20 {
            let ready = node.step(.tick)
            if ready.broadcast.contains(where: { if case .vote(let v) = $0 { v.vote.type == .prevote && v.vote.valueID == nil } else { false } }) {
                prevotedNil = true
                break
            }
        }
        XCTAssertTrue(prevotedNil)
        // Votes for far-future rounds are dropped; f + 1 votes for a nearer later round move it there.
        _ = node.step(.message(vote(.prevote, round: 500, id: nil, by: 0), from: 0))
        XCTAssertEqual(node.state.round, 0)
        _ = node.step(.message(vote(.prevote, round: 3, id: nil, by: 0), from: 0))
        _ = node.step(.message(vote(.prevote, round: 3, id: nil, by: 2), from: 2))
        XCTAssertEqual(node.state.round, 3)
    }

    func testSoloDecidesEveryValueAtOnce() {
        let solo = SimulatedCrypto(seed: 9, validators: 1)
        var node = Solo(host: solo, height: 5)
        XCTAssertEqual(node.start().proposalNeeded?.height, 5)
        let ready = node.step(.proposalValue(height: 5, round: 0, value: Array("ok-5".utf8)))
        XCTAssertEqual(ready.decisions.map(\.height), [5])
        XCTAssertEqual(ready.decisions.first?.precommits.count, 1)
        XCTAssertTrue(solo.isValid(ready.decisions[0].precommits[0].signature, of: ready.decisions[0].precommits[0].vote))
        XCTAssertEqual(ready.proposalNeeded?.height, 6)
        XCTAssertTrue(node.step(.proposalValue(height: 6, round: 0, value: Array("bad".utf8))).decisions.isEmpty, "an unacceptable value is not decided")
    }
}
