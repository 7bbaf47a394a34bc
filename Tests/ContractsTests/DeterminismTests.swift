// Fuel is part of consensus output (gas used is in every receipt and the write-set root): the same
// call on the same state must burn exactly the same fuel on every run, on every validator.
import Contracts
import HanseCore
import HanseTesting
import Ledger
import XCTest

final class DeterminismTests: XCTestCase {
    func testFuelAndOutcomeAreIdenticalAcrossRepeatedRunsOverRandomInputs() throws {
        var random = SeededRandom(seed: 20261121)
        // Two independent runtimes, as two validators would have.
        let chains = try (0..<2).map { _ in try ContractHarness(runtime: ContractRuntime()) }
        let admin = chains[0].admin
        let replica = try ContractHarness(runtime: ContractRuntime(), admin: admin)
        for chain in chains + [replica] { XCTAssertEqual(try chain.deploy("counter", code: Guests.counter).receipt.status, .committed) }
        for round in 0..<300 {
            let length = Int(random.next() % 2000)
            let args = String((0..<length).map { _ in Character(Unicode.Scalar(UInt8(97 + random.next() % 26))) })
            let method = ["echo", "hash_args", "increment", "get", "fail"][Int(random.next() % 5)]
            let gas = 1_000 + random.next() % 200_000
            let envelope = try chains[0].envelope("counter", method, "{\"p\":\"\(args)\"}", gas: gas)
            let first = try chains[0].run([envelope])[0]
            let again = try chains[1].run([envelope])[0]
            let third = try replica.run([envelope])[0]
            XCTAssertEqual(first, again, "round \(round): \(method) with gas \(gas)")
            XCTAssertEqual(first, third, "round \(round)")
            XCTAssertEqual(BlockRoots.writeSetRoot([first]), BlockRoots.writeSetRoot([again]))
        }
    }

    func testOutOfFuelHappensAtTheSameInstructionEveryTime() throws {
        let chain = try ContractHarness()
        try chain.deploy("counter", code: Guests.counter)
        // Find budgets around the cost of one increment and check each verdict repeats.
        let full = try chain.call("counter", "increment")
        let cost = full.receipt.gasUsed
        for budget in [cost - 1, cost, cost + 1, cost / 2] {
            let verdicts = try (0..<5).map { _ in try chain.executor.execute([try chain.envelope("counter", "get", "{}", gas: budget)], in: chain.block, state: chain.state)[0].receipt }
            XCTAssertEqual(Set(verdicts.map(\.status)).count, 1, "budget \(budget)")
            XCTAssertEqual(Set(verdicts.map(\.gasUsed)).count, 1, "budget \(budget)")
        }
    }
}
