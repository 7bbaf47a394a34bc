// Migrations against a real PostgreSQL: order, checksums, unknown versions, the per-chain template
// in several schemas, and two migrators racing (the advisory lock lets exactly one apply each file).
// Each test writes its own migration files into a fresh directory.
import Dispatch
import Foundation
import HanseTesting
import PostgresStorage
import Storage
import Synchronization
import XCTest

final class MigrationTests: XCTestCase {
    private var database: (name: String, conninfo: String)!
    private var pool: PostgresPool!

    override func setUpWithError() throws {
        database = try TestCluster.shared.makeDatabase("migrations")
        pool = PostgresPool(configuration: PostgresPoolConfiguration(conninfo: database.conninfo))
    }

    override func tearDownWithError() throws {
        pool.close()
        try TestCluster.shared.dropDatabase(database.name)
    }

    private func writeMigrations(_ files: [String: String]) throws -> URL {
        let directory = try TestCluster.shared.makeDirectory("migrations")
        for (name, sql) in files {
            try sql.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    func testAppliesInVersionOrderOnceAndRecordsChecksums() throws {
        let directory = try writeMigrations([
            "0010_third.sql": "INSERT INTO steps VALUES (3);",
            "0001_first.sql": "CREATE TABLE steps (n int); INSERT INTO steps VALUES (1);",
            "0002_second.sql": "INSERT INTO steps VALUES (2);",
            "README.txt": "not a migration",
        ])
        let migrations = try MigrationCatalog.load(directory: directory)
        XCTAssertEqual(migrations.map(\.version), [1, 2, 10])
        let migrator = PostgresMigrator(pool: pool)
        let first = try migrator.migrate(schema: "app", migrations: migrations)
        XCTAssertEqual(first.applied, ["0001_first.sql", "0002_second.sql", "0010_third.sql"])
        let second = try migrator.migrate(schema: "app", migrations: migrations)
        XCTAssertEqual(second, PostgresMigrator.Report(applied: [], alreadyApplied: 3))
        try pool.withConnection { connection in
            let steps = try connection.query(sql: "SELECT string_agg(n::text, ',' ORDER BY ctid) FROM app.steps", name: "test.steps")
            XCTAssertEqual(try steps.first?.decode(String.self, column: 0), "1,2,3")
            let recorded = try connection.query(sql: "SELECT checksum FROM app.schema_migrations WHERE version = 2", name: "test.checksum")
            XCTAssertEqual(try recorded.first?.decode(String.self, column: 0), migrations[1].checksum)
        }
    }

    func testChangedAppliedFileIsAnErrorNamingIt() throws {
        let directory = try writeMigrations(["0001_create.sql": "CREATE TABLE t (a int);"])
        let migrator = PostgresMigrator(pool: pool)
        _ = try migrator.migrate(schema: "app", migrations: try MigrationCatalog.load(directory: directory))
        try "CREATE TABLE t (a bigint);".write(to: directory.appendingPathComponent("0001_create.sql"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try migrator.migrate(schema: "app", migrations: try MigrationCatalog.load(directory: directory))) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .migration)
            XCTAssertTrue("\(error)".contains("migration 0001_create.sql changed after it was applied"), "\(error)")
        }
    }

    func testAppliedVersionUnknownToTheBuildIsAnError() throws {
        let directory = try writeMigrations(["0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 2;"])
        let migrator = PostgresMigrator(pool: pool)
        let all = try MigrationCatalog.load(directory: directory)
        _ = try migrator.migrate(schema: "app", migrations: all)
        XCTAssertThrowsError(try migrator.migrate(schema: "app", migrations: [all[0]])) { error in
            XCTAssertTrue("\(error)".contains("0002_b.sql applied, which this build does not have"), "\(error)")
        }
    }

    func testFailingMigrationRollsBackAndIsNotRecorded() throws {
        let directory = try writeMigrations([
            "0001_ok.sql": "CREATE TABLE ok (a int);",
            "0002_bad.sql": "CREATE TABLE half (a int); SELECT * FROM no_such_table;",
        ])
        XCTAssertThrowsError(try PostgresMigrator(pool: pool).migrate(schema: "app", migrations: try MigrationCatalog.load(directory: directory))) { error in
            XCTAssertEqual((error as? PostgresError)?.statement, "0002_bad.sql")
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42P01")
        }
        try pool.withConnection { connection in
            let versions = try connection.query(sql: "SELECT count(*) FROM app.schema_migrations", name: "test.count")
            XCTAssertEqual(try versions.first?.decode(Int.self, column: 0), 1)
            let half = try connection.query(sql: "SELECT to_regclass('app.half') IS NULL", name: "test.half")
            XCTAssertEqual(try half.first?.decode(Bool.self, column: 0), true)
        }
    }

    func testTwoConcurrentMigratorsApplyEachFileExactlyOnce() throws {
        // The first file sleeps so that the second migrator certainly arrives while it holds the lock.
        let directory = try writeMigrations([
            "0001_slow.sql": "SELECT pg_sleep(0.5); CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);",
            "0002_bump.sql": "UPDATE counter SET n = n + 1;",
            "0003_bump.sql": "UPDATE counter SET n = n + 1;",
        ])
        let migrations = try MigrationCatalog.load(directory: directory)
        let reports = Mutex<[PostgresMigrator.Report]>([])
        let errors = Mutex<[String]>([])
        let conninfo = database.conninfo
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let ownPool = PostgresPool(configuration: PostgresPoolConfiguration(conninfo: conninfo))
            defer { ownPool.close() }
            do {
                let report = try PostgresMigrator(pool: ownPool).migrate(schema: "race", migrations: migrations)
                reports.withLock { $0.append(report) }
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        XCTAssertEqual(errors.withLock { $0 }, [])
        let applied = reports.withLock { $0.map(\.applied.count) }.sorted()
        XCTAssertEqual(applied, [0, 3], "one migrator applied everything, the other found it done")
        let counter = try pool.withConnection {
            try $0.query(sql: "SELECT n FROM race.counter", name: "test.counter").first!.decode(Int.self, column: 0)
        }
        XCTAssertEqual(counter, 3)
    }

    func testChainTemplateAppliesIntoSeparateSchemas() throws {
        let template = try MigrationCatalog.load(directory: Repository.path("Migrations/chain"))
        XCTAssertFalse(template.isEmpty)
        let migrator = PostgresMigrator(pool: pool)
        for schema in ["chain_a1", "chain_b2"] {
            XCTAssertEqual(try migrator.migrate(schema: schema, migrations: template).applied.count, template.count)
        }
        try pool.withConnection { connection in
            let tables = try connection.query(sql: "SELECT count(*) FROM pg_tables WHERE tablename = 'chain_info' AND schemaname IN ('chain_a1', 'chain_b2')", name: "test.tables")
            XCTAssertEqual(try tables.first?.decode(Int.self, column: 0), 2)
        }
        XCTAssertThrowsError(try migrator.migrate(schema: "Chain; DROP", migrations: template))
    }

    func testPlatformMigrationsApply() throws {
        let platform = try MigrationCatalog.load(directory: Repository.path("Migrations/platform"))
        let report = try PostgresMigrator(pool: pool).migrate(schema: "platform", migrations: platform)
        XCTAssertEqual(report.applied.count, platform.count)
        // A CHECK mirrors the API's tenant-name rule.
        XCTAssertThrowsError(try pool.withConnection {
            try $0.query(sql: "INSERT INTO platform.tenants (id, name) VALUES (gen_random_uuid(), 'Bad Name')", name: "test.tenant")
        }) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23514") }
    }

    func testCatalogRejectsBadNamesAndDuplicateVersions() throws {
        XCTAssertEqual(MigrationCatalog.parseVersion(fileName: "0001_init.sql"), 1)
        XCTAssertNil(MigrationCatalog.parseVersion(fileName: "1_init.sql"))
        XCTAssertNil(MigrationCatalog.parseVersion(fileName: "0001-init.sql"))
        XCTAssertNil(MigrationCatalog.parseVersion(fileName: "0001_Init.sql"))
        let badName = try writeMigrations(["001_x.sql": "SELECT 1;"])
        XCTAssertThrowsError(try MigrationCatalog.load(directory: badName)) { XCTAssertTrue("\($0)".contains("001_x.sql")) }
        let duplicate = try writeMigrations(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        XCTAssertThrowsError(try MigrationCatalog.load(directory: duplicate)) { XCTAssertTrue("\($0)".contains("share version 1")) }
    }
}
