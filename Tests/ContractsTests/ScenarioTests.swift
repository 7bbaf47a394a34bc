// The scenario contracts of contracts/examples, built from source with contracts/build.sh (the
// command a user runs, with the toolchain on this machine) and run through the real runtime:
// deploy, calls by several signers, the rules each contract enforces, and its invariants.
import Contracts
import Crypto
import Foundation
import HanseCore
import HanseTesting
import Ledger
import XCTest

final class ScenarioTests: XCTestCase {
    /// Each example, built once per test run.
    nonisolated(unsafe) private static var built: [String: [UInt8]] = [:]
    private static let lock = NSLock()

    static func module(_ name: String) throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        if let code = built[name] { return code }
        let directory = Repository.path("contracts/examples/\(name)")
        let source = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .first { $0 == "\(name).swift" || $0 == "\(name).c" }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("hanse-\(name)-\(getpid()).wasm")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Repository.path("contracts/build.sh").path, directory.appendingPathComponent(try XCTUnwrap(source)).path, output.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw NSError(domain: "build.sh", code: 1, userInfo: [NSLocalizedDescriptionKey: message]) }
        defer { try? FileManager.default.removeItem(at: output) }
        let code = Array(try Data(contentsOf: output))
        built[name] = code
        return code
    }

    private func address(_ key: PrivateKey) -> String { TransactionEnvelope.address(algorithm: key.algorithm, publicKey: key.publicKey.raw) }

    private func json(_ transaction: ExecutedTransaction, file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
        XCTAssertEqual(transaction.receipt.status, .committed, transaction.receipt.error, file: file, line: line)
        return (try? JSONSerialization.jsonObject(with: Data(transaction.receipt.result))) as? [String: Any] ?? [:]
    }

    private func assertReverts(_ transaction: ExecutedTransaction, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(transaction.receipt.status, .failed, file: file, line: line)
        XCTAssertTrue(transaction.receipt.error.hasPrefix("revert: "), transaction.receipt.error, file: file, line: line)
        XCTAssertTrue(transaction.receipt.error.lowercased().contains(text.lowercased()), "\(transaction.receipt.error) should mention \(text)", file: file, line: line)
        XCTAssertTrue(transaction.writes.isEmpty && transaction.events.isEmpty, file: file, line: line)
    }

    private func deploy(_ name: String, on chain: ContractHarness, initArgs: String? = nil) throws {
        let deploy = try chain.deploy(name, code: try Self.module(name), initArgs: initArgs)
        XCTAssertEqual(deploy.receipt.status, .committed, deploy.receipt.error)
    }

    func testEvidenceNotarisesVerifiesAndRevokes() throws {
        let chain = try ContractHarness()
        try deploy("evidence", on: chain)
        let alice = try PrivateKey.generate(.p256), bob = try PrivateKey.generate(.sm2)
        let hash = Hex.encode(SHA256.hash(Array("contract #42, signed copy".utf8)))
        let notarised = try chain.call("evidence", "notarise", #"{"hash":"\#(hash)","metadata":"purchase contract v1"}"#, by: alice)
        let record = json(notarised)
        XCTAssertEqual(record["owner"] as? String, address(alice))
        XCTAssertEqual(record["hash"] as? String, hash)
        XCTAssertEqual(notarised.events.map(\.topic), ["notarised"])

        guard case .success(let verified) = try chain.query("evidence", "verify", #"{"hash":"\#(hash.uppercased())"}"#) else { return XCTFail() }
        let found = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(verified.result)) as? [String: Any])
        XCTAssertEqual(found["found"] as? Bool, true)
        XCTAssertEqual(found["metadata"] as? String, "purchase contract v1")
        XCTAssertEqual((found["height"] as? NSNumber)?.uint64Value, notarised.envelope.validUntil == .height(0) ? 0 : chain.height - 1)

        assertReverts(try chain.call("evidence", "notarise", #"{"hash":"\#(hash)","metadata":"again"}"#, by: bob), containing: "already")
        assertReverts(try chain.call("evidence", "revoke", #"{"hash":"\#(hash)"}"#, by: bob), containing: "owner")
        assertReverts(try chain.call("evidence", "notarise", #"{"hash":"xyz","metadata":""}"#, by: bob), containing: "hash")
        let revoked = json(try chain.call("evidence", "revoke", #"{"hash":"\#(hash)","reason":"superseded"}"#, by: alice))
        XCTAssertEqual(revoked["revoked"] as? Bool, true)
        guard case .success(let missing) = try chain.query("evidence", "verify", #"{"hash":"\#(String(repeating: "0", count: 64))"}"#) else { return XCTFail() }
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(missing.result)) as? [String: Any])?["found"] as? Bool, false)
    }

    func testTraceabilityKeepsEachItemsHistoryInOrder() throws {
        let chain = try ContractHarness()
        try deploy("traceability", on: chain)
        let farm = try PrivateKey.generate(.ed25519), shipper = try PrivateKey.generate(.p256), shop = try PrivateKey.generate(.ed25519)
        XCTAssertEqual(json(try chain.call("traceability", "register", #"{"item":"lot-7","product":"coffee beans"}"#, by: farm))["creator"] as? String, address(farm))
        assertReverts(try chain.call("traceability", "register", #"{"item":"lot-7","product":"again"}"#, by: shop), containing: "lot-7")
        assertReverts(try chain.call("traceability", "add_event", #"{"item":"lot-8","stage":"x","location":"y"}"#, by: shop), containing: "lot-8")
        let stages = [("harvested", "Huila", farm), ("shipped", "Cartagena", shipper), ("roasted", "Hamburg", shop), ("sold", "Hamburg", shop)]
        for (stage, location, party) in stages {
            let event = try chain.call("traceability", "add_event", #"{"item":"lot-7","stage":"\#(stage)","location":"\#(location)"}"#, by: party)
            XCTAssertEqual(json(event)["by"] as? String, address(party))
        }
        guard case .success(let result) = try chain.query("traceability", "history", #"{"item":"lot-7"}"#) else { return XCTFail() }
        let history = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.result)) as? [String: Any])
        let events = try XCTUnwrap(history["events"] as? [[String: Any]])
        XCTAssertEqual(events.map { $0["stage"] as? String }, stages.map(\.0))
        XCTAssertEqual(events.map { $0["by"] as? String }, stages.map { address($0.2) })
        guard case .success(let page) = try chain.query("traceability", "history", #"{"item":"lot-7","after":2,"limit":1}"#) else { return XCTFail() }
        let paged = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(page.result)) as? [String: Any])
        XCTAssertEqual((paged["events"] as? [[String: Any]])?.map { $0["stage"] as? String }, ["roasted"])
    }

    func testReceivablesNeverExceedTheirFaceValue() throws {
        let chain = try ContractHarness()
        try deploy("receivables", on: chain)
        let supplier = try PrivateKey.generate(.p256), buyer = try PrivateKey.generate(.p256)
        let bank = try PrivateKey.generate(.sm2), subSupplier = try PrivateKey.generate(.ed25519)
        let issued = json(try chain.call("receivables", "issue", #"{"id":"inv-1","debtor":"\#(address(buyer))","face_value":1000000}"#, by: supplier))
        XCTAssertEqual((issued["amount"] as? NSNumber)?.uint64Value, 1_000_000)
        assertReverts(try chain.call("receivables", "split", #"{"id":"inv-1","parts":[{"id":"p1","amount":600000},{"id":"p2","amount":400001}]}"#, by: supplier),
                      containing: "more than the 1000000 left")
        assertReverts(try chain.call("receivables", "split", #"{"id":"inv-1","parts":[{"id":"p1","amount":1}]}"#, by: buyer), containing: "holder")
        _ = json(try chain.call("receivables", "split", #"{"id":"inv-1","parts":[{"id":"p1","amount":300000},{"id":"p2","amount":200000}]}"#, by: supplier))
        _ = json(try chain.call("receivables", "transfer", #"{"id":"p1","to":"\#(address(subSupplier))"}"#, by: supplier))
        assertReverts(try chain.call("receivables", "transfer", #"{"id":"p1","to":"\#(address(buyer))"}"#, by: supplier), containing: "holder")
        let financed = json(try chain.call("receivables", "finance", #"{"id":"p1","financier":"\#(address(bank))","rate_bp":250}"#, by: subSupplier))
        XCTAssertEqual((financed["advance"] as? NSNumber)?.uint64Value, 292_500)
        assertReverts(try chain.call("receivables", "finance", #"{"id":"p1","financier":"\#(address(bank))","rate_bp":100}"#, by: bank), containing: "financed")
        assertReverts(try chain.call("receivables", "settle", #"{"id":"p1"}"#, by: supplier), containing: "debtor")
        XCTAssertEqual(json(try chain.call("receivables", "settle", #"{"id":"p1"}"#, by: buyer))["settled"] as? Bool, true)
        assertReverts(try chain.call("receivables", "transfer", #"{"id":"p1","to":"\#(address(buyer))"}"#, by: bank), containing: "settled")

        // Random splits and transfers over a tree: the live amounts always add up to the face value.
        var random = SeededRandom(seed: 5)
        let holders = [supplier, subSupplier, bank]
        var owner: [String: Int] = ["inv-1": 0, "p2": 0]
        var next = 3
        for _ in 0..<60 {
            let id = owner.keys.sorted()[Int(random.next() % UInt64(owner.count))]
            let holder = holders[owner[id]!]
            if random.next() % 3 == 0 {
                let to = Int(random.next() % 3)
                if try chain.call("receivables", "transfer", #"{"id":"\#(id)","to":"\#(address(holders[to]))"}"#, by: holder).receipt.status == .committed { owner[id] = to }
            } else {
                let amount = 1 + random.next() % 150_000
                let parts = #"{"id":"\#(id)","parts":[{"id":"p\#(next)","amount":\#(amount)},{"id":"p\#(next + 1)","amount":\#(amount / 2 + 1)}]}"#
                if try chain.call("receivables", "split", parts, by: holder).receipt.status == .committed {
                    owner["p\(next)"] = owner[id]; owner["p\(next + 1)"] = owner[id]
                }
                next += 2
            }
        }
        var total: UInt64 = 0
        for id in Array(owner.keys) + ["p1"] {
            guard case .success(let result) = try chain.query("receivables", "get", #"{"id":"\#(id)"}"#) else { return XCTFail(id) }
            let receivable = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.result)) as? [String: Any])
            total += (receivable["amount"] as? NSNumber)?.uint64Value ?? 0
        }
        XCTAssertEqual(total, 1_000_000, "the parts of a receivable never add up to more (or less) than its face value")
    }

    func testCharityTracesEveryDisbursementToItsDonations() throws {
        let chain = try ContractHarness()
        try deploy("charity", on: chain)
        let foundation = try PrivateKey.generate(.ed25519), donorA = try PrivateKey.generate(.p256), donorB = try PrivateKey.generate(.sm2)
        let school = try PrivateKey.generate(.ed25519)
        _ = json(try chain.call("charity", "create_project", #"{"project":"school-roof"}"#, by: foundation))
        _ = json(try chain.call("charity", "donate", #"{"project":"school-roof","amount":500,"donor_ref":"A-1"}"#, by: donorA))
        _ = json(try chain.call("charity", "donate", #"{"project":"school-roof","amount":300}"#, by: donorB))
        assertReverts(try chain.call("charity", "disburse", #"{"project":"school-roof","recipient":"\#(address(school))","amount":100,"donation_ids":[1]}"#, by: donorA),
                      containing: "admin")
        assertReverts(try chain.call("charity", "disburse", #"{"project":"school-roof","recipient":"\#(address(school))","amount":900,"donation_ids":[1,2]}"#, by: foundation),
                      containing: "hold 800, less than the 900")
        let disbursed = json(try chain.call("charity", "disburse", #"{"project":"school-roof","recipient":"\#(address(school))","amount":650,"donation_ids":[1,2]}"#, by: foundation))
        let sources = try XCTUnwrap(disbursed["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.map { ($0["donation"] as? NSNumber)?.intValue }, [1, 2])
        XCTAssertEqual(sources.map { ($0["amount"] as? NSNumber)?.intValue }, [500, 150])
        XCTAssertEqual(sources.map { $0["donor"] as? String }, [address(donorA), address(donorB)])
        guard case .success(let result) = try chain.query("charity", "trail", #"{"project":"school-roof"}"#) else { return XCTFail() }
        let trail = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.result)) as? [String: Any])
        let donations = try XCTUnwrap(trail["donations"] as? [[String: Any]])
        XCTAssertEqual(donations.map { ($0["remaining"] as? NSNumber)?.intValue }, [0, 150])
        XCTAssertEqual((trail["disbursements"] as? [[String: Any]])?.count, 1)
        XCTAssertEqual(((trail["project"] as? [String: Any])?["available"] as? NSNumber)?.intValue, 150)
    }

    func testPointsMintTransferAndAllowances() throws {
        let chain = try ContractHarness()
        try deploy("points", on: chain)
        let alice = try PrivateKey.generate(.p256), bob = try PrivateKey.generate(.ed25519), shop = try PrivateKey.generate(.sm2)
        assertReverts(try chain.call("points", "mint", #"{"to":"\#(address(alice))","amount":5}"#, by: alice), containing: "admin")
        _ = json(try chain.call("points", "mint", #"{"to":"\#(address(alice))","amount":1000}"#))
        XCTAssertEqual((json(try chain.call("points", "transfer", #"{"to":"\#(address(bob))","amount":300}"#, by: alice))["balance"] as? NSNumber)?.intValue, 700)
        assertReverts(try chain.call("points", "transfer", #"{"to":"\#(address(alice))","amount":301}"#, by: bob), containing: "insufficient balance")
        _ = json(try chain.call("points", "approve", #"{"spender":"\#(address(shop))","amount":250}"#, by: alice))
        assertReverts(try chain.call("points", "transfer_from", #"{"from":"\#(address(alice))","to":"\#(address(shop))","amount":251}"#, by: shop), containing: "allowance exceeded")
        _ = json(try chain.call("points", "transfer_from", #"{"from":"\#(address(alice))","to":"\#(address(shop))","amount":200}"#, by: shop))
        func balance(_ key: PrivateKey) throws -> Int? {
            guard case .success(let result) = try chain.query("points", "balance", #"{"of":"\#(address(key))"}"#) else { return nil }
            return ((try JSONSerialization.jsonObject(with: Data(result.result)) as? [String: Any])?["balance"] as? NSNumber)?.intValue
        }
        XCTAssertEqual(try [balance(alice), balance(bob), balance(shop)], [500, 300, 200])
        guard case .success(let allowance) = try chain.query("points", "allowance", #"{"owner":"\#(address(alice))","spender":"\#(address(shop))"}"#) else { return XCTFail() }
        XCTAssertEqual(((try JSONSerialization.jsonObject(with: Data(allowance.result)) as? [String: Any])?["allowance"] as? NSNumber)?.intValue, 50)
        // Supply stays below 2^64.
        assertReverts(try chain.call("points", "mint", #"{"to":"\#(address(bob))","amount":"18446744073709551615"}"#), containing: "overflow")
        guard case .success(let info) = try chain.query("points", "info") else { return XCTFail() }
        XCTAssertEqual(((try JSONSerialization.jsonObject(with: Data(info.result)) as? [String: Any])?["supply"] as? NSNumber)?.intValue, 1000)
    }

    func testInitArgumentsReachInitByteForByte() throws {
        let chain = try ContractHarness()
        let treasurer = try PrivateKey.generate(.ed25519)
        try deploy("points", on: chain, initArgs: #"{"admin":"\#(address(treasurer))"}"#)
        assertReverts(try chain.call("points", "mint", #"{"to":"\#(address(treasurer))","amount":5}"#), containing: "admin")
        _ = json(try chain.call("points", "mint", #"{"to":"\#(address(treasurer))","amount":5}"#, by: treasurer))
        let bad = try chain.call("_system", "deploy", #"{"name":"p2","version":"1","code":"\#(Data(try Self.module("points")).base64EncodedString())","init_args":{"admin":1}}"#,
                                 gas: 1_000_000_000)
        XCTAssertEqual(bad.receipt.error, "invalid arguments: init_args must be a string")
    }

    func testRepeatedRunsOfTheSDKContractsBurnTheSameFuel() throws {
        // Determinism through the SDKs' allocator and JSON code, not only hand-written guests.
        var random = SeededRandom(seed: 11)
        let admin = try PrivateKey.generate(.ed25519)
        let chains = try (0..<2).map { _ in try ContractHarness(runtime: ContractRuntime(), admin: admin) }
        for chain in chains { try deploy("points", on: chain) }
        let holders = try (0..<5).map { _ in try PrivateKey.generate(.ed25519) }
        for holder in holders {
            let mint = try chains[0].envelope("points", "mint", #"{"to":"\#(address(holder))","amount":1000000}"#)
            XCTAssertEqual(try chains[0].run([mint]), try chains[1].run([mint]))
        }
        for _ in 0..<100 {
            let from = holders[Int(random.next() % 5)], to = holders[Int(random.next() % 5)]
            let envelope = try chains[0].envelope("points", "transfer", #"{"to":"\#(address(to))","amount":\#(random.next() % 400_000)}"#,
                                                  by: from, gas: 5_000 + random.next() % 100_000)
            XCTAssertEqual(try chains[0].run([envelope]), try chains[1].run([envelope]))
        }
    }
}
