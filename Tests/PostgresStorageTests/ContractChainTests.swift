// Contracts end to end on real storage: blocks executed by the contract executor against the
// world state in PostgreSQL, committed, audited, and read back by the next block.
import Contracts
import Crypto
import Foundation
import HanseCore
import HanseTesting
import Ledger
import PostgresStorage
import WAT
import XCTest

final class ContractChainTests: XCTestCase {
    private static let chainID = "5b2f0c1e-3d4a-4f6b-9c8d-7e6f5a4b3c2d"

    /// A counter: `add` adds 1 under "n" and writes "log/<n>"; `list` scans "log/".
    private static let counter = """
    (module
      (import "hanse" "state_get" (func $get (param i32 i32 i32 i32) (result i32)))
      (import "hanse" "state_set" (func $set (param i32 i32 i32 i32)))
      (import "hanse" "state_scan" (func $scan (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (import "hanse" "return_value" (func $ret (param i32 i32)))
      (memory (export "memory") 1 1)
      (data (i32.const 0) "n")
      (data (i32.const 8) "log/")
      (func (export "add")
        (if (i32.ne (call $get (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 1)) (i32.const 1))
          (then (i32.store8 (i32.const 100) (i32.const 0))))
        (i32.store8 (i32.const 100) (i32.add (i32.load8_u (i32.const 100)) (i32.const 1)))
        (call $set (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 1))
        (i32.store8 (i32.const 12) (i32.load8_u (i32.const 100)))
        (call $set (i32.const 8) (i32.const 5) (i32.const 100) (i32.const 1))
        (call $ret (i32.const 100) (i32.const 1)))
      (func (export "list")
        (call $ret (i32.const 1000) (call $scan (i32.const 8) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 1000) (i32.const 8000)))))
    """

    /// A database with one migrated chain schema registered for `chainID`.
    private func chainDatabase(_ label: String, schema: String) throws -> (name: String, pool: PostgresPool) {
        let (name, pool) = try TestCluster.shared.makeMigratedDatabase(label, platform: false, chainSchemas: [schema])
        try pool.withConnection { _ = try $0.execute("INSERT INTO \(schema).chain_info (chain_id) VALUES ('\(Self.chainID)')", name: "test.info") }
        return (name, pool)
    }

    /// A signed envelope for `chainID`.
    private static func signed(_ contract: String, _ method: String, _ args: String, by signer: PrivateKey) throws -> TransactionEnvelope {
        var envelope = TransactionEnvelope(chainID: chainID, contract: contract, method: method, args: Array(args.utf8),
                                           nonce: SecureRandom().bytes(16), validUntil: .height(1000), gasLimit: 1_000_000_000,
                                           algorithm: signer.algorithm, signer: [])
        try envelope.sign(with: signer)
        return envelope
    }

    func testBlocksExecutedAgainstPostgresStateCommitAndAudit() throws {
        let schema = "chain_contracts1"
        let (name, pool) = try chainDatabase("contracts", schema: schema)
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        var chain = try TestChain(chainID: Self.chainID)
        let admin = try PrivateKey.generate(.p256)
        let executor = ContractExecutor(runtime: ContractRuntime(),
                                        rules: ChainRules(admins: [TransactionEnvelope.address(algorithm: .p256, publicKey: admin.publicKey.raw)], access: .open))
        let store = try PostgresChainStore(schema: schema)
        let state = PostgresWorldState(schema: schema, pool: pool)

        func envelope(_ contract: String, _ method: String, _ args: String) throws -> TransactionEnvelope {
            try Self.signed(contract, method, args, by: admin)
        }
        func commit(_ envelopes: [TransactionEnvelope]) throws -> [ExecutedTransaction] {
            let context = BlockContext(chainID: Self.chainID, height: chain.height, timestampMilliseconds: 1_795_219_200_000 + chain.height * 1000)
            let executed = try executor.execute(envelopes, in: context, state: state)
            try store.commit(try chain.nextBlock(executed), pool: pool)
            return executed
        }

        let code = try wat2wasm(Self.counter)
        let deploy = try commit([try envelope("_system", "deploy", #"{"name":"counter","version":"1","code":"\#(Data(code).base64EncodedString())"}"#)])
        XCTAssertEqual(deploy[0].receipt.status, .committed, deploy[0].receipt.error)
        XCTAssertGreaterThan(deploy[0].envelope.signedBytes.count, code.count, "the deploy carries the code")
        for round in 1...3 {
            let block = try commit([try envelope("counter", "add", "{}"), try envelope("counter", "add", "{}")])
            XCTAssertEqual(block.map(\.receipt.result), [[UInt8(2 * round - 1)], [UInt8(2 * round)]], "reads see committed state and the block's own writes")
        }
        // The scan merges stored keys; the read set is stored and covered by the audit.
        let list = try commit([try envelope("counter", "list", "{}")])[0]
        XCTAssertEqual(list.receipt.result.first, 6, "six log entries")
        XCTAssertEqual(list.reads.count, 7, "the registry entry and six scanned keys")
        try pool.withConnection { connection in
            let stored = try connection.query(sql: "SELECT read_set FROM \(schema).transactions ORDER BY seq DESC LIMIT 1", name: "test.reads").first!
            XCTAssertEqual(BlockRoots.decodeReadSet(try stored.decode([UInt8].self, column: 0)), list.reads)
            let auditor = try ChainAuditor(schema: schema)
            XCTAssertNil(try auditor.audit(validators: chain.validatorSet, on: connection))
            _ = try connection.execute("UPDATE \(schema).transactions SET read_set = '\\x00000000' WHERE seq = (SELECT max(seq) FROM \(schema).transactions)", name: "test.edit")
            XCTAssertEqual(try auditor.audit(validators: chain.validatorSet, on: connection)?.field, "write_set_root", "an edited read set breaks the root")
        }
    }

    /// On a members-only chain only signers with the writer or admin role call contracts: the
    /// chain refuses others with a failed receipt, whether the role comes from the committed
    /// state (read for the whole block in one query) or from an earlier transaction of the block.
    func testMembersOnlyChainRefusesSignersWithoutTheWriterRole() throws {
        let schema = "chain_contracts_access"
        let (name, pool) = try chainDatabase("access", schema: schema)
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        var chain = try TestChain(chainID: Self.chainID)
        let admin = try PrivateKey.generate(.p256)
        let (writer, reader, stranger) = (try PrivateKey.generate(.ed25519), try PrivateKey.generate(.sm2), try PrivateKey.generate(.p256))
        func address(_ key: PrivateKey) -> String { TransactionEnvelope.address(algorithm: key.algorithm, publicKey: key.publicKey.raw) }
        let members = ContractExecutor(runtime: ContractRuntime(), rules: ChainRules(admins: [address(admin)], access: .members))
        let store = try PostgresChainStore(schema: schema)
        let state = PostgresWorldState(schema: schema, pool: pool)

        func envelope(_ contract: String, _ method: String, _ args: String, by signer: PrivateKey) throws -> TransactionEnvelope {
            try Self.signed(contract, method, args, by: signer)
        }
        func add(_ signer: PrivateKey) throws -> TransactionEnvelope { try envelope("counter", "add", "{}", by: signer) }
        func grant(_ key: PrivateKey, _ role: String) throws -> TransactionEnvelope {
            try envelope("_system", "grant_role", #"{"address":"\#(address(key))","role":"\#(role)"}"#, by: admin)
        }
        func commit(_ envelopes: [TransactionEnvelope]) throws -> [ExecutedTransaction] {
            let context = BlockContext(chainID: Self.chainID, height: chain.height, timestampMilliseconds: 1_795_219_200_000 + chain.height * 1000)
            let executed = try members.execute(envelopes, in: context, state: state)
            try store.commit(try chain.nextBlock(executed), pool: pool)
            return executed
        }
        func statuses(_ executed: [ExecutedTransaction]) -> [String] {
            executed.map { $0.receipt.status == .committed ? "ok" : $0.receipt.error }
        }

        let code = try wat2wasm(Self.counter)
        XCTAssertEqual(statuses(try commit([try envelope("_system", "deploy", #"{"name":"counter","version":"1","code":"\#(Data(code).base64EncodedString())"}"#, by: admin)])), ["ok"])

        // A stranger is refused; a writer granted earlier in the same block is not; the genesis admin always may.
        let first = try commit([try add(stranger), try grant(writer, "writer"), try add(writer), try add(admin)])
        XCTAssertEqual(statuses(first), [
            "forbidden: signer \(address(stranger)) is not a member of this chain; calling contracts needs the writer or admin role",
            "ok", "ok", "ok"])
        XCTAssertEqual(first[0].receipt.gasUsed, 0)
        XCTAssertEqual(first[0].reads, [StateKey(contract: "_system", key: Array("role/\(address(stranger))".utf8))], "the refusal depends on the role key")
        XCTAssertTrue(first[0].writes.isEmpty)

        // Roles from the committed state: a reader is refused, a revoked writer too.
        XCTAssertEqual(statuses(try commit([try grant(reader, "reader"), try add(reader), try add(writer)])), [
            "ok", "forbidden: signer \(address(reader)) has role reader on this chain; calling contracts needs writer or admin", "ok"])
        XCTAssertEqual(statuses(try commit([try envelope("_system", "revoke_role", #"{"address":"\#(address(writer))"}"#, by: admin)])), ["ok"])
        let later = try commit([try add(writer), try add(reader), try add(stranger), try add(admin), try grant(stranger, "admin"), try add(stranger)])
        XCTAssertEqual(statuses(later).map { $0.prefix(9) }, ["forbidden", "forbidden", "forbidden", "ok", "ok", "ok"])
        XCTAssertEqual(later.last?.receipt.result, [5], "the counter counted only the admitted calls")
        // A writer may not use _system's admin methods either.
        XCTAssertEqual(statuses(try commit([try grant(writer, "writer")])), ["ok"])
        XCTAssertEqual(statuses(try commit([try envelope("_system", "grant_role", #"{"address":"\#(address(reader))","role":"writer"}"#, by: writer)])).first?.prefix(9), "forbidden")

        // The batched read answers exactly as key-by-key reads do, missing keys included.
        let keys = [admin, writer, reader, stranger, try PrivateKey.generate(.ed25519)].map { StateKey(contract: "_system", key: Array("role/\(address($0))".utf8)) }
            + [StateKey(contract: "counter", key: Array("n".utf8)), StateKey(contract: "counter", key: [0xff, 0x00])]
        let batched = try state.values(of: keys)
        for key in keys { XCTAssertEqual(batched[key], try state.value(of: key), "\(key)") }
        XCTAssertEqual(batched.count, 4, "writer, reader, stranger (admin now) and n; the genesis admin is in the rules here, not in state")

        // The same transactions on an open chain: anyone with a valid signature may call.
        let open = ContractExecutor(runtime: ContractRuntime(), rules: ChainRules(admins: [address(admin)], access: .open))
        let newcomer = try PrivateKey.generate(.ed25519)
        let context = BlockContext(chainID: Self.chainID, height: chain.height, timestampMilliseconds: 1_795_219_200_000 + chain.height * 1000)
        XCTAssertEqual(try open.execute([try add(newcomer), try add(reader)], in: context, state: state).map(\.receipt.status), [.committed, .committed])
    }
}
