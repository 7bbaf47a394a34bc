internal import ArgumentParser
internal import Crypto
internal import Foundation
internal import Ledger
internal import PostgresStorage

/// `hanse audit`: recompute every hash and root of a chain from its rows.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Recompute every hash and root of a chain from its PostgreSQL rows; report the first mismatch.",
        discussion: "Exit status 0 when the chain is intact, 1 with the first mismatch (chain, height, table, field) otherwise.")

    @Option(help: "The chain's schema, chain_<id>.") var schema: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        try database.withDatabase(logging: logging, label: "hanse.audit") { handle in
            let auditor = try ChainAuditor(schema: schema)
            let finding = try handle.pool.withConnection { connection -> AuditFinding? in
                try connection.setStatementTimeout(nil)
                let validators = try Self.validators(schema: schema, on: connection)
                let started = ContinuousClock.now
                return try auditor.audit(validators: validators, on: connection) { blocks in
                    print("audited \(blocks) blocks (\(Int((ContinuousClock.now - started).secondsDouble)) s)")
                }
            }
            if let finding {
                print("MISMATCH \(finding)")
                throw ExitCode(1)
            }
            print("chain \(schema) is intact")
        }
    }

    /// The chain's validator set from the platform catalogue.
    static func validators(schema: String, on connection: PostgresConnection) throws -> ValidatorSet {
        let rows = try connection.query(sql: """
            SELECT v.algorithm, v.public_key FROM platform.validators v JOIN platform.chains c ON c.id = v.chain_id
            WHERE c.schema_name = $1 ORDER BY v.index
            """, name: "audit.validators", [.text(schema)])
        guard rows.count > 0 else { throw ValidationError("no validators recorded for \(schema) in platform.validators") }
        return ValidatorSet(keys: try rows.rows.map { row in
            guard let algorithm = SignatureAlgorithm(rawValue: try row.decode(String.self, column: 0)) else {
                throw ValidationError("unknown validator algorithm for \(schema)")
            }
            return try PublicKey(algorithm: algorithm, raw: try row.decode([UInt8].self, column: 1))
        })
    }
}
