// The consensus log keeps block values out of each record: interning replaces them by references
// stored once, resolving brings them back, and a missing value is reported, never guessed.
import Consensus
import Crypto
import Node
import XCTest

final class WALValuesTests: XCTestCase {
    func testInternThenResolveGivesTheSameStateAndStoresEachValueOnce() throws {
        let value = Array("HANSE-PROPOSAL".utf8) + [UInt8](repeating: 7, count: 10_000)
        let proposal = SignedProposal(proposal: Proposal(height: 5, round: 1, value: value, validRound: -1, proposer: 2), signature: [1, 2, 3])
        let vote = SignedVote(vote: Vote(type: .prevote, height: 5, round: 1, valueID: [UInt8](repeating: 9, count: 32), validator: 2), signature: [4])
        var state = HardState.start(height: 5)
        state.round = 1
        state.lockedRound = 1
        state.lockedValue = value
        state.validRound = 1
        state.validValue = value
        state.sent = [.proposal(proposal), .vote(vote)]

        var stored: [[UInt8]: [UInt8]] = [:]
        var stores = 0
        let interned = try WALValues.intern(state) { bytes in
            stores += 1
            let hash = SHA256.hash(bytes)
            stored[hash] = bytes
            return hash
        }
        XCTAssertEqual(stores, 1, "one value, stored once")
        XCTAssertLessThan(interned.lockedValue?.count ?? 0, 100)
        XCTAssertEqual(WALValues.resolve(interned, values: stored), state)
        XCTAssertNil(WALValues.resolve(interned, values: [:]), "a missing value is an error")
        XCTAssertEqual(try WALValues.intern(HardState.start(height: 1)) { _ in XCTFail("nothing to store"); return [] }, HardState.start(height: 1))
    }
}
