// The operator token lifecycle against the real settings table: generated once, shown once,
// replaced by a configured token, verified in constant time against the stored hash.
import Foundation
import HanseCLI
import HanseTesting
import PostgresStorage
import Storage
import XCTest

final class OperatorTokenTests: XCTestCase {
    func testGeneratedOnceThenExistingThenConfigured() throws {
        let (name, pool) = try TestCluster.shared.makeMigratedDatabase("token")
        defer { pool.close(); try? TestCluster.shared.dropDatabase(name) }
        let store = PostgresSettingsStore(pool: pool)

        guard case .generated(let token) = try OperatorToken.ensure(store: store, configured: nil) else {
            return XCTFail("first start generates a token")
        }
        XCTAssertTrue(token.hasPrefix("hanse_op_"))
        XCTAssertGreaterThanOrEqual(token.count, 9 + 43)
        XCTAssertEqual(try store.setting(SettingKey.operatorTokenHash), OperatorToken.hash(token), "only the hash is stored")
        XCTAssertTrue(try OperatorToken.verify(token, store: store))
        XCTAssertFalse(try OperatorToken.verify(token + "x", store: store))
        XCTAssertEqual(try OperatorToken.ensure(store: store, configured: nil), .existing)

        let configured = String(repeating: "k", count: 40)
        XCTAssertEqual(try OperatorToken.ensure(store: store, configured: configured), .configured)
        XCTAssertTrue(try OperatorToken.verify(configured, store: store))
        XCTAssertFalse(try OperatorToken.verify(token, store: store))
        XCTAssertThrowsError(try OperatorToken.ensure(store: store, configured: "short"))
    }
}
