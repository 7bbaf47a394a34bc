// The consensus host's signature checks with the cache shared by a worker's validators: a
// signature checked by one is not checked again by the others, and the cache never accepts what
// a check would refuse (another validator, another message, a changed signature).
import Consensus
import Crypto
import Ledger
@testable import Node
import XCTest

final class ChainHostTests: XCTestCase {
    func testValidatorsOfOneWorkerShareTheirVerdicts() throws {
        let keys = try (0..<4).map { _ in try PrivateKey.generate(.p256) }
        let set = ValidatorSet(keys: keys.map(\.publicKey))
        let verified = VerifiedSignatures(capacity: 8)
        let hosts = keys.map { ChainHost(chainID: "c", key: $0, validators: set, verified: verified) { _, _ in true } }
        let vote = Vote(type: .prevote, height: 3, round: 0, valueID: [UInt8](repeating: 7, count: 32), validator: 1)
        let signature = hosts[1].sign(vote)

        XCTAssertTrue(hosts[0].isValid(signature, of: vote))
        XCTAssertEqual(verified.count, 1, "checked once, remembered")
        XCTAssertTrue(hosts[2].isValid(signature, of: vote))
        XCTAssertTrue(hosts[3].isValid(signature, of: vote))
        XCTAssertEqual(verified.count, 1)

        // What a check refuses, the cache refuses too, and nothing refused is remembered.
        var forged = signature
        forged[10] ^= 1
        XCTAssertFalse(hosts[0].isValid(forged, of: vote))
        var otherValidator = vote
        otherValidator.validator = 2
        XCTAssertFalse(hosts[0].isValid(signature, of: otherValidator), "validator 1's signature is not validator 2's")
        var otherRound = vote
        otherRound.round = 1
        XCTAssertFalse(hosts[0].isValid(signature, of: otherRound), "same signature, another message")
        var outside = vote
        outside.validator = 9
        XCTAssertFalse(hosts[0].isValid(signature, of: outside))
        XCTAssertEqual(verified.count, 1)

        // Proposals go through the same cache.
        let proposal = Proposal(height: 3, round: 0, value: Array("block".utf8), validRound: -1, proposer: 2)
        let proposed = hosts[2].sign(proposal)
        XCTAssertTrue(hosts[0].isValid(proposed, of: proposal))
        XCTAssertTrue(hosts[1].isValid(proposed, of: proposal))
        XCTAssertFalse(hosts[1].isValid(proposed, of: Proposal(height: 3, round: 0, value: Array("other".utf8), validRound: -1, proposer: 2)))
        XCTAssertEqual(verified.count, 2)

        // Bounded: past its capacity it starts again, and checks still answer right.
        for round in 1...10 {
            var next = vote
            next.round = UInt32(round)
            XCTAssertTrue(hosts[0].isValid(hosts[1].sign(next), of: next))
        }
        XCTAssertLessThanOrEqual(verified.count, 8)
        XCTAssertTrue(hosts[3].isValid(signature, of: vote))
    }
}
