// The settings table through PostgresSettingsStore: insert-if-absent races are decided by the
// database, and values survive a new pool.
import Foundation
import HanseTesting
import PostgresStorage
import Storage
import XCTest

final class SettingsStoreTests: XCTestCase {
    func testInsertIfAbsentKeepsTheFirstValue() throws {
        let database = try TestCluster.shared.makeDatabase("settings")
        defer { TestCluster.shared_drop(database.name) }
        let pool = PostgresPool(configuration: PostgresPoolConfiguration(conninfo: database.conninfo))
        defer { pool.close() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        _ = try PostgresMigrator(pool: pool).migrate(schema: "platform", migrations: MigrationCatalog.load(directory: root.appendingPathComponent("Migrations/platform")))
        let store = PostgresSettingsStore(pool: pool)
        XCTAssertNil(try store.setting("example.key"))
        XCTAssertTrue(try store.insertSettingIfAbsent("example.key", value: "first"))
        XCTAssertFalse(try store.insertSettingIfAbsent("example.key", value: "second"))
        XCTAssertEqual(try store.setting("example.key"), "first")
        try store.setSetting("example.key", to: "third")
        XCTAssertEqual(try PostgresSettingsStore(pool: PostgresPool(configuration: .init(conninfo: database.conninfo))).setting("example.key"), "third")
    }
}

extension TestCluster {
    static func shared_drop(_ name: String) { try? TestCluster.shared.dropDatabase(name) }
}
