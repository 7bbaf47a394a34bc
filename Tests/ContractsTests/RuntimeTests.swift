// Execution semantics through the executor: overlays, read and write sets, events, queries, host
// functions, and the lifecycle steps of `_system`.
import Contracts
import Crypto
import HanseCore
import HanseTesting
import Ledger
import XCTest

final class RuntimeTests: XCTestCase {
    private func u64(_ bytes: [UInt8]) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    func testDeployRunsInitAndCallsChangeState() throws {
        let chain = try ContractHarness()
        let deploy = try chain.deploy("counter", code: Guests.counter)
        XCTAssertEqual(deploy.receipt.status, .committed, deploy.receipt.error)
        XCTAssertTrue(deploy.resultText.contains(#""methods":["echo","fail","get","hash_args","increment","whoami","write_then_trap"]"#), deploy.resultText)
        XCTAssertEqual(deploy.events.map(\.topic), ["bumped", "deployed"], "init's event, then the lifecycle event")

        let increment = try chain.call("counter", "increment")
        XCTAssertEqual(increment.receipt.status, .committed, increment.receipt.error)
        XCTAssertEqual(u64(increment.receipt.result), 101, "init added 100")
        XCTAssertGreaterThan(increment.receipt.gasUsed, 0)
        XCTAssertEqual(increment.writes, [StateWrite(contract: "counter", key: Array("count".utf8), value: [101, 0, 0, 0, 0, 0, 0, 0])])
        XCTAssertEqual(increment.events, [ContractEvent(contract: "counter", topic: "bumped", data: [101, 0, 0, 0, 0, 0, 0, 0])])
        XCTAssertTrue(increment.reads.contains(StateKey(contract: "counter", key: Array("count".utf8))), "the read set names the key")
        XCTAssertTrue(increment.reads.contains(StateKey(contract: "_system", key: Array("contract/counter".utf8))), "and the registry entry")

        guard case .success(let value) = try chain.query("counter", "get") else { return XCTFail("query failed") }
        XCTAssertEqual(u64(value.result), 101)
    }

    func testTransactionsOfOneBlockSeeEachOthersWritesAndFailuresLeaveNothing() throws {
        let chain = try ContractHarness()
        try chain.deploy("counter", code: Guests.counter)
        let block = try chain.run([
            try chain.envelope("counter", "increment", "{}"),
            try chain.envelope("counter", "fail", "{}"),
            try chain.envelope("counter", "write_then_trap", "{}"),
            try chain.envelope("counter", "increment", "{}"),
        ])
        XCTAssertEqual(block.map(\.receipt.status), [.committed, .failed, .failed, .committed])
        XCTAssertEqual(u64(block[0].receipt.result), 101)
        XCTAssertEqual(block[1].receipt.error, "revert: counter says no")
        XCTAssertEqual(block[2].receipt.error, "trap: unreachable executed")
        XCTAssertEqual(u64(block[3].receipt.result), 102, "the failed transactions' writes were discarded")
        XCTAssertTrue(block[1].writes.isEmpty && block[1].events.isEmpty && block[2].writes.isEmpty)
        XCTAssertGreaterThan(block[1].receipt.gasUsed, 0, "a failed call still pays for what it ran")
    }

    func testQueriesAreReadOnly() throws {
        let chain = try ContractHarness()
        try chain.deploy("counter", code: Guests.counter)
        guard case .failure(let error) = try chain.query("counter", "increment") else { return XCTFail("a write in a query must fail") }
        XCTAssertEqual(error, .hostCall(function: "state_set", reason: "a read-only query may not change state or emit events"))
        guard case .success(let echo) = try chain.query("counter", "echo", #"{"a":1}"#) else { return XCTFail() }
        XCTAssertEqual(String(decoding: echo.result, as: UTF8.self), #"{"a":1}"#)
    }

    func testHostFunctionsCallerAndHash() throws {
        let chain = try ContractHarness()
        try chain.deploy("counter", code: Guests.counter)
        let user = try PrivateKey.generate(.p256)
        let whoami = try chain.call("counter", "whoami", by: user)
        XCTAssertEqual(whoami.resultText, TransactionEnvelope.address(algorithm: .p256, publicKey: user.publicKey.raw))
        XCTAssertEqual(whoami.resultText.count, 40)
        let hash = try chain.call("counter", "hash_args", #"{"doc":"abc"}"#)
        XCTAssertEqual(hash.receipt.result, SHA256.hash(Array(#"{"doc":"abc"}"#.utf8)))
    }

    func testScansMergeCommittedStateWithPendingWrites() throws {
        let chain = try ContractHarness()
        XCTAssertEqual(try chain.deploy("scanner", code: Guests.scanner).receipt.status, .committed)
        try chain.call("scanner", "fill")
        func keys(_ result: [UInt8]) -> [String] {
            var offset = 4, keys: [String] = []
            let count = Int(result[0]) | Int(result[1]) << 8
            for _ in 0..<count {
                let length = Int(result[offset]); offset += 4
                keys.append(String(decoding: result[offset..<offset + length], as: UTF8.self)); offset += length
                let valueLength = Int(result[offset]); offset += 4 + valueLength
            }
            return keys
        }
        guard case .success(let first) = try chain.query("scanner", "scan", "") else { return XCTFail() }
        XCTAssertEqual(keys(first.result), ["k/0", "k/1", "k/2", "k/3"])
        guard case .success(let page) = try chain.query("scanner", "scan", "k/3") else { return XCTFail() }
        XCTAssertEqual(keys(page.result), ["k/4", "k/5", "k/6", "k/7"])
        // A delete earlier in the same block hides the key from a later scan in that block.
        let block = try chain.run([try chain.envelope("scanner", "drop5", ""), try chain.envelope("scanner", "scan", "k/3")])
        XCTAssertEqual(keys(block[1].receipt.result), ["k/4", "k/6", "k/7", "k/8"])
    }

    func testLifecycleUpgradeFreezeRevokeAndRoles() throws {
        let chain = try ContractHarness()
        try chain.deploy("counter", code: Guests.counter)
        try chain.call("counter", "increment")
        let outsider = try PrivateKey.generate(.ed25519)
        let outsiderAddress = TransactionEnvelope.address(algorithm: .ed25519, publicKey: outsider.publicKey.raw)

        let forbidden = try chain.call("_system", "freeze", #"{"name":"counter"}"#, by: outsider)
        XCTAssertEqual(forbidden.receipt.error, "forbidden: only a chain admin may call _system.freeze")

        var freeze = try chain.call("_system", "freeze", #"{"name":"counter"}"#)
        XCTAssertEqual(freeze.receipt.status, .committed, freeze.receipt.error)
        XCTAssertEqual(freeze.events.map(\.topic), ["frozen"])
        XCTAssertEqual(try chain.call("counter", "increment").receipt.error, "not callable: contract counter is frozen")
        XCTAssertEqual(try chain.call("_system", "unfreeze", #"{"name":"counter"}"#).receipt.status, .committed)
        XCTAssertEqual(u64(try chain.call("counter", "increment").receipt.result), 102)

        // Upgrade keeps the state and runs migrate.
        let upgrade = try chain.call("_system", "upgrade", #"{"name":"counter","version":"2","code":"\#(Data(Guests.counterV2).base64EncodedString())"}"#, gas: 1_000_000_000)
        XCTAssertEqual(upgrade.receipt.status, .committed, upgrade.receipt.error)
        XCTAssertTrue(upgrade.resultText.contains(#""version":"2""#) && upgrade.resultText.contains(#""history":[{"#), upgrade.resultText)
        XCTAssertEqual(u64(try chain.call("counter", "increment").receipt.result), 1112, "102 + migrate's 1000 + 10")
        XCTAssertEqual(try chain.call("counter", "fail").receipt.error, "not found: method fail of contract counter", "v2 has no fail")

        // Roles: an admin grants admin; the new admin may freeze; revoke ends it.
        XCTAssertEqual(try chain.call("_system", "grant_role", #"{"address":"\#(outsiderAddress)","role":"admin"}"#).receipt.status, .committed)
        freeze = try chain.call("_system", "freeze", #"{"name":"counter"}"#, by: outsider)
        XCTAssertEqual(freeze.receipt.status, .committed, freeze.receipt.error)
        XCTAssertEqual(try chain.call("_system", "revoke", #"{"name":"counter"}"#).receipt.status, .committed)
        XCTAssertEqual(try chain.call("counter", "get").receipt.error, "not callable: contract counter is revoked")
        XCTAssertEqual(try chain.call("_system", "unfreeze", #"{"name":"counter"}"#).receipt.error,
                       "invalid arguments: contract counter is revoked; unfreeze needs it frozen")
        XCTAssertEqual(try chain.call("_system", "revoke_role", #"{"address":"\#(outsiderAddress)"}"#).receipt.status, .committed)
        XCTAssertEqual(try chain.call("_system", "freeze", #"{"name":"counter"}"#, by: outsider).receipt.error,
                       "forbidden: only a chain admin may call _system.freeze")
    }

    func testBadLifecycleRequestsFailWithReasons() throws {
        let chain = try ContractHarness()
        let code = Data(Guests.counter).base64EncodedString()
        let cases: [(String, String, String)] = [
            ("deploy", #"{"name":"c","version":"1","code":"\#(code)","extra":1}"#, "invalid arguments: unknown field extra (known: code, init_args, name, version)"),
            ("deploy", #"{"name":"_c","version":"1","code":"\#(code)"}"#, "invalid arguments: name must be 1 to 64 printable ASCII characters, not starting with _"),
            ("deploy", #"{"name":"c","version":"1","code":"not base64!"}"#, "invalid arguments: code must be base64"),
            ("deploy", #"{"name":"c","version":"1","code":"AGFzbQEAAAA="}"#, "invalid module: a module must define exactly one memory (it defines 0); imported memories are not allowed"),
            ("deploy", "[1]", "invalid arguments: args must be a JSON object"),
            ("upgrade", #"{"name":"missing","version":"2","code":"\#(code)"}"#, "not found: contract missing"),
            ("freeze", #"{"name":"missing"}"#, "not found: contract missing"),
            ("grant_role", #"{"address":"ABC","role":"admin"}"#, "invalid arguments: address must be a signer address: 40 lower-case hex digits (docs/contracts.md)"),
            ("destroy", "{}", "not found: method destroy of _system (deploy, upgrade, freeze, unfreeze, revoke, grant_role, revoke_role)"),
        ]
        for (method, args, error) in cases {
            let result = try chain.call("_system", method, args, gas: 1_000_000_000)
            XCTAssertEqual(result.receipt.status, .failed, method)
            XCTAssertEqual(result.receipt.error, error, "\(method) \(args.prefix(60))")
            XCTAssertTrue(result.writes.isEmpty)
        }
        XCTAssertEqual(try chain.deploy("c", code: Guests.counter).receipt.status, .committed)
        XCTAssertEqual(try chain.deploy("c", code: Guests.counter).receipt.error, "invalid arguments: contract c already exists; use upgrade")
        XCTAssertEqual(try chain.call("nothing", "x").receipt.error, "not found: contract nothing")
        XCTAssertEqual(try chain.call("c", "busy").receipt.error, "not found: method busy of contract c")
        XCTAssertEqual(try chain.call("c", "init").receipt.error, "not found: method init of contract c", "init runs only at deploy")
        // Deploy runs init inside the transaction's budget: too little gas fails the whole deploy.
        // 10,000 for the step and 10 per code byte leave init 1,000 fuel, less than it needs.
        let gas = 10_000 + 10 * UInt64(Guests.counter.count) + 1_000
        let starved = try chain.call("_system", "deploy", #"{"name":"d","version":"1","code":"\#(code)"}"#, gas: gas)
        XCTAssertEqual(starved.receipt.error, "init failed: out of fuel (budget 1000)")
        XCTAssertEqual(starved.receipt.gasUsed, gas)
        XCTAssertTrue(starved.writes.isEmpty, "nothing of the failed deploy is kept")
        XCTAssertEqual(try chain.call("d", "get").receipt.error, "not found: contract d")
    }

    func testEveryCallPaysForItsCodeAndLookups() throws {
        let chain = try ContractHarness()
        try chain.deploy("counter", code: Guests.counter)
        let starved = try chain.call("counter", "get", gas: 10)
        XCTAssertEqual(starved.receipt.error, "out of fuel (budget 10)", "compiling the code is charged before anything runs")
        XCTAssertEqual(starved.receipt.gasUsed, 10)
        XCTAssertEqual(try chain.call("nothing", "x").receipt.gasUsed, 2_000, "a lookup that fails is not free")
        XCTAssertEqual(try chain.call("nothing", "x", gas: 500).receipt.error, "out of fuel (budget 500)")
    }

    func testAFrozenContractCanBeUpgradedAndMigrated() throws {
        let chain = try ContractHarness()
        try chain.deploy("counter", code: Guests.counter)
        XCTAssertEqual(try chain.call("_system", "freeze", #"{"name":"counter"}"#).receipt.status, .committed)
        let upgrade = try chain.call("_system", "upgrade", #"{"name":"counter","version":"2","code":"\#(Data(Guests.counterV2).base64EncodedString())"}"#, gas: 1_000_000_000)
        XCTAssertEqual(upgrade.receipt.status, .committed, upgrade.receipt.error)
        XCTAssertEqual(try chain.call("counter", "get").receipt.error, "not callable: contract counter is frozen")
        XCTAssertEqual(try chain.call("_system", "unfreeze", #"{"name":"counter"}"#).receipt.status, .committed)
        XCTAssertEqual(u64(try chain.call("counter", "get").receipt.result), 1100, "init's 100 + migrate's 1000")
    }

    func testModuleCacheIsBoundedAndSharedByHash() throws {
        var limits = Limits()
        limits.contractModuleCacheEntries = 2
        let runtime = ContractRuntime(limits: limits)
        let chain = try ContractHarness(runtime: runtime)
        try chain.deploy("a", code: Guests.counter)
        try chain.deploy("b", code: Guests.counter)
        try chain.deploy("c", code: Guests.scanner)
        try chain.deploy("d", code: Guests.counterV2)
        XCTAssertLessThanOrEqual(runtime.cachedModules, 2)
        for name in ["a", "b", "c", "d", "a"] {
            XCTAssertEqual(try chain.call(name, name == "c" ? "fill" : "increment").receipt.status, .committed)
        }
        XCTAssertEqual(runtime.cachedModules, 2)
    }
}
