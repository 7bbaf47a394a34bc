public import Ledger
internal import HanseCore

/// A chain's committed world state, read from its `state` table: what a block's execution builds
/// on. Reads take a pooled connection each; the chain's worker is the only writer, so the state
/// does not move under a block being executed.
public struct PostgresWorldState: WorldState {
    public let schema: String
    private let pool: PostgresPool
    private let table: String

    public init(schema: String, pool: PostgresPool) {
        self.schema = schema
        self.pool = pool
        self.table = "\(quoteIdentifier(schema)).state"
    }

    public func value(of key: StateKey) throws -> [UInt8]? {
        try pool.withConnection { connection in
            try connection.query(PostgresStatement("state.get.\(schema)", "SELECT value FROM \(table) WHERE contract = $1 AND key = $2"),
                                 [.text(key.contract), .bytea(key.key)]).first?.decode([UInt8].self, column: 0)
        }
    }

    public func values(of keys: [StateKey]) throws -> [StateKey: [UInt8]] {
        var found: [StateKey: [UInt8]] = [:]
        let byContract = Dictionary(grouping: keys, by: \.contract)
        try pool.withConnection { connection in
            for (contract, group) in byContract {
                // One statement for any count, one index probe per key (see PostgresChainStore.committed).
                let rows = try connection.query(PostgresStatement("state.get_many.\(schema)", """
                    SELECT s.key, s.value FROM unnest($2::bytea[]) AS k(key)
                    CROSS JOIN LATERAL (SELECT key, value FROM \(table) WHERE contract = $1 AND key = k.key LIMIT 1) s
                    """), [.text(contract), .text(byteaArrayLiteral(group.map(\.key)))]).rows
                for row in rows { found[StateKey(contract: contract, key: try row.decode(column: 0))] = try row.decode([UInt8].self, column: 1) }
            }
        }
        return found
    }

    public func scan(contract: String, prefix: [UInt8], startAfter: [UInt8]?, limit: Int) throws -> [(key: [UInt8], value: [UInt8])] {
        // The range starts at the prefix (or after the cursor) so the primary key's index serves it.
        try pool.withConnection { connection in
            try connection.query(PostgresStatement("state.scan.\(schema)", """
                SELECT key, value FROM \(table)
                WHERE contract = $1 AND key >= $2 AND substr(key, 1, length($2)) = $2 AND ($3::bytea IS NULL OR key > $3)
                ORDER BY key LIMIT $4
                """), [.text(contract), .bytea(prefix), startAfter.map { .bytea($0) } ?? .null, .int(Int64(limit))]).rows.map {
                (try $0.decode([UInt8].self, column: 0), try $0.decode([UInt8].self, column: 1))
            }
        }
    }
}
