// The settings table through PostgresSettingsStore: insert-if-absent races are decided by the
// database, and values survive a new pool.
import Foundation
import HanseTesting
import PostgresStorage
import Storage
import XCTest

final class SettingsStoreTests: XCTestCase {
    func testInsertIfAbsentKeepsTheFirstValue() throws {
        let (name, pool) = try TestCluster.shared.makeMigratedDatabase("settings")
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        let store = PostgresSettingsStore(pool: pool)
        XCTAssertNil(try store.setting("example.key"))
        XCTAssertTrue(try store.insertSettingIfAbsent("example.key", value: "first"))
        XCTAssertFalse(try store.insertSettingIfAbsent("example.key", value: "second"))
        XCTAssertEqual(try store.setting("example.key"), "first")
        try store.setSetting("example.key", to: "third")
        XCTAssertEqual(try PostgresSettingsStore(pool: PostgresPool(configuration: pool.configuration)).setting("example.key"), "third")
    }
}
