public import Ledger
internal import Merkle
internal import Crypto
internal import Foundation
internal import HanseCore

/// Writes blocks into a chain's schema and reads them back. A block is written in one
/// PostgreSQL transaction — block, transactions and receipts, state upserts, history, events and
/// the ledger tree — after checking its roots against its contents, so a crash leaves the whole
/// block or none of it.
public struct PostgresChainStore: Sendable {
    public let schema: String
    private let tree: PostgresMerkleTree
    private let table: @Sendable (String) -> String

    public init(schema: String) throws {
        self.tree = try PostgresMerkleTree(schema: schema)
        self.schema = schema
        self.table = { "\(quoteIdentifier(schema)).\($0)" }
    }

    /// The latest block: height, hash and ledger size; nil before genesis.
    public func head(on connection: PostgresConnection) throws -> (height: UInt64, hash: [UInt8], ledgerSize: UInt64)? {
        let result = try connection.query(PostgresStatement("chain.head.\(schema)",
            "SELECT height, hash, ledger_size FROM \(table("blocks")) ORDER BY height DESC LIMIT 1"))
        guard let row = result.first else { return nil }
        return (UInt64(try row.decode(Int64.self, column: 0)), try row.decode([UInt8].self, column: 1), UInt64(try row.decode(Int64.self, column: 2)))
    }

    /// The ids of committed transactions in ledger order, from sequence number `seq` on, at most
    /// `limit` of them (a page of a walk over the whole ledger).
    public func transactionIDs(fromSeq seq: UInt64, limit: Int, on connection: PostgresConnection) throws -> [[UInt8]] {
        try connection.query(PostgresStatement("chain.tx_ids.\(schema)",
            "SELECT tx_id FROM \(table("transactions")) WHERE seq >= $1 ORDER BY seq LIMIT $2"),
            [.int(Int64(seq)), .int(Int64(limit))]).rows.map { try $0.decode([UInt8].self, column: 0) }
    }

    /// Which of `ids` are committed transactions already (one query).
    public func committed(_ ids: [[UInt8]], pool: PostgresPool) throws -> Set<[UInt8]> {
        guard !ids.isEmpty else { return [] }
        return try pool.withConnection { connection in
            // One index probe per id, whatever the table's statistics say (a LATERAL subquery
            // with LIMIT is not flattened into a join the planner could hash over the table).
            Set(try connection.query(PostgresStatement("chain.committed_ids.\(schema)", """
                SELECT t.tx_id FROM unnest($1::bytea[]) AS k(id)
                CROSS JOIN LATERAL (SELECT tx_id FROM \(table("transactions")) WHERE tx_id = k.id LIMIT 1) t
                """), [.text(byteaArrayLiteral(ids))]).rows.map { try $0.decode([UInt8].self, column: 0) })
        }
    }

    /// Checks and stores `block` atomically. Refuses a block that does not extend the head, whose
    /// roots do not match its contents, or whose ledger root differs from the stored tree's.
    /// `within` runs last in the same PostgreSQL transaction with the sequence numbers of the
    /// block's events (its block event first), so that rows derived from them (the webhook
    /// outbox) commit or vanish with the block. Returns those sequence numbers.
    /// `rootsChecked` skips recomputing the header's transaction and write-set roots, for a caller
    /// that built or checked the header from these very transactions (a chain worker); the ledger
    /// root is always checked against the stored tree.
    @discardableResult
    public func commit(_ block: CommittedBlock, pool: PostgresPool, rootsChecked: Bool = false,
                       within: ((PostgresConnection, Range<Int64>) throws -> Void)? = nil) throws -> Range<Int64> {
        let header = block.header
        if !rootsChecked {
            guard header.txRoot == BlockRoots.txRoot(block.transactions) else { throw PostgresError(.query, "tx root does not match the block's transactions") }
            guard header.writeSetRoot == BlockRoots.writeSetRoot(block.transactions) else {
                throw PostgresError(.query, "write-set root does not match the block's receipts, writes and events")
            }
        }
        return try pool.transaction { connection in
            let head = try self.head(on: connection)
            let expectedHeight = head.map { $0.height + 1 } ?? 0
            guard header.height == expectedHeight else { throw PostgresError(.query, "block height \(header.height), want \(expectedHeight)") }
            guard header.previousHash == (head?.hash ?? [UInt8](repeating: 0, count: 32)) else {
                throw PostgresError(.query, "block \(header.height) does not point to the previous block's hash")
            }
            let firstSeq = head?.ledgerSize ?? 0
            guard header.ledgerSize == firstSeq + UInt64(block.transactions.count) else {
                throw PostgresError(.query, "ledger size \(header.ledgerSize), want \(firstSeq + UInt64(block.transactions.count))")
            }
            try insertBlock(block, on: connection)
            try insertTransactions(block, firstSeq: firstSeq, on: connection)
            let events = try applyWrites(block, firstSeq: firstSeq, on: connection)
            let root = try tree.append(block.transactions.map { RFC6962.leafHash($0.envelope.id) }, on: connection)
            guard root == header.ledgerRoot else { throw PostgresError(.query, "ledger root of block \(header.height) does not match the stored tree") }
            try within?(connection, events)
            return events
        }
    }

    /// The data of a block's event: its height, hash, transaction count, ledger size and time, as JSON.
    public static func blockEventData(_ header: BlockHeader, transactions: Int) -> [UInt8] {
        Array("""
            {"height":\(header.height),"hash":"\(Hex.encode(header.hash))","transactions":\(transactions),\
            "ledger_size":\(header.ledgerSize),"timestamp_ms":\(header.timestamp)}
            """.utf8)
    }

    /// The header and certificate of block `height`; throws if the stored hash no longer matches
    /// the stored fields.
    public func block(height: UInt64, on connection: PostgresConnection) throws -> (header: BlockHeader, certificate: CommitCertificate)? {
        let result = try connection.query(PostgresStatement("chain.block.\(schema)", """
            SELECT hash, previous_hash, tx_root, write_set_root, ledger_root, ledger_size, timestamp_ms, proposer,
                   validator_set_hash, certificate::text, (SELECT chain_id::text FROM \(table("chain_info")))
            FROM \(table("blocks")) WHERE height = $1
            """), [.int(Int64(height))])
        guard let row = result.first else { return nil }
        let header = BlockHeader(
            chainID: try row.decode(String?.self, column: 10) ?? "", height: height, previousHash: try row.decode(column: 1),
            txRoot: try row.decode(column: 2), writeSetRoot: try row.decode(column: 3), ledgerRoot: try row.decode(column: 4),
            ledgerSize: UInt64(try row.decode(Int64.self, column: 5)), timestamp: UInt64(try row.decode(Int64.self, column: 6)),
            proposer: UInt32(try row.decode(Int.self, column: 7)), validatorSetHash: try row.decode(column: 8))
        let storedHash: [UInt8] = try row.decode(column: 0)
        guard header.hash == storedHash else {
            throw PostgresError(.query, "block \(height) of \(schema): stored fields do not hash to the stored block hash")
        }
        let certificate = try JSONDecoder().decode(CommitCertificate.self, from: Data(try row.decode(String.self, column: 9).utf8))
        return (header, certificate)
    }

    // MARK: - Private

    private func insertBlock(_ block: CommittedBlock, on connection: PostgresConnection) throws {
        let header = block.header
        let certificate = String(decoding: try JSONEncoder().encode(block.certificate), as: UTF8.self)
        try connection.query(PostgresStatement("chain.insert_block.\(schema)", """
            INSERT INTO \(table("blocks")) (height, hash, previous_hash, tx_root, write_set_root, ledger_root, ledger_size,
                timestamp_ms, proposer, validator_set_hash, certificate)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
            """), [.int(Int64(header.height)), .bytea(header.hash), .bytea(header.previousHash), .bytea(header.txRoot),
                   .bytea(header.writeSetRoot), .bytea(header.ledgerRoot), .int(Int64(header.ledgerSize)), .int(Int64(header.timestamp)),
                   .int(Int64(header.proposer)), .bytea(header.validatorSetHash), .text(certificate)])
    }

    private func insertTransactions(_ block: CommittedBlock, firstSeq: UInt64, on connection: PostgresConnection) throws {
        let rows: [[PostgresValue]] = block.transactions.enumerated().map { index, transaction in
            let receipt = transaction.receipt
            return [.int(Int64(firstSeq) + Int64(index)), .bytea(transaction.envelope.id), .int(Int64(block.header.height)), .int(index),
                    .text(transaction.envelope.contract), .text(transaction.envelope.method), .bytea(transaction.envelope.signedBytes),
                    .bytea(transaction.envelope.signature), .text(receipt.status.rawValue), .int(Int64(receipt.gasUsed)),
                    .bytea(receipt.result), .text(receipt.error), .bytea(BlockRoots.encodeReadSet(transaction.reads))]
        }
        try connection.copy(into: "\(schema).transactions",
                            columns: [.init("seq", .int8), .init("tx_id", .bytea), .init("height", .int8), .init("index_in_block", .int4),
                                      .init("contract", .text), .init("method", .text), .init("signed_bytes", .bytea), .init("signature", .bytea),
                                      .init("status", .text), .init("gas_used", .int8), .init("result", .bytea), .init("error", .text),
                                      .init("read_set", .bytea)], rows: rows)
    }

    /// Stores the block's writes (state, history) and events; returns the events' sequence numbers.
    private func applyWrites(_ block: CommittedBlock, firstSeq: UInt64, on connection: PostgresConnection) throws -> Range<Int64> {
        // Versions continue across deletes: a key's next version is one more than its last write,
        // in state, in history, or earlier in this block. One query reads them for every key the
        // block touches (a key absent from state has as last version its latest delete's, if
        // any: the partial index state_history_deletes) and whether the key is in state. Keys
        // new to state are copied in, keys in state updated, and deleted ones deleted: one
        // statement each. The state lookup is a LATERAL subquery with LIMIT 1 (which keeps the
        // planner from flattening it into a join) so that it stays one index probe per key
        // whatever the statistics say: a join could become a scan of the whole state.
        struct Key: Hashable { let contract: String; let key: [UInt8] }
        var touched: [Key] = []
        var seen = Set<Key>()
        for transaction in block.transactions {
            for write in transaction.writes where seen.insert(Key(contract: write.contract, key: write.key)).inserted {
                touched.append(Key(contract: write.contract, key: write.key))
            }
        }
        var versions: [Key: Int64] = [:]
        var inState = Set<Key>()
        if !touched.isEmpty {
            let lastVersions = PostgresStatement("chain.last_versions.\(schema)", """
                SELECT k.contract, k.key, s.version IS NOT NULL, coalesce(s.version,
                       (SELECT max(h.version) FROM \(table("state_history")) h
                        WHERE h.contract = k.contract AND h.key = k.key AND h.value IS NULL), 0)
                FROM unnest($1::text[], $2::bytea[]) AS k(contract, key)
                LEFT JOIN LATERAL (SELECT version FROM \(table("state")) s WHERE s.contract = k.contract AND s.key = k.key LIMIT 1) s ON true
                """)
            for row in try connection.query(lastVersions, [.text(arrayLiteral(touched.map(\.contract))), .text(byteaArrayLiteral(touched.map(\.key)))]).rows {
                let key = Key(contract: try row.decode(column: 0), key: try row.decode(column: 1))
                if try row.decode(Bool.self, column: 2) { inState.insert(key) }
                versions[key] = try row.decode(Int64.self, column: 3)
            }
        }
        var history: [[PostgresValue]] = []
        var events: [[PostgresValue]] = []
        var final: [Key: (value: [UInt8]?, version: Int64)] = [:]
        let firstEventSeq = try connection.query(PostgresStatement("chain.event_seq.\(schema)",
            "SELECT coalesce(max(seq) + 1, 0) FROM \(table("events"))")).first!.decode(Int64.self, column: 0)
        events.append([.int(firstEventSeq), .int(Int64(block.header.height)), .int(-1), .int(0), .text("_chain"), .text("block"),
                       .bytea(Self.blockEventData(block.header, transactions: block.transactions.count)), .text("block")])
        var eventSeq = firstEventSeq + 1
        for (index, transaction) in block.transactions.enumerated() {
            let seq = Int64(firstSeq) + Int64(index)
            for (position, write) in transaction.writes.enumerated() {
                let key = Key(contract: write.contract, key: write.key)
                let version = (versions[key] ?? 0) + 1
                versions[key] = version
                final[key] = (write.value, version)
                history.append([.text(write.contract), .bytea(write.key), .int(version), write.value.map { .bytea($0) } ?? .null,
                                .int(seq), .int(Int64(block.header.height)), .int(position)])
            }
            for (position, event) in transaction.events.enumerated() {
                events.append([.int(eventSeq), .int(Int64(block.header.height)), .int(index), .int(position),
                               .text(event.contract), .text(event.topic), .bytea(event.data), .text("contract")])
                eventSeq += 1
            }
        }
        let updates = touched.filter { inState.contains($0) && final[$0]?.value != nil }
        if !updates.isEmpty {
            try connection.query(PostgresStatement("chain.update_states.\(schema)", """
                UPDATE \(table("state")) s SET value = w.value, version = w.version, updated_height = $5
                FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::bigint[]) AS w(contract, key, value, version)
                WHERE s.contract = w.contract AND s.key = w.key
                """), [.text(arrayLiteral(updates.map(\.contract))), .text(byteaArrayLiteral(updates.map(\.key))),
                       .text(byteaArrayLiteral(updates.map { final[$0]!.value! })), .text("{" + updates.map { String(final[$0]!.version) }.joined(separator: ",") + "}"),
                       .int(Int64(block.header.height))])
        }
        let inserts = touched.filter { !inState.contains($0) && final[$0]?.value != nil }
        if !inserts.isEmpty {
            let height = PostgresValue.int(Int64(block.header.height))
            try connection.copy(into: "\(schema).state",
                                columns: [.init("contract", .text), .init("key", .bytea), .init("value", .bytea), .init("version", .int8), .init("updated_height", .int8)],
                                rows: inserts.lazy.map { [.text($0.contract), .bytea($0.key), .bytea(final[$0]!.value!), .int(final[$0]!.version), height] })
        }
        let deletes = touched.filter { inState.contains($0) && final[$0]?.value == nil }
        if !deletes.isEmpty {
            try connection.query(PostgresStatement("chain.delete_states.\(schema)", """
                DELETE FROM \(table("state")) s USING unnest($1::text[], $2::bytea[]) AS d(contract, key)
                WHERE s.contract = d.contract AND s.key = d.key
                """), [.text(arrayLiteral(deletes.map(\.contract))), .text(byteaArrayLiteral(deletes.map(\.key)))])
        }
        try connection.copy(into: "\(schema).state_history",
                            columns: [.init("contract", .text), .init("key", .bytea), .init("version", .int8), .init("value", .bytea),
                                      .init("tx_seq", .int8), .init("height", .int8), .init("write_index", .int4)], rows: history)
        try connection.copy(into: "\(schema).events",
                            columns: [.init("seq", .int8), .init("height", .int8), .init("tx_index", .int4), .init("event_index", .int4),
                                      .init("contract", .text), .init("topic", .text), .init("data", .bytea), .init("kind", .text)], rows: events)
        return firstEventSeq..<eventSeq
    }
}

/// A PostgreSQL array literal of text values, each quoted and escaped.
func arrayLiteral(_ values: [String]) -> String {
    // Built on bytes: Foundation's replacingOccurrences is a locale-aware search, slow per value.
    var out: [UInt8] = [UInt8(ascii: "{")]
    out.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
    for (index, value) in values.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
    out.append(UInt8(ascii: "}"))
    return String(decoding: out, as: UTF8.self)
}

/// A PostgreSQL array literal of bytea values in hex form.
func byteaArrayLiteral(_ values: [[UInt8]]) -> String {
    var out: [UInt8] = [UInt8(ascii: "{")]
    out.reserveCapacity(values.reduce(2) { $0 + $1.count * 2 + 6 })
    for (index, value) in values.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        // "\\x…" inside the literal: its quoting turns the doubled backslash into bytea's \x.
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        Hex.append(value, to: &out)
        out.append(UInt8(ascii: "\""))
    }
    out.append(UInt8(ascii: "}"))
    return String(decoding: out, as: UTF8.self)
}
