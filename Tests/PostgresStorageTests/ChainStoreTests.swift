// Block commit into a chain schema of a real PostgreSQL: blocks of signed transactions with
// receipts, writes and events are stored whole, state and history follow the writes, a block
// that fails any check leaves every table as it was, and a hand-edited block is refused on load.
import Crypto
import Foundation
import HanseCore
import HanseTesting
import Ledger
import Merkle
import PostgresStorage
import XCTest

final class ChainStoreTests: XCTestCase {
    /// Chains are named by the UUID of their platform row.
    static let chainID = "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"

    private struct Chain {
        let validators: [PrivateKey]
        let set: ValidatorSet
        var tree = ReferenceMerkleTree()
        var head: [UInt8] = Array(repeating: 0, count: 32)
        var height: UInt64 = 0

        init() throws {
            validators = try (0..<4).map { _ in try PrivateKey.generate(.ed25519) }
            set = ValidatorSet(keys: validators.map(\.publicKey))
        }

        /// The next block over `transactions`, certified by three of the four validators.
        mutating func block(_ transactions: [ExecutedTransaction], tamper: ((inout BlockHeader) -> Void)? = nil) throws -> CommittedBlock {
            var next = tree
            transactions.forEach { next.append(leafHash: RFC6962.leafHash($0.envelope.id)) }
            var header = BlockHeader(chainID: ChainStoreTests.chainID, height: height, previousHash: head, txRoot: BlockRoots.txRoot(transactions),
                                     writeSetRoot: BlockRoots.writeSetRoot(transactions), ledgerRoot: next.root(), ledgerSize: next.size,
                                     timestamp: 1_795_219_200_000 + height, proposer: UInt32(height % 4), validatorSetHash: set.hash)
            tamper?(&header)
            let vote = CommitCertificate.voteBytes(chainID: ChainStoreTests.chainID, height: height, round: 0, blockHash: header.hash)
            let signatures = try validators.prefix(3).enumerated().map { CommitCertificate.Signature(validator: UInt32($0.offset), signature: try $0.element.sign(vote)) }
            return CommittedBlock(header: header, certificate: CommitCertificate(chainID: ChainStoreTests.chainID, height: height, round: 0, blockHash: header.hash, signatures: signatures), transactions: transactions)
        }

        mutating func accepted(_ block: CommittedBlock) {
            block.transactions.forEach { tree.append(leafHash: RFC6962.leafHash($0.envelope.id)) }
            head = block.header.hash
            height += 1
        }
    }

    private func transaction(_ key: PrivateKey, _ number: Int, writes: [StateWrite], events: [ContractEvent] = [], failed: Bool = false) throws -> ExecutedTransaction {
        var envelope = TransactionEnvelope(chainID: ChainStoreTests.chainID, contract: "ledger", method: "put", args: Array("{\"n\":\(number)}".utf8),
                                           nonce: SecureRandom().bytes(16), validUntil: .height(100), algorithm: .ed25519, signer: [])
        try envelope.sign(with: key)
        let receipt = failed ? Receipt(status: .failed, gasUsed: 7, error: "revert: insufficient balance") : Receipt(status: .committed, gasUsed: 42, result: Array("ok".utf8))
        return ExecutedTransaction(envelope: envelope, receipt: receipt, writes: failed ? [] : writes, events: failed ? [] : events)
    }

    /// A database with one migrated chain schema for this test's chain, and its store.
    private func makeChainSchema(database: String, schema: String) throws -> (name: String, pool: PostgresPool, store: PostgresChainStore) {
        let (name, pool) = try TestCluster.shared.makeMigratedDatabase(database, platform: false, chainSchemas: [schema])
        try pool.withConnection { _ = try $0.execute("INSERT INTO \(schema).chain_info (chain_id) VALUES ('\(Self.chainID)')", name: "test.info") }
        return (name, pool, try PostgresChainStore(schema: schema))
    }

    private func counts(_ pool: PostgresPool) throws -> [Int] {
        try pool.withConnection { connection in
            try ["blocks", "transactions", "state", "state_history", "events", "merkle_nodes"].map { table in
                try connection.query(sql: "SELECT count(*) FROM chain_store1.\(table)", name: "test.count.\(table)").first!.decode(Int.self, column: 0)
            }
        }
    }

    func testBlocksCommitWholeOrNotAtAll() throws {
        let (name, pool, store) = try makeChainSchema(database: "chainstore", schema: "chain_store1")
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        var chain = try Chain()
        let client = try PrivateKey.generate(.ed25519)
        let key = Array("alice".utf8)

        let first = try chain.block([
            try transaction(client, 1, writes: [StateWrite(contract: "ledger", key: key, value: Array("10".utf8))],
                            events: [ContractEvent(contract: "ledger", topic: "put", data: Array("alice=10".utf8))]),
            try transaction(client, 2, writes: [], failed: true),
        ])
        try store.commit(first, pool: pool)
        chain.accepted(first)
        let second = try chain.block([
            try transaction(client, 3, writes: [StateWrite(contract: "ledger", key: key, value: Array("25".utf8)),
                                                StateWrite(contract: "ledger", key: Array("bob".utf8), value: Array("5".utf8))]),
            try transaction(client, 4, writes: [StateWrite(contract: "ledger", key: Array("bob".utf8), value: nil)]),
        ])
        try store.commit(second, pool: pool)
        chain.accepted(second)
        XCTAssertEqual(try counts(pool), [2, 4, 1, 4, 3, try counts(pool)[5]], "events: one contract event and each block's block event")

        try pool.withConnection { connection in
            let state = try connection.query(sql: "SELECT value, version FROM chain_store1.state WHERE key = $1", name: "test.state", [.bytea(key)]).first!
            XCTAssertEqual(try state.decode([UInt8].self, column: 0), Array("25".utf8))
            XCTAssertEqual(try state.decode(Int.self, column: 1), 2)
            let bob = try connection.query(sql: "SELECT string_agg(version::text || ':' || coalesce(encode(value, 'escape'), '-'), ',' ORDER BY version) FROM chain_store1.state_history WHERE key = $1",
                                           name: "test.history", [.bytea(Array("bob".utf8))])
            XCTAssertEqual(try bob.first?.decode(String.self, column: 0), "1:5,2:-", "history keeps the delete")
            let failed = try connection.query(sql: "SELECT status, error FROM chain_store1.transactions WHERE seq = 1", name: "test.failed").first!
            XCTAssertEqual(try failed.decode(String.self, column: 0), "failed")
            let loaded = try XCTUnwrap(try store.block(height: 1, on: connection))
            XCTAssertEqual(loaded.header.hash, second.header.hash)
            XCTAssertNoThrow(try loaded.certificate.verify(header: loaded.header, validators: chain.set))
        }

        // Every way a block can be wrong leaves all tables untouched.
        let before = try counts(pool)
        let good = [try transaction(client, 5, writes: [StateWrite(contract: "ledger", key: key, value: Array("1".utf8))])]
        for (label, bad) in [
            ("wrong ledger root", try chain.block(good) { $0.ledgerRoot = RFC6962.emptyRoot }),
            ("wrong height", try chain.block(good) { $0.height += 1 }),
            ("wrong previous hash", try chain.block(good) { $0.previousHash = RFC6962.emptyRoot }),
            ("wrong write-set root", try chain.block(good) { $0.writeSetRoot = RFC6962.emptyRoot }),
        ] {
            XCTAssertThrowsError(try store.commit(bad, pool: pool), label)
            XCTAssertEqual(try counts(pool), before, "\(label) left rows behind")
        }
        var replay = try chain.block(good)
        replay.transactions = second.transactions  // a transaction already in the ledger
        replay.header.txRoot = BlockRoots.txRoot(replay.transactions)
        XCTAssertThrowsError(try store.commit(replay, pool: pool))
        XCTAssertEqual(try counts(pool), before)
        let next = try chain.block(good)
        try store.commit(next, pool: pool)

        // A hand edit of a committed block is caught when the block is loaded.
        try pool.withConnection { connection in
            try connection.execute("UPDATE chain_store1.blocks SET timestamp_ms = timestamp_ms + 1 WHERE height = 1", name: "test.tamper")
            XCTAssertThrowsError(try store.block(height: 1, on: connection)) { XCTAssertTrue("\($0)".contains("do not hash"), "\($0)") }
        }
    }

    /// A key's versions count every write, deletes included, across blocks and within one:
    /// deleted, written again, deleted twice, written by two transactions of one block. The
    /// auditor agrees with what was stored.
    func testVersionsCountOnAcrossDeletes() throws {
        let (name, pool, store) = try makeChainSchema(database: "chainversions", schema: "chain_store2")
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        var chain = try Chain()
        let client = try PrivateKey.generate(.ed25519)
        let carol = Array("carol".utf8), dave = Array("dave".utf8)
        func put(_ key: [UInt8], _ value: String) -> StateWrite { StateWrite(contract: "ledger", key: key, value: Array(value.utf8)) }
        func delete(_ key: [UInt8]) -> StateWrite { StateWrite(contract: "ledger", key: key, value: nil) }
        let blocks: [[[StateWrite]]] = [
            [[put(carol, "1")], [put(dave, "1")]],                       // carol 1, dave 1
            [[delete(carol)], [delete(dave), put(dave, "2")]],          // carol 2 (gone), dave 2, 3
            [[delete(carol)]],                                          // carol 3 (a delete of nothing is still a write)
            [[put(carol, "4")], [put(carol, "5"), delete(dave)]],       // carol 4, 5; dave 4 (gone)
            [[put(dave, "5")]],                                         // dave 5
        ]
        var number = 0
        for writes in blocks {
            let block = try chain.block(try writes.map { writes in
                number += 1
                return try transaction(client, number, writes: writes)
            })
            try store.commit(block, pool: pool)
            chain.accepted(block)
        }
        try pool.withConnection { connection in
            let state = try connection.query(sql: "SELECT encode(key, 'escape'), encode(value, 'escape'), version FROM chain_store2.state ORDER BY key",
                                             name: "test.state").rows.map { "\(try $0.decode(String.self, column: 0))=\(try $0.decode(String.self, column: 1))@\(try $0.decode(Int.self, column: 2))" }
            XCTAssertEqual(state, ["carol=5@5", "dave=5@5"])
            let history = try connection.query(sql: """
                SELECT encode(key, 'escape'), string_agg(version::text || ':' || coalesce(encode(value, 'escape'), '-'), ',' ORDER BY version)
                FROM chain_store2.state_history GROUP BY key ORDER BY key
                """, name: "test.history").rows.map { "\(try $0.decode(String.self, column: 0)) \(try $0.decode(String.self, column: 1))" }
            XCTAssertEqual(history, ["carol 1:1,2:-,3:-,4:4,5:5", "dave 1:1,2:-,3:2,4:-,5:5"])
            XCTAssertNil(try ChainAuditor(schema: "chain_store2").audit(validators: chain.set, on: connection))
        }
    }
}
