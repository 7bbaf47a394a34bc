// The audit against hand edits: a chain of blocks is committed, the audit finds nothing; then,
// one at a time and rolled back after, a single byte (or number) of one column of a random row
// is changed in every ledger table, and the audit must report a mismatch each time.
import Crypto
import Foundation
import HanseCore
import HanseTesting
import Ledger
import Merkle
import PostgresStorage
import Storage
import XCTest

final class AuditTests: XCTestCase {
    private static let chainID = "0d8f4a52-7c1e-4b9a-9f3e-2a6b5c4d3e21"

    func testEveryHandEditIsCaught() throws {
        let (name, pool) = try TestCluster.shared.makeMigratedDatabase("audit", platform: false, chainSchemas: ["chain_audit1"])
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        try pool.withConnection { _ = try $0.execute("INSERT INTO chain_audit1.chain_info (chain_id) VALUES ('\(Self.chainID)')", name: "test.info") }
        let validators = try (0..<4).map { _ in try PrivateKey.generate(.p256) }
        let set = ValidatorSet(keys: validators.map(\.publicKey))
        let store = try PostgresChainStore(schema: "chain_audit1")
        let clients = try SignatureAlgorithm.allCases.map { try PrivateKey.generate($0) }
        var ledger = CompactRange()
        var previous = [UInt8](repeating: 0, count: 32)
        var random = SeededRandom(seed: 77)
        for height in 0..<6 as Range<UInt64> {
            var transactions: [ExecutedTransaction] = []
            for index in 0..<Int.random(in: 1...5, using: &random) {
                var envelope = TransactionEnvelope(chainID: Self.chainID, contract: "token", method: "mint", args: Array("{\"i\":\(index)}".utf8),
                                                   nonce: SecureRandom().bytes(16), validUntil: .height(99), algorithm: .p256, signer: [])
                try envelope.sign(with: clients[index % clients.count])
                let failed = index == 3
                let key = Array("acct-\(Int.random(in: 0..<4, using: &random))".utf8)
                transactions.append(ExecutedTransaction(
                    envelope: envelope,
                    receipt: failed ? Receipt(status: .failed, gasUsed: 3, error: "revert: limit") : Receipt(status: .committed, gasUsed: 10, result: [1]),
                    writes: failed ? [] : [StateWrite(contract: "token", key: key, value: Array("v\(height)-\(index)".utf8))]
                        + (index == 2 ? [StateWrite(contract: "token", key: Array("acct-3".utf8), value: nil)] : []),
                    events: failed ? [] : [ContractEvent(contract: "token", topic: "minted", data: Array("h\(height)".utf8))]))
            }
            transactions.forEach { ledger.append(RFC6962.leafHash($0.envelope.id)) }
            let header = BlockHeader(chainID: Self.chainID, height: height, previousHash: previous, txRoot: BlockRoots.txRoot(transactions),
                                     writeSetRoot: BlockRoots.writeSetRoot(transactions), ledgerRoot: ledger.root, ledgerSize: ledger.size,
                                     timestamp: 1_795_219_200_000 + height * 1000, proposer: UInt32(height % 4), validatorSetHash: set.hash)
            let vote = CommitCertificate.voteBytes(chainID: Self.chainID, height: height, round: 1, blockHash: header.hash)
            let signatures = try validators.enumerated().dropFirst().map { CommitCertificate.Signature(validator: UInt32($0.offset), signature: try $0.element.sign(vote)) }
            try store.commit(CommittedBlock(header: header, certificate: CommitCertificate(chainID: Self.chainID, height: height, round: 1,
                                                                                          blockHash: header.hash, signatures: signatures),
                                            transactions: transactions), pool: pool)
            previous = header.hash
        }

        let auditor = try ChainAuditor(schema: "chain_audit1")
        try pool.withConnection { connection in
            var progress: [UInt64] = []
            XCTAssertNil(try auditor.audit(validators: set, on: connection) { progress.append($0) })
            XCTAssertEqual(progress.last, 6)
            let otherSet = ValidatorSet(keys: try (0..<4).map { _ in try PrivateKey.generate(.p256).publicKey })
            XCTAssertEqual(try auditor.audit(validators: otherSet, on: connection)?.field, "certificate")

            let flipByte = { (column: String) in "set_byte(\(column), length(\(column)) / 2, get_byte(\(column), length(\(column)) / 2) # 1)" }
            let flipChar = { (column: String) in "overlay(\(column) placing chr(ascii(substr(\(column), 1, 1)) # 1) from 1 for 1)" }
            let edits: [(table: String, set: String, where: String)] = [
                ("blocks", "hash = \(flipByte("hash"))", "true"),
                ("blocks", "previous_hash = \(flipByte("previous_hash"))", "true"),
                ("blocks", "tx_root = \(flipByte("tx_root"))", "true"),
                ("blocks", "write_set_root = \(flipByte("write_set_root"))", "true"),
                ("blocks", "ledger_root = \(flipByte("ledger_root"))", "true"),
                ("blocks", "validator_set_hash = \(flipByte("validator_set_hash"))", "true"),
                ("blocks", "ledger_size = ledger_size + 1", "true"),
                ("blocks", "timestamp_ms = timestamp_ms # 1", "true"),
                ("blocks", "proposer = proposer # 1", "true"),
                ("blocks", "certificate = jsonb_set(certificate, '{round}', to_jsonb((certificate->>'round')::int # 1))", "true"),
                ("transactions", "tx_id = \(flipByte("tx_id"))", "true"),
                ("transactions", "signed_bytes = \(flipByte("signed_bytes"))", "true"),
                ("transactions", "signature = \(flipByte("signature"))", "true"),
                ("transactions", "contract = \(flipChar("contract"))", "true"),
                ("transactions", "method = \(flipChar("method"))", "true"),
                ("transactions", "status = CASE status WHEN 'committed' THEN 'failed' ELSE 'committed' END", "true"),
                ("transactions", "gas_used = gas_used # 1", "true"),
                ("transactions", "result = \(flipByte("result"))", "length(result) > 0"),
                ("transactions", "error = \(flipChar("error"))", "length(error) > 0"),
                ("transactions", "index_in_block = index_in_block + 100", "true"),
                ("transactions", "height = height + 1, index_in_block = index_in_block + 50", "height < 5"),
                // No foreign keys since migration 0008: rows that point nowhere are the auditor's to find.
                ("transactions", "height = height + 1000", "true"),
                ("state", "value = \(flipByte("value"))", "true"),
                ("state", "key = \(flipByte("key"))", "true"),
                ("state", "contract = \(flipChar("contract"))", "true"),
                ("state", "version = version + 1", "true"),
                ("state", "updated_height = updated_height # 1", "true"),
                ("state_history", "value = \(flipByte("value"))", "value IS NOT NULL"),
                ("state_history", "key = \(flipByte("key"))", "true"),
                ("state_history", "contract = \(flipChar("contract"))", "true"),
                ("state_history", "version = version + 100", "true"),
                ("state_history", "write_index = write_index + 100", "true"),
                ("state_history", "height = height # 1", "true"),
                ("state_history", "tx_seq = tx_seq + 1000000", "true"),
                ("state_history", "write_index = write_index + 50, tx_seq = (SELECT min(seq) FROM chain_audit1.transactions t WHERE t.seq <> tx_seq AND t.index_in_block = (SELECT index_in_block FROM chain_audit1.transactions u WHERE u.seq = tx_seq))", "true"),
                ("events", "data = \(flipByte("data"))", "true"),
                ("events", "topic = \(flipChar("topic"))", "true"),
                ("events", "contract = \(flipChar("contract"))", "true"),
                ("events", "seq = seq + 1000", "true"),
                ("events", "height = height # 1, event_index = event_index + 50", "kind = 'contract'"),
                ("events", "tx_index = tx_index + 1, event_index = event_index + 60", "kind = 'contract'"),
                ("events", "event_index = event_index + 100", "kind = 'contract'"),
                ("events", "data = \(flipByte("data"))", "kind = 'block'"),
                ("events", "height = height + 100", "kind = 'block'"),
                ("merkle_nodes", "hash = \(flipByte("hash"))", "level = 0"),
                ("merkle_nodes", "hash = \(flipByte("hash"))", "level > 0"),
                ("merkle_nodes", "idx = idx + 100000", "true"),
            ]
            for edit in edits {
                for _ in 0..<3 {  // three random rows per edit
                    try connection.execute("BEGIN", name: "test.begin")
                    defer { _ = try? connection.execute("ROLLBACK", name: "test.rollback") }
                    let changed = try connection.query(sql: """
                        UPDATE chain_audit1.\(edit.table) SET \(edit.set)
                        WHERE ctid = (SELECT ctid FROM chain_audit1.\(edit.table) WHERE \(edit.where) ORDER BY random() LIMIT 1)
                        """, name: "test.edit").affectedRows
                    XCTAssertEqual(changed, 1, "\(edit.table): \(edit.set)")
                    let finding = try auditor.audit(validators: set, on: connection)
                    XCTAssertNotNil(finding, "not caught: \(edit.table) SET \(edit.set)")
                }
            }
            XCTAssertNil(try auditor.audit(validators: set, on: connection), "every edit was rolled back")
        }

        // A chain stored before block events existed: migration 0007 adds them, byte for byte as
        // a commit writes them, and renumbers every event; the audit finds the result intact.
        let migrations = try MigrationCatalog.load(directory: Repository.path("Migrations/chain"))
        let migrator = PostgresMigrator(pool: pool)
        _ = try migrator.migrate(schema: "chain_audit0", migrations: migrations.filter { $0.version < 7 })
        try pool.withConnection { connection in
            for table in ["chain_info", "blocks", "transactions", "state", "state_history", "merkle_nodes"] {
                _ = try connection.execute("INSERT INTO chain_audit0.\(table) SELECT * FROM chain_audit1.\(table)", name: "test.copy.\(table)")
            }
            _ = try connection.execute("""
                INSERT INTO chain_audit0.events (seq, height, tx_index, event_index, contract, topic, data)
                SELECT row_number() OVER (ORDER BY height, tx_index, event_index) - 1, height, tx_index, event_index, contract, topic, data
                FROM chain_audit1.events WHERE kind = 'contract'
                """, name: "test.copy.events")
        }
        _ = try migrator.migrate(schema: "chain_audit0", migrations: migrations)
        try pool.withConnection { connection in
            XCTAssertNil(try ChainAuditor(schema: "chain_audit0").audit(validators: set, on: connection))
            let difference = try connection.query(sql: """
                SELECT count(*) FROM ((SELECT * FROM chain_audit0.events EXCEPT SELECT * FROM chain_audit1.events)
                                      UNION ALL (SELECT * FROM chain_audit1.events EXCEPT SELECT * FROM chain_audit0.events)) d
                """, name: "test.events.diff").first!.decode(Int.self, column: 0)
            XCTAssertEqual(difference, 0, "the migrated events equal the committed ones, seq, data and kind included")
            XCTAssertGreaterThan(try connection.query(sql: "SELECT count(*) FROM chain_audit0.events WHERE kind = 'block'", name: "test.blockevents")
                .first!.decode(Int.self, column: 0), 5)
        }
    }
}
