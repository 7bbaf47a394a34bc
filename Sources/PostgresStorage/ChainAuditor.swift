public import Ledger
internal import Merkle
internal import Crypto
internal import Foundation

/// The first place where a chain's rows disagree with the hashes that commit to them.
public struct AuditFinding: Sendable, Equatable, CustomStringConvertible {
    public let schema: String
    /// The block height concerned, when the finding is tied to one.
    public let height: UInt64?
    public let table: String
    public let field: String
    public let detail: String

    public var description: String {
        "\(schema)\(height.map { " height \($0)" } ?? ""): \(table).\(field): \(detail)"
    }
}

/// Recomputes every hash and root of a chain from its PostgreSQL rows — block hashes and links,
/// commit certificates, transaction ids and signatures, tx roots, write-set roots (receipts,
/// writes, events), ledger roots, the stored ledger tree, and current state against its history —
/// and reports the first mismatch. Rows are streamed a batch of blocks at a time.
public struct ChainAuditor: Sendable {
    public let schema: String
    /// Blocks read per query.
    public var batchBlocks = 500

    public init(schema: String) throws {
        guard PostgresMigrator.isValidSchemaName(schema) else { throw PostgresError(.query, "bad schema name \(schema)") }
        self.schema = schema
    }

    /// Audits the chain; nil when everything matches. `progress` receives the number of blocks
    /// checked after each batch.
    public func audit(validators: ValidatorSet, on connection: PostgresConnection,
                      progress: (UInt64) -> Void = { _ in }) throws -> AuditFinding? {
        let s = quoteIdentifier(schema)
        let chainID = try connection.query(sql: "SELECT chain_id::text FROM \(s).chain_info", name: "audit.chain").first?.decode(String.self, column: 0) ?? ""
        let cache = PublicKeyCache(capacity: 10_000)
        var ledger = CompactRange()
        var previousHash = [UInt8](repeating: 0, count: 32)
        var nextHeight: UInt64 = 0
        while true {
            let blocks = try connection.query(sql: """
                SELECT height, hash, previous_hash, tx_root, write_set_root, ledger_root, ledger_size, timestamp_ms, proposer,
                       validator_set_hash, certificate::text FROM \(s).blocks WHERE height >= $1 ORDER BY height LIMIT $2
                """, name: "audit.blocks", [.int(Int64(nextHeight)), .int(batchBlocks)])
            if blocks.count == 0 { break }
            let last = UInt64(try blocks.rows.last!.decode(Int64.self, column: 0))
            let contents = try loadContents(from: nextHeight, through: last, on: connection)
            for row in blocks.rows {
                let height = UInt64(try row.decode(Int64.self, column: 0))
                func finding(_ table: String, _ field: String, _ detail: String) -> AuditFinding {
                    AuditFinding(schema: schema, height: height, table: table, field: field, detail: detail)
                }
                guard height == nextHeight else { return finding("blocks", "height", "height \(height) follows \(Int64(nextHeight) - 1)") }
                let header = BlockHeader(
                    chainID: chainID, height: height, previousHash: try row.decode(column: 2), txRoot: try row.decode(column: 3),
                    writeSetRoot: try row.decode(column: 4), ledgerRoot: try row.decode(column: 5),
                    ledgerSize: UInt64(try row.decode(Int64.self, column: 6)), timestamp: UInt64(try row.decode(Int64.self, column: 7)),
                    proposer: UInt32(try row.decode(Int.self, column: 8)), validatorSetHash: try row.decode(column: 9))
                guard header.hash == (try row.decode([UInt8].self, column: 1)) else { return finding("blocks", "hash", "the stored fields do not hash to the stored block hash") }
                guard header.previousHash == previousHash else { return finding("blocks", "previous_hash", "does not name the previous block") }
                guard let certificate = try? JSONDecoder().decode(CommitCertificate.self, from: Data(try row.decode(String.self, column: 10).utf8)) else {
                    return finding("blocks", "certificate", "not a commit certificate")
                }
                do {
                    try certificate.verify(header: header, validators: validators)
                } catch {
                    return finding("blocks", "certificate", "\(error)")
                }
                let transactions = contents.transactions[height] ?? []
                for (position, stored) in transactions.enumerated() {
                    guard stored.seq == ledger.size, stored.index == position else {
                        return finding("transactions", "seq", "transaction \(stored.seq) is out of order")
                    }
                    guard SHA256.hash(stored.signedBytes) == stored.txID else { return finding("transactions", "tx_id", "tx \(stored.seq): id is not SHA-256 of its signed bytes") }
                    guard let envelope = try? TransactionEnvelope(signedBytes: stored.signedBytes, signature: stored.signature),
                          (try? envelope.verify(cache: cache)) != nil else {
                        return finding("transactions", "signature", "tx \(stored.seq): signature or signed bytes do not verify")
                    }
                    guard envelope.chainID == chainID, envelope.contract == stored.contract, envelope.method == stored.method else {
                        return finding("transactions", "contract", "tx \(stored.seq): columns disagree with the signed bytes")
                    }
                    ledger.append(RFC6962.leafHash(stored.txID))
                }
                let txRoot = ReferenceMerkleTree(leaves: transactions.map { RFC6962.leafHash($0.txID) }).root()
                guard txRoot == header.txRoot else { return finding("transactions", "tx_id", "tx root of block does not match its transactions") }
                guard contents.writeSetRoot(height: height) == header.writeSetRoot else {
                    return finding("transactions/state_history/events", "write_set_root", "receipts, writes or events differ from what the block committed to")
                }
                let blockEvent = ContractEvent(contract: "_chain", topic: "block",
                                               data: PostgresChainStore.blockEventData(header, transactions: transactions.count))
                guard contents.blockEvents[height] == [blockEvent] else {
                    return finding("events", "kind", "the block event is missing or differs from the block")
                }
                guard ledger.size == header.ledgerSize else { return finding("blocks", "ledger_size", "\(header.ledgerSize) recorded, \(ledger.size) transactions") }
                guard ledger.root == header.ledgerRoot else { return finding("blocks", "ledger_root", "does not match the transactions so far") }
                previousHash = header.hash
                nextHeight = height + 1
            }
            progress(nextHeight)
        }
        if let orphan = try connection.query(sql: "SELECT seq FROM \(s).transactions WHERE seq >= $1 LIMIT 1", name: "audit.orphans",
                                             [.int(Int64(ledger.size))]).first {
            return AuditFinding(schema: schema, height: nil, table: "transactions", field: "seq", detail: "transaction \(try orphan.decode(Int64.self, column: 0)) belongs to no block")
        }
        return try auditTree(size: ledger.size, on: connection) ?? auditState(on: connection)
    }

    // MARK: - Rows of a range of blocks

    private struct StoredTransaction {
        var seq: UInt64, index: Int, txID: [UInt8], contract: String, method: String, signedBytes: [UInt8], signature: [UInt8]
        var receipt: Receipt
        var readSet: [UInt8]
    }

    private struct Contents {
        var transactions: [UInt64: [StoredTransaction]] = [:]
        var writes: [UInt64: [(txIndex: Int, writeIndex: Int, write: StateWrite)]] = [:]
        var events: [UInt64: [(txIndex: Int, eventIndex: Int, event: ContractEvent)]] = [:]
        var blockEvents: [UInt64: [ContractEvent]] = [:]

        func writeSetRoot(height: UInt64) -> [UInt8] {
            var leaves: [MerkleHash] = []
            let writes = writes[height] ?? [], events = events[height] ?? []
            for (index, transaction) in (transactions[height] ?? []).enumerated() {
                leaves.append(RFC6962.leafHash(BlockRoots.receiptLeaf(txIndex: UInt32(index), transaction.receipt)))
                leaves.append(RFC6962.leafHash(BlockRoots.readSetLeaf(txIndex: UInt32(index), encodedReads: transaction.readSet)))
                for entry in writes where entry.txIndex == index {
                    leaves.append(RFC6962.leafHash(BlockRoots.writeLeaf(txIndex: UInt32(index), writeIndex: UInt32(entry.writeIndex), entry.write)))
                }
                for entry in events where entry.txIndex == index {
                    leaves.append(RFC6962.leafHash(BlockRoots.eventLeaf(txIndex: UInt32(index), eventIndex: UInt32(entry.eventIndex), entry.event)))
                }
            }
            return ReferenceMerkleTree(leaves: leaves).root()
        }
    }

    private func loadContents(from first: UInt64, through last: UInt64, on connection: PostgresConnection) throws -> Contents {
        let s = quoteIdentifier(schema)
        var contents = Contents()
        let range: [PostgresValue] = [.int(Int64(first)), .int(Int64(last))]
        for row in try connection.query(sql: """
            SELECT seq, height, index_in_block, tx_id, contract, method, signed_bytes, signature, status, gas_used, result, error, read_set
            FROM \(s).transactions WHERE height BETWEEN $1 AND $2 ORDER BY seq
            """, name: "audit.transactions", range).rows {
            let status = Receipt.Status(rawValue: try row.decode(String.self, column: 8)) ?? .failed
            let stored = StoredTransaction(
                seq: UInt64(try row.decode(Int64.self, column: 0)), index: try row.decode(Int.self, column: 2), txID: try row.decode(column: 3),
                contract: try row.decode(column: 4), method: try row.decode(column: 5), signedBytes: try row.decode(column: 6),
                signature: try row.decode(column: 7),
                receipt: Receipt(status: status, gasUsed: UInt64(try row.decode(Int64.self, column: 9)),
                                 result: try row.decode([UInt8]?.self, column: 10) ?? [], error: try row.decode(String?.self, column: 11) ?? ""),
                readSet: try row.decode(column: 12))
            contents.transactions[UInt64(try row.decode(Int64.self, column: 1)), default: []].append(stored)
        }
        for row in try connection.query(sql: """
            SELECT h.height, t.index_in_block, h.write_index, h.contract, h.key, h.value
            FROM \(s).state_history h JOIN \(s).transactions t ON t.seq = h.tx_seq
            WHERE h.height BETWEEN $1 AND $2 ORDER BY h.tx_seq, h.write_index
            """, name: "audit.writes", range).rows {
            let write = StateWrite(contract: try row.decode(column: 3), key: try row.decode(column: 4), value: try row.decode([UInt8]?.self, column: 5))
            contents.writes[UInt64(try row.decode(Int64.self, column: 0)), default: []]
                .append((try row.decode(Int.self, column: 1), try row.decode(Int.self, column: 2), write))
        }
        for row in try connection.query(sql: """
            SELECT height, tx_index, event_index, contract, topic, data, kind FROM \(s).events
            WHERE height BETWEEN $1 AND $2 ORDER BY height, tx_index, event_index
            """, name: "audit.events", range).rows {
            let event = ContractEvent(contract: try row.decode(column: 3), topic: try row.decode(column: 4), data: try row.decode(column: 5))
            let height = UInt64(try row.decode(Int64.self, column: 0))
            if try row.decode(String.self, column: 6) == "block" {
                contents.blockEvents[height, default: []].append(event)
            } else {
                contents.events[height, default: []].append((try row.decode(Int.self, column: 1), try row.decode(Int.self, column: 2), event))
            }
        }
        return contents
    }

    // MARK: - Whole-table checks, done by PostgreSQL itself

    private func auditTree(size: UInt64, on connection: PostgresConnection) throws -> AuditFinding? {
        let s = quoteIdentifier(schema)
        if let row = try connection.query(sql: """
            SELECT n.idx FROM \(s).merkle_nodes n LEFT JOIN \(s).transactions t ON t.seq = n.idx
            WHERE n.level = 0 AND (t.seq IS NULL OR n.hash <> sha256('\\x00'::bytea || t.tx_id)) ORDER BY n.idx LIMIT 1
            """, name: "audit.leaves").first {
            return AuditFinding(schema: schema, height: nil, table: "merkle_nodes", field: "hash", detail: "leaf \(try row.decode(Int64.self, column: 0)) differs from its transaction id")
        }
        if let row = try connection.query(sql: """
            SELECT p.level, p.idx FROM \(s).merkle_nodes p
            LEFT JOIN \(s).merkle_nodes l ON l.level = p.level - 1 AND l.idx = 2 * p.idx
            LEFT JOIN \(s).merkle_nodes r ON r.level = p.level - 1 AND r.idx = 2 * p.idx + 1
            WHERE p.level > 0 AND (l.hash IS NULL OR r.hash IS NULL OR p.hash <> sha256('\\x01'::bytea || l.hash || r.hash))
            ORDER BY p.level, p.idx LIMIT 1
            """, name: "audit.nodes").first {
            return AuditFinding(schema: schema, height: nil, table: "merkle_nodes", field: "hash",
                                detail: "node level \(try row.decode(Int.self, column: 0)) index \(try row.decode(Int64.self, column: 1)) is not the hash of its children")
        }
        let expected = NodeLayout.appendPlan(oldSize: 0, newSize: size).new.count + Int(size)
        let stored = try connection.query(sql: "SELECT count(*) FROM \(s).merkle_nodes", name: "audit.node_count").first!.decode(Int.self, column: 0)
        guard stored == expected else {
            return AuditFinding(schema: schema, height: nil, table: "merkle_nodes", field: "level", detail: "\(stored) nodes stored, the tree has \(expected)")
        }
        return nil
    }

    private func auditState(on connection: PostgresConnection) throws -> AuditFinding? {
        let s = quoteIdentifier(schema)
        if let row = try connection.query(sql: """
            SELECT h.tx_seq, t.seq IS NULL FROM \(s).state_history h LEFT JOIN \(s).transactions t ON t.seq = h.tx_seq
            WHERE t.seq IS NULL OR h.height <> t.height LIMIT 1
            """, name: "audit.history_height").first {
            let seq = try row.decode(Int64.self, column: 0)
            if try row.decode(Bool.self, column: 1) {
                return AuditFinding(schema: schema, height: nil, table: "state_history", field: "tx_seq", detail: "a write names tx \(seq), which is not in the ledger")
            }
            return AuditFinding(schema: schema, height: nil, table: "state_history", field: "height",
                                detail: "a write of tx \(seq) names another block than its transaction")
        }
        if let row = try connection.query(sql: """
            SELECT e.seq FROM \(s).events e LEFT JOIN \(s).blocks b ON b.height = e.height WHERE b.height IS NULL LIMIT 1
            """, name: "audit.event_orphans").first {
            return AuditFinding(schema: schema, height: nil, table: "events", field: "height", detail: "event \(try row.decode(Int64.self, column: 0)) belongs to no block")
        }
        if let row = try connection.query(sql: """
            SELECT seq FROM (SELECT seq, row_number() OVER (ORDER BY height, tx_index, event_index) - 1 AS expected FROM \(s).events) e
            WHERE seq <> expected ORDER BY expected LIMIT 1
            """, name: "audit.event_seq").first {
            return AuditFinding(schema: schema, height: nil, table: "events", field: "seq", detail: "event \(try row.decode(Int64.self, column: 0)) is out of sequence")
        }
        if let row = try connection.query(sql: """
            SELECT encode(key, 'hex') FROM (SELECT key, version, row_number() OVER (PARTITION BY contract, key ORDER BY tx_seq, write_index) AS expected
                                          FROM \(s).state_history) h WHERE version <> expected LIMIT 1
            """, name: "audit.history_versions").first {
            return AuditFinding(schema: schema, height: nil, table: "state_history", field: "version",
                                detail: "versions of key \(try row.decode(String.self, column: 0)) do not count up from 1 in write order")
        }
        let latest = "SELECT DISTINCT ON (contract, key) contract, key, version, value, height FROM \(s).state_history ORDER BY contract, key, version DESC"
        if let row = try connection.query(sql: """
            SELECT encode(coalesce(st.key, h.key), 'hex') FROM \(s).state st FULL JOIN (\(latest)) h ON h.contract = st.contract AND h.key = st.key
            WHERE (st.key IS NULL AND h.value IS NOT NULL) OR (st.key IS NOT NULL AND (h.key IS NULL OR h.value IS DISTINCT FROM st.value
                   OR h.version <> st.version OR h.height <> st.updated_height))
            LIMIT 1
            """, name: "audit.state").first {
            return AuditFinding(schema: schema, height: nil, table: "state", field: "value", detail: "key \(try row.decode(String.self, column: 0)) differs from its latest history")
        }
        return nil
    }
}
