// The chain runtime end to end on a real PostgreSQL: a solo chain and a 4-validator BFT chain
// (validators in process) take signed transactions through the mempool, consensus, execution and
// the block commit; every block carries a certificate a stranger verifies with the validator set;
// a stopped worker resumes from storage and the write-ahead log without losing or repeating a height.
import Consensus
import Contracts
import Crypto
import Dispatch
import Foundation
import HanseCore
import HanseTesting
import Ledger
import Node
import PostgresStorage
import WAT
import XCTest

final class ChainWorkerTests: XCTestCase {
    private static let counter = """
    (module
      (import "hanse" "state_get" (func $get (param i32 i32 i32 i32) (result i32)))
      (import "hanse" "state_set" (func $set (param i32 i32 i32 i32)))
      (import "hanse" "return_value" (func $ret (param i32 i32)))
      (memory (export "memory") 1 1)
      (data (i32.const 0) "n")
      (func (export "add")
        (if (i32.ne (call $get (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 8)) (i32.const 8))
          (then (i64.store (i32.const 100) (i64.const 0))))
        (i64.store (i32.const 100) (i64.add (i64.load (i32.const 100)) (i64.const 1)))
        (call $set (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 8))
        (call $ret (i32.const 100) (i32.const 8))))
    """

    private struct Chain {
        let id: String
        let schema: String
        let pool: PostgresPool
        let database: String
        let admin: PrivateKey
        let validators: [PrivateKey]
        let setup: ChainSetup
        let executor: ContractExecutor
    }

    private func makeChain(_ label: String, kind: ConsensusKind, validators count: Int) throws -> Chain {
        let schema = "chain_\(label)"
        let (database, pool) = try TestCluster.shared.makeMigratedDatabase(label, platform: false, chainSchemas: [schema])
        let id = UUID().uuidString.lowercased()
        try pool.withConnection { _ = try $0.execute("INSERT INTO \(schema).chain_info (chain_id) VALUES ('\(id)')", name: "test.info") }
        let admin = try PrivateKey.generate(.p256)
        let validators = try (0..<count).map { _ in try PrivateKey.generate(.p256) }
        let rules = ChainRules(admins: [TransactionEnvelope.address(algorithm: .p256, publicKey: admin.publicKey.raw)], access: .open)
        let setup = ChainSetup(chainID: id, schema: schema, kind: kind, validatorSet: ValidatorSet(keys: validators.map(\.publicKey)),
                               hostedKeys: Dictionary(uniqueKeysWithValues: validators.enumerated().map { ($0.offset, $0.element) }), rules: rules)
        return Chain(id: id, schema: schema, pool: pool, database: database, admin: admin, validators: validators, setup: setup,
                     executor: ContractExecutor(runtime: ContractRuntime(), rules: rules))
    }

    private func envelope(_ chain: Chain, _ contract: String, _ method: String, _ args: String, signer: PrivateKey) throws -> TransactionEnvelope {
        var envelope = TransactionEnvelope(chainID: chain.id, contract: contract, method: method, args: Array(args.utf8),
                                           nonce: SecureRandom().bytes(16), validUntil: .height(1_000_000), gasLimit: 1_000_000_000,
                                           algorithm: signer.algorithm, signer: [])
        try envelope.sign(with: signer)
        return envelope
    }

    /// Submits the envelopes and waits until each is committed.
    private func commit(_ envelopes: [TransactionEnvelope], on worker: ChainWorker, timeout: Duration = .seconds(60)) throws -> [ExecutedTransaction] {
        let group = DispatchGroup()
        let results = Results()
        for envelope in envelopes {
            group.enter()
            _ = worker.onCommit(of: envelope.id) { results.add($0.transaction); group.leave() }
        }
        for envelope in envelopes { XCTAssertEqual(worker.submit(envelope), .accepted) }
        guard group.wait(timeout: .now() + .milliseconds(Int(timeout.wholeMilliseconds))) == .success else {
            struct Timeout: Error, CustomStringConvertible { let description: String }
            throw Timeout(description: "timed out waiting for commits: \(worker.status)")
        }
        return results.all
    }

    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [ExecutedTransaction] = []
        func add(_ item: ExecutedTransaction) { lock.lock(); items.append(item); lock.unlock() }
        var all: [ExecutedTransaction] { lock.lock(); defer { lock.unlock() }; return items }
    }

    private func checkBlocks(_ chain: Chain, through height: UInt64) throws {
        let store = try PostgresChainStore(schema: chain.schema)
        try chain.pool.withConnection { connection in
            XCTAssertEqual(try store.head(on: connection)?.height, height)
            for h in 0...height {
                let block = try XCTUnwrap(try store.block(height: h, on: connection))
                // A stranger's check: a quorum of valid signatures over the block hash by the validator set.
                XCTAssertNoThrow(try block.certificate.verify(header: block.header, validators: chain.setup.validatorSet), "block \(h)")
                XCTAssertGreaterThanOrEqual(block.certificate.signatures.count, chain.setup.validatorSet.quorum)
            }
            XCTAssertNil(try ChainAuditor(schema: chain.schema).audit(validators: chain.setup.validatorSet, on: connection))
        }
    }

    private func run(kind: ConsensusKind, validators: Int, label: String) throws {
        let chain = try makeChain(label, kind: kind, validators: validators)
        defer { chain.pool.close(); try? TestCluster.shared.dropDatabase(chain.database) }
        var worker = try ChainWorker(setup: chain.setup, executor: chain.executor, pool: chain.pool)
        try worker.start()
        let code = try wat2wasm(Self.counter)
        let deploy = try commit([try envelope(chain, "_system", "deploy", #"{"name":"counter","version":"1","code":"\#(Data(code).base64EncodedString())"}"#, signer: chain.admin)], on: worker)
        XCTAssertEqual(deploy.first?.receipt.status, .committed, deploy.first?.receipt.error ?? "")
        let clients = try (0..<5).map { _ in try PrivateKey.generate(.ed25519) }
        let first = try commit(try (0..<40).map { try envelope(chain, "counter", "add", "{}", signer: clients[$0 % 5]) }, on: worker)
        XCTAssertEqual(first.count, 40)
        XCTAssertTrue(first.allSatisfy { $0.receipt.status == .committed })
        XCTAssertEqual(Set(first.map { $0.receipt.result.first ?? 0 }).count, 40, "each increment saw the one before it")
        let height = try XCTUnwrap(worker.status.height)
        try checkBlocks(chain, through: height)
        XCTAssertFalse(worker.status.ticking, "an idle chain runs no timer")

        // Stop and resume from storage: heights continue, nothing is committed twice.
        worker.stop()
        worker = try ChainWorker(setup: chain.setup, executor: chain.executor, pool: chain.pool)
        try worker.start()
        XCTAssertEqual(worker.status.height, height)
        // Envelopes committed before the restart, handed to the fresh mempool again (the platform
        // would refuse them earlier): the block builder finds them in the ledger and drops them.
        for envelope in first.prefix(10).map(\.envelope) {
            XCTAssertTrue(worker.mayHaveCommitted(envelope.id), "the filter read the ledger at start")
            XCTAssertEqual(worker.submit(envelope), .accepted)
        }
        let again = try commit(try (0..<10).map { try envelope(chain, "counter", "add", "{}", signer: clients[$0 % 5]) }, on: worker)
        XCTAssertEqual(again.map { $0.receipt.result.first ?? 0 }.max(), 50, "the resubmitted envelopes did not run again")
        XCTAssertTrue(again.allSatisfy { worker.mayHaveCommitted($0.envelope.id) }, "committed ids enter the filter")
        try checkBlocks(chain, through: try XCTUnwrap(worker.status.height))
        // A resubmitted envelope that is already committed is not committed again.
        let count = try chain.pool.withConnection { try $0.query(sql: "SELECT count(*) FROM \(chain.schema).transactions", name: "t.count").first!.decode(Int.self, column: 0) }
        XCTAssertEqual(count, 51)
        worker.stop()
    }

    func testASoloChainCommitsAndResumes() throws {
        try run(kind: .solo, validators: 1, label: "solo1")
    }

    func testAFourValidatorBFTChainCommitsCertifiedBlocksAndResumes() throws {
        try run(kind: .bft, validators: 4, label: "bft4")
    }
}
