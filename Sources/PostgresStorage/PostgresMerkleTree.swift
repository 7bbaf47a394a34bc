public import Merkle
internal import HanseCore

/// A chain's ledger tree kept in `<schema>.merkle_nodes` as perfect subtrees, so proofs for any
/// tree size need one indexed read of at most a few dozen rows (docs/ledger.md).
///
/// Methods take the connection to work on, so that appends share the block's transaction.
public struct PostgresMerkleTree: Sendable {
    public let schema: String
    private let sizeStatement: PostgresStatement
    private let fetchStatement: PostgresStatement

    /// The tree of `schema`, which must be a valid chain schema name.
    public init(schema: String) throws {
        guard PostgresMigrator.isValidSchemaName(schema) else { throw PostgresError(.query, "bad schema name \(schema)") }
        self.schema = schema
        let table = "\(quoteIdentifier(schema)).merkle_nodes"
        sizeStatement = PostgresStatement("merkle.size.\(schema)", "SELECT coalesce(max(idx) + 1, 0) FROM \(table) WHERE level = 0")
        fetchStatement = PostgresStatement("merkle.fetch.\(schema)", """
            SELECT wanted.level, wanted.idx, n.hash FROM unnest($1::smallint[], $2::bigint[]) AS wanted(level, idx)
            CROSS JOIN LATERAL (SELECT hash FROM \(table) WHERE level = wanted.level AND idx = wanted.idx LIMIT 1) n
            """)
    }

    /// Number of leaves.
    public func size(on connection: PostgresConnection) throws -> UInt64 {
        UInt64(try connection.query(sizeStatement).first!.decode(Int64.self, column: 0))
    }

    /// Appends leaf hashes and every perfect subtree they complete; returns the new root.
    @discardableResult
    public func append(_ leafHashes: [MerkleHash], on connection: PostgresConnection) throws -> MerkleHash {
        let oldSize = try size(on: connection)
        let newSize = oldSize + UInt64(leafHashes.count)
        let plan = NodeLayout.appendPlan(oldSize: oldSize, newSize: newSize)
        var nodes = try fetch(Set(plan.existing), on: connection)
        var rows: [[PostgresValue]] = []
        rows.reserveCapacity(leafHashes.count * 2)
        for (offset, leaf) in leafHashes.enumerated() {
            let id = NodeID(level: 0, index: oldSize + UInt64(offset))
            nodes[id] = leaf
            rows.append([.int(0), .int(Int64(id.index)), .bytea(leaf)])
        }
        for id in plan.new {
            guard let left = nodes[NodeID(level: id.level - 1, index: id.index * 2)],
                  let right = nodes[NodeID(level: id.level - 1, index: id.index * 2 + 1)] else {
                throw PostgresError(.query, "ledger tree of \(schema) is missing children of node \(id.level)/\(id.index)")
            }
            let hash = RFC6962.nodeHash(left, right)
            nodes[id] = hash
            rows.append([.int(Int64(id.level)), .int(Int64(id.index)), .bytea(hash)])
        }
        try connection.copy(into: "\(schema).merkle_nodes", columns: [.init("level", .int2), .init("idx", .int8), .init("hash", .bytea)], rows: rows)
        return try root(size: newSize, on: connection, known: nodes)
    }

    /// MTH of the first `size` leaves.
    /// The right border of the stored tree of `size` leaves: one stored perfect subtree per set
    /// bit of `size`, largest first. With it the next root is computed without the database.
    public func compactRange(size: UInt64, on connection: PostgresConnection) throws -> CompactRange {
        var ids: [NodeID] = []
        var start: UInt64 = 0
        for level in (0..<64).reversed() where size >> UInt64(level) & 1 == 1 {
            ids.append(NodeID(level: UInt8(level), index: start >> UInt64(level)))
            start += 1 << UInt64(level)
        }
        let nodes = try fetch(Set(ids), on: connection)
        let peaks = try ids.map { id -> MerkleHash in
            guard let hash = nodes[id] else { throw PostgresError(.query, "ledger tree node \(id) is missing") }
            return hash
        }
        guard let range = CompactRange(size: size, peaks: peaks) else { throw PostgresError(.query, "ledger tree border does not match size \(size)") }
        return range
    }

    public func root(size: UInt64, on connection: PostgresConnection) throws -> MerkleHash {
        try root(size: size, on: connection, known: [:])
    }

    /// PATH(index, D[size]).
    public func inclusionProof(index: UInt64, size: UInt64, on connection: PostgresConnection) throws -> [MerkleHash] {
        guard index < size else { throw PostgresError(.query, "leaf \(index) is not below tree size \(size)") }
        return try resolve(NodeLayout.inclusionPlan(index: index, size: size), on: connection)
    }

    /// PROOF(size1, D[size2]).
    public func consistencyProof(size1: UInt64, size2: UInt64, on connection: PostgresConnection) throws -> [MerkleHash] {
        guard size1 > 0, size1 <= size2 else { throw PostgresError(.query, "consistency proof needs 0 < \(size1) <= \(size2)") }
        return try resolve(NodeLayout.consistencyPlan(size1: size1, size2: size2), on: connection)
    }

    // MARK: - Private

    private func root(size: UInt64, on connection: PostgresConnection, known: [NodeID: MerkleHash]) throws -> MerkleHash {
        guard size > 0 else { return RFC6962.emptyRoot }
        let fold = NodeLayout.rootFold(size: size)
        var nodes = known
        let missing = Set(fold).subtracting(known.keys)
        if !missing.isEmpty { nodes.merge(try fetch(missing, on: connection)) { old, _ in old } }
        return try NodeLayout.hash(fold, nodes)
    }

    private func resolve(_ plan: [NodeLayout.Fold], on connection: PostgresConnection) throws -> [MerkleHash] {
        let nodes = try fetch(Set(plan.flatMap { $0 }), on: connection)
        return try plan.map { try NodeLayout.hash($0, nodes) }
    }

    private func fetch(_ ids: Set<NodeID>, on connection: PostgresConnection) throws -> [NodeID: MerkleHash] {
        guard !ids.isEmpty else { return [:] }
        let sorted = ids.sorted()
        let levels = "{" + sorted.map { String($0.level) }.joined(separator: ",") + "}"
        let indexes = "{" + sorted.map { String($0.index) }.joined(separator: ",") + "}"
        var nodes: [NodeID: MerkleHash] = [:]
        for row in try connection.query(fetchStatement, [.text(levels), .text(indexes)]).rows {
            let id = NodeID(level: UInt8(try row.decode(Int.self, column: 0)), index: UInt64(try row.decode(Int64.self, column: 1)))
            nodes[id] = try row.decode([UInt8].self, column: 2)
        }
        guard nodes.count == ids.count else {
            throw PostgresError(.query, "ledger tree of \(schema) lacks \(ids.count - nodes.count) of \(ids.count) nodes it should hold")
        }
        return nodes
    }
}
