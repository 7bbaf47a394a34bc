// The connection pool against a real PostgreSQL (the test run's embedded cluster): its size limit,
// its acquire timeout, FIFO hand-over under contention, and replacement of connections the server
// closed.
import Dispatch
import Foundation
import HanseTesting
import PostgresStorage
import Synchronization
import XCTest

final class PostgresPoolTests: XCTestCase {
    nonisolated(unsafe) static var database: (name: String, conninfo: String)!

    override class func setUp() {
        database = try! TestCluster.shared.makeDatabase("pool")
    }

    override class func tearDown() {
        try? TestCluster.shared.dropDatabase(database.name)
    }

    private func makePool(max: Int, acquireTimeout: Duration = .seconds(5)) -> PostgresPool {
        var configuration = PostgresPoolConfiguration(conninfo: Self.database.conninfo, applicationName: "pool-test")
        configuration.connectionsMax = max
        configuration.acquireTimeout = acquireTimeout
        return PostgresPool(configuration: configuration)
    }

    func testAcquireTimesOutWhenAllConnectionsAreInUse() throws {
        let pool = makePool(max: 2, acquireTimeout: .milliseconds(300))
        let first = try pool.acquire(), second = try pool.acquire()
        let start = ContinuousClock.now
        XCTAssertThrowsError(try pool.acquire()) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .poolTimeout)
        }
        let waited = ContinuousClock.now - start
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(290))
        XCTAssertLessThan(waited, .seconds(3))
        XCTAssertEqual(pool.statistics.open, 2)
        XCTAssertEqual(pool.statistics.acquireTimeouts, 1)
        pool.release(first)
        let third = try pool.acquire()
        XCTAssertTrue(third === first, "the idle connection is reused, not a new one opened")
        pool.release(second)
        pool.release(third)
    }

    func testNeverOpensMoreThanTheLimitUnderContention() throws {
        let pool = makePool(max: 3)
        let peak = Mutex((current: 0, peak: 0))
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 12) { worker in
            for _ in 0..<15 {
                do {
                    try pool.withConnection { connection in
                        peak.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) }
                        defer { peak.withLock { $0.current -= 1 } }
                        let row = try connection.query(sql: "SELECT $1::int + 1", name: "pool.add", [.int(worker)]).first!
                        XCTAssertEqual(try row.decode(Int.self, column: 0), worker + 1)
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertLessThanOrEqual(peak.withLock { $0.peak }, 3)
        XCTAssertLessThanOrEqual(pool.statistics.open, 3)
        let backends = try pool.withConnection { connection in
            try connection.query(sql: "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pool-test' AND datname = current_database()",
                                 name: "pool.backends").first!.decode(Int.self, column: 0)
        }
        XCTAssertLessThanOrEqual(backends, 3)
    }

    func testConnectionClosedByTheServerIsReplaced() throws {
        let pool = makePool(max: 1)
        let victim = try pool.withConnection { $0.backendPID }
        let admin = try PostgresConnection(conninfo: Self.database.conninfo)
        let terminated = try admin.query(sql: "SELECT pg_terminate_backend($1)", name: "test.terminate", [.int(Int(victim))])
        XCTAssertEqual(try terminated.first?.decode(Bool.self, column: 0), true)
        // Wait until the backend is really gone.
        for _ in 0..<100 {
            let alive = try admin.query(sql: "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", name: "test.alive", [.int(Int(victim))])
            if try alive.first!.decode(Int.self, column: 0) == 0 { break }
            usleep(20_000)
        }
        let replacement = try pool.withConnection { connection -> Int32 in
            XCTAssertEqual(try connection.query(sql: "SELECT 41 + 1", name: "test.select").first?.decode(Int.self, column: 0), 42)
            return connection.backendPID
        }
        XCTAssertNotEqual(replacement, victim)
        XCTAssertEqual(pool.statistics.replaced, 1)
        XCTAssertEqual(pool.statistics.open, 1)
    }

    func testConnectionLeftInsideATransactionIsRolledBackOnRelease() throws {
        let pool = makePool(max: 1)
        try pool.withConnection { connection in
            try connection.execute("CREATE TABLE IF NOT EXISTS leak (v int)", name: "test.create")
            try connection.execute("BEGIN; INSERT INTO leak VALUES (1)", name: "test.leak")
        }
        let count = try pool.withConnection { connection in
            XCTAssertTrue(connection.isIdle)
            return try connection.query(sql: "SELECT count(*) FROM leak", name: "test.count").first!.decode(Int.self, column: 0)
        }
        XCTAssertEqual(count, 0)
    }

    func testClosedPoolRefusesCallers() throws {
        let pool = makePool(max: 1)
        pool.close()
        XCTAssertThrowsError(try pool.acquire()) { XCTAssertEqual(($0 as? PostgresError)?.kind, .poolClosed) }
    }
}
