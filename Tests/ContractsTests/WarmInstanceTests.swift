// Warm instances serve call after call of a module, reset between calls. They must be invisible:
// the same receipts (status, gas, result, writes, events, reads) as a fresh store per call, and
// nothing one call leaves in memory or globals is seen by the next.
@testable import Contracts
import Crypto
import Foundation
import HanseCore
import HanseTesting
import Ledger
import XCTest

final class WarmInstanceTests: XCTestCase {
    /// Counts in a mutable global and in memory, and returns both: a fresh instance answers 1 and 1.
    static let leaky = Guests.module("""
      (global $g (mut i32) (i32.const 0))
      (global $limit i32 (i32.const 7))
      (data (i32.const 0) "\\00\\00\\00\\00")
      (func (export "bump")
        (global.set $g (i32.add (global.get $g) (i32.const 1)))
        (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (i32.store (i32.const 4) (global.get $g))
        (call $ret (i32.const 0) (i32.const 8)))
      (func (export "bump_then_trap")
        (global.set $g (i32.const 99))
        (i32.store (i32.const 0) (i32.const 99))
        unreachable)
      (func (export "scribble")
        (memory.fill (i32.const 0) (i32.const 255) (i32.const 65536))
        (global.set $g (i32.const -1)))
      (func (export "grow")
        (drop (memory.grow (i32.const 1)))
        (global.set $g (i32.const 5)))
    """)

    /// Changes its table: such a module always runs in a fresh store.
    static let tableWriter = Guests.module("""
      (table $t 2 2 funcref)
      (func $f)
      (elem declare func $f)
      (func (export "set") (table.set $t (i32.const 0) (ref.func $f)))
      (func (export "noop"))
    """)

    private func runtimes() -> (fresh: ContractRuntime, pooled: ContractRuntime) {
        var cold = Limits()
        cold.contractWarmInstancesPerModule = 0
        return (ContractRuntime(limits: cold), ContractRuntime())
    }

    func testPooledExecutionGivesTheSameReceiptsAsAFreshStorePerCall() throws {
        let (freshRuntime, pooledRuntime) = runtimes()
        let admin = try PrivateKey.generate(.ed25519)
        let fresh = try ContractHarness(runtime: freshRuntime, admin: admin)
        let pooled = try ContractHarness(runtime: pooledRuntime, admin: admin)
        let signers = try (0..<3).map { _ in try PrivateKey.generate(.p256) }
        let addresses = signers.map { TransactionEnvelope.address(algorithm: $0.algorithm, publicKey: $0.publicKey.raw) }
        let contracts: [(String, [UInt8])] = [
            ("counter", Guests.counter), ("leaky", Self.leaky), ("bomb", Guests.memoryBomb), ("divide", Guests.divideByZero),
            ("points", try ScenarioTests.module("points")), ("evidence", try ScenarioTests.module("evidence")),
        ]
        func compare(_ expected: [ExecutedTransaction], _ actual: [ExecutedTransaction], _ what: String) {
            XCTAssertEqual(expected.count, actual.count, what)
            for (index, (want, got)) in zip(expected, actual).enumerated() where want != got {
                XCTFail("\(what), transaction \(index) (\(want.envelope.contract).\(want.envelope.method)): fresh \(want.receipt.status) gas \(want.receipt.gasUsed) \(want.receipt.error) \(want.writes.count) writes \(want.events.count) events; pooled \(got.receipt.status) gas \(got.receipt.gasUsed) \(got.receipt.error) \(got.writes.count) writes \(got.events.count) events")
            }
            XCTAssertEqual(BlockRoots.writeSetRoot(expected), BlockRoots.writeSetRoot(actual), what)
        }
        for (name, code) in contracts {
            let deploy = try fresh.envelope(TransactionEnvelope.systemContract, "deploy",
                                            #"{"name":"\#(name)","version":"1","code":"\#(Data(code).base64EncodedString())"}"#, gas: 1_000_000_000)
            let expected = try fresh.run([deploy])
            XCTAssertEqual(expected[0].receipt.status, .committed, "\(name): \(expected[0].receipt.error)")
            compare(expected, try pooled.run([deploy]), "deploy \(name)")
        }
        var random = SeededRandom(seed: 20261121)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        var compared = 0
        for round in 0..<120 {
            var block: [TransactionEnvelope] = []
            for _ in 0..<(1 + Int(random.next() % 6)) {
                let signer = pick(signers)
                let to = pick(addresses)
                let amount = pick(["1", "5", "0", "18446744073709551615", "\"12\"", "-1"])
                let (contract, method, args): (String, String, String) = pick([
                    ("counter", pick(["increment", "get", "fail", "write_then_trap", "echo", "hash_args"]), #"{"p":"\#(round)"}"#),
                    ("leaky", pick(["bump", "bump", "bump_then_trap", "scribble", "grow"]), "{}"),
                    ("divide", "divide", "{}"),
                    ("bomb", "grow_huge", "{}"),
                    ("points", "mint", #"{"to":"\#(to)","amount":\#(amount)}"#),
                    ("points", "transfer", #"{"to":"\#(to)","amount":\#(amount)}"#),
                    ("points", pick(["balance", "info"]), #"{"of":"\#(to)"}"#),
                    ("evidence", pick(["notarise", "verify", "revoke"]), #"{"hash":"\#(String(repeating: pick(["a", "b", "c"]), count: 64))","note":"r\#(round)"}"#),
                ])
                // Some budgets run out part-way through the call.
                let gas: UInt64 = random.next() % 5 == 0 ? 500 + random.next() % 40_000 : TransactionEnvelope.defaultGasLimit
                let signedBy = contract == "points" && method == "mint" ? admin : signer
                block.append(try fresh.envelope(contract, method, args, by: signedBy, gas: gas))
            }
            let expected = try fresh.run(block)
            compare(expected, try pooled.run(block), "round \(round)")
            compared += expected.count
        }
        XCTAssertGreaterThan(compared, 300)
        // The comparison means something only if the pooled runtime did reuse instances.
        XCTAssertEqual(freshRuntime.instanceCounts.warm, 0)
        XCTAssertGreaterThan(pooledRuntime.instanceCounts.warm, compared / 3, "pooled runtime: \(pooledRuntime.instanceCounts)")
    }

    func testAWarmInstanceForgetsMemoryAndGlobalsBetweenCalls() throws {
        let runtime = ContractRuntime()
        let chain = try ContractHarness(runtime: runtime)
        try chain.deploy("leaky", code: Self.leaky)
        let fresh: [UInt8] = [1, 0, 0, 0, 1, 0, 0, 0]
        for call in 0..<5 {
            let bump = try chain.call("leaky", "bump")
            XCTAssertEqual(bump.receipt.status, .committed, bump.receipt.error)
            XCTAssertEqual(bump.receipt.result, fresh, "call \(call) saw what an earlier call left")
            // Each kind of call that leaves the instance changed: a trap, a full overwrite, a growth.
            let other = ["scribble", "bump_then_trap", "grow", "scribble", "bump"][call]
            _ = try chain.call("leaky", other)
        }
        XCTAssertEqual(try chain.call("leaky", "bump").receipt.result, fresh)
        XCTAssertGreaterThan(runtime.instanceCounts.warm, 3, "\(runtime.instanceCounts)")
        let idle = runtime.idleWarmInstances
        XCTAssertGreaterThanOrEqual(idle.count, 1)
        XCTAssertLessThanOrEqual(idle.count, Limits().contractWarmInstancesPerModule)
        XCTAssertEqual(idle.bytes, idle.count * 2 * 65536, "each idle instance holds its one page and the page's image")
    }

    func testAModuleThatChangesItsTableAlwaysGetsAFreshStore() throws {
        let runtime = ContractRuntime()
        let chain = try ContractHarness(runtime: runtime)
        try chain.deploy("tables", code: Self.tableWriter)
        let before = runtime.instanceCounts
        for method in ["set", "noop", "set", "noop"] {
            XCTAssertEqual(try chain.call("tables", method).receipt.status, .committed)
        }
        XCTAssertEqual(runtime.instanceCounts.warm, before.warm)
        XCTAssertEqual(runtime.instanceCounts.fresh, before.fresh + 4)
    }

    func testIdleInstancesStayWithinTheirBounds() throws {
        var limits = Limits()
        limits.contractWarmInstancesPerModule = 2
        limits.contractWarmInstanceBytesMax = 3 * 2 * 65536
        let runtime = ContractRuntime(limits: limits)
        let admin = try PrivateKey.generate(.ed25519)
        // Calls in one block run one after another, so one warm instance per module serves them;
        // bounds matter for nested and concurrent calls, which take more. Fill beyond them.
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let local = try? ContractHarness(runtime: runtime, admin: admin)
            for name in ["leaky", "counter"] { _ = try? local?.deploy(name, code: name == "leaky" ? Self.leaky : Guests.counter) }
            for _ in 0..<20 { _ = try? local?.call("leaky", "bump"); _ = try? local?.call("counter", "increment") }
        }
        let idle = runtime.idleWarmInstances
        XCTAssertLessThanOrEqual(idle.count, 3)
        XCTAssertLessThanOrEqual(idle.bytes, limits.contractWarmInstanceBytesMax)
        XCTAssertEqual(HostCall.live.load(ordering: .relaxed), 0, "a call's objects outlived it")
    }
}
