// `hanse audit` as an operator runs it: the built executable against a database holding a chain
// registered in the platform catalogue; exit 0 on an intact chain, exit 1 naming the table and
// field after a hand edit.
import Crypto
import Foundation
import HanseTesting
import Ledger
import PostgresStorage
import XCTest

final class AuditCommandTests: XCTestCase {
    private func runHanse(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("hanse") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? Repository.path(".build/debug/hanse")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HANSE_LOG_LEVEL"] = "warning"
        environment["HANSE_MIGRATIONS_DIR"] = Repository.path("Migrations").path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testAuditCommandReportsIntactAndTamperedChains() throws {
        let chainID = "5b1f6c2a-9d3e-4f80-a1b2-c3d4e5f60718", schema = "chain_cli_audit"
        let (name, pool) = try TestCluster.shared.makeMigratedDatabase("auditcli", chainSchemas: [schema])
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        var chain = try TestChain(chainID: chainID)
        try pool.withConnection { connection in
            try connection.query(sql: "INSERT INTO platform.tenants (id, name) VALUES ('11111111-1111-4111-8111-111111111111', 'acme')", name: "t.tenant")
            try connection.query(sql: """
                INSERT INTO platform.chains (id, tenant_id, name, schema_name, consensus, status)
                VALUES ($1::uuid, '11111111-1111-4111-8111-111111111111', 'supply', $2, 'bft', 'running')
                """, name: "t.chain", [.text(chainID), .text(schema)])
            for (index, key) in chain.validatorSet.keys.enumerated() {
                try connection.query(sql: "INSERT INTO platform.validators (chain_id, index, algorithm, public_key) VALUES ($1::uuid, $2, $3, $4)",
                                     name: "t.validator", [.text(chainID), .int(index), .text(key.algorithm.rawValue), .bytea(key.raw)])
            }
            try connection.query(sql: "INSERT INTO \(schema).chain_info (chain_id) VALUES ($1::uuid)", name: "t.info", [.text(chainID)])
        }
        let store = try PostgresChainStore(schema: schema)
        let client = try PrivateKey.generate(.sm2)
        for block in 0..<3 {
            try store.commit(try chain.nextBlock((0..<4).map { try chain.transaction(signer: client, key: "k\($0)", value: "b\(block)") }), pool: pool)
        }
        let conninfo = pool.configuration.conninfo
        let intact = try runHanse(["audit", "--schema", schema, "--database-url", conninfo])
        XCTAssertEqual(intact.status, 0, intact.output)
        XCTAssertTrue(intact.output.contains("audited 3 blocks"), intact.output)
        XCTAssertTrue(intact.output.contains("chain \(schema) is intact"), intact.output)

        try pool.withConnection { _ = try $0.execute("UPDATE \(schema).transactions SET gas_used = gas_used + 1 WHERE seq = 5", name: "t.tamper") }
        let tampered = try runHanse(["audit", "--schema", schema, "--database-url", conninfo])
        XCTAssertEqual(tampered.status, 1)
        XCTAssertTrue(tampered.output.contains("MISMATCH \(schema) height 1: transactions/state_history/events.write_set_root"), tampered.output)
    }
}
