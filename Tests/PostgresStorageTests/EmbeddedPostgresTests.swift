// The embedded PostgreSQL launcher on a cluster of its own (not the shared test cluster): first
// start, stop and start with the data kept, recovery after kill -9 of the postmaster, adopting a
// server that is still running, and the error for missing server programs.
import Foundation
import HanseTesting
import Logging
import PostgresStorage
import XCTest

final class EmbeddedPostgresTests: XCTestCase {
    func testStartStopRestartAndRecoverAfterKill9() throws {
        let directory = try TestCluster.shared.makeDirectory("embedded")
        let root = directory.appendingPathComponent("postgres")
        var logger = Logger(label: "test.embedded")
        logger.logLevel = .warning
        let cluster = try EmbeddedPostgres(root: root, logger: logger)
        defer { try? cluster.stop() }

        let conninfo = try cluster.start()
        try PostgresConnection(conninfo: conninfo).execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before stop')", name: "test.seed")
        try cluster.stop()
        XCTAssertNil(cluster.runningPID)

        try EmbeddedPostgres(root: root, logger: logger).start()
        let connection = try PostgresConnection(conninfo: conninfo)
        try connection.execute("INSERT INTO kept VALUES ('before kill')", name: "test.insert")
        let pid = try XCTUnwrap(cluster.runningPID)

        // A new launcher finds the running server and adopts it instead of starting a second one.
        try EmbeddedPostgres(root: root, logger: logger).start()
        XCTAssertEqual(cluster.runningPID, pid)

        kill(pid, SIGKILL)
        for _ in 0..<200 where kill(pid, 0) == 0 { usleep(10_000) }
        XCTAssertNil(cluster.runningPID, "the pid file now names a dead process")
        try EmbeddedPostgres(root: root, logger: logger).start()
        let rows = try PostgresConnection(conninfo: conninfo).query(sql: "SELECT string_agg(v, ',' ORDER BY v) FROM kept", name: "test.read")
        XCTAssertEqual(try rows.first?.decode(String.self, column: 0), "before kill,before stop")
        XCTAssertNotEqual(cluster.runningPID, pid)
    }

    func testMissingServerProgramsNameTheDebianPackage() throws {
        let logger = Logger(label: "test.embedded")
        XCTAssertThrowsError(try EmbeddedPostgres(root: URL(fileURLWithPath: "/tmp/unused"), logger: logger,
                                                  environment: ["HANSE_PG_BINDIR": "/nonexistent/bin"])) { error in
            XCTAssertTrue("\(error)".contains("Debian package 'postgresql'"), "\(error)")
        }
    }
}
