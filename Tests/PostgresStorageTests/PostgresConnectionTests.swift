// Queries, typed decoding, errors, statement timeouts, transactions with retry and COPY against
// a real PostgreSQL. Serialization failures are produced both by a real conflict between two
// serializable transactions and by raising SQLSTATE 40001 directly.
import Dispatch
import Foundation
import HanseTesting
@testable import PostgresStorage
import Synchronization
import XCTest

final class PostgresConnectionTests: XCTestCase {
    nonisolated(unsafe) static var database: (name: String, conninfo: String)!

    override class func setUp() {
        database = try! TestCluster.shared.makeDatabase("connection")
    }

    override class func tearDown() {
        try? TestCluster.shared.dropDatabase(database.name)
    }

    private func makePool(max: Int = 4) -> PostgresPool {
        var configuration = PostgresPoolConfiguration(conninfo: Self.database.conninfo)
        configuration.connectionsMax = max
        return PostgresPool(configuration: configuration)
    }

    /// The array literals that batch statements pass as one parameter come back element for element.
    func testArrayLiteralsRoundTripAwkwardValues() throws {
        let connection = try PostgresConnection(conninfo: Self.database.conninfo)
        let texts = ["", "plain", "quote \" inside", "back\\slash", "\\\"", "{braces}, commas", "NULL", " spaced ", "ü → 漢字", "tab\tnew\nline"]
        let rows = try connection.query(sql: "SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i", name: "test.text_array",
                                        [.text(arrayLiteral(texts))]).rows
        XCTAssertEqual(try rows.map { try $0.decode(String.self, column: 0) }, texts)
        let blobs: [[UInt8]] = [[], [0], [0x5C, 0x22, 0x7B, 0x7D, 0x2C], Array(0...255), [0xFF]]
        let back = try connection.query(sql: "SELECT v FROM unnest($1::bytea[]) WITH ORDINALITY AS t(v, i) ORDER BY i", name: "test.bytea_array",
                                        [.text(byteaArrayLiteral(blobs))]).rows
        XCTAssertEqual(try back.map { try $0.decode([UInt8].self, column: 0) }, blobs)
        XCTAssertEqual(arrayLiteral([]), "{}")
        XCTAssertEqual(byteaArrayLiteral([[0xAB]]), #"{"\\xab"}"#)
    }

    func testParametersRoundTripThroughEveryType() throws {
        let connection = try PostgresConnection(conninfo: Self.database.conninfo)
        let statement = PostgresStatement("test.roundtrip", "SELECT $1::text, $2::bigint, $3::boolean, $4::float8, $5::bytea, $6::text")
        let bytes: [UInt8] = [0, 1, 2, 0xFF, 0x5C, 0x0A]
        let text = "tab\there, quote ' \" backslash \\ and ü"
        let row = try connection.query(statement, [.text(text), .int(Int64.min), .bool(true), .double(2.5), .bytea(bytes), .null]).first!
        XCTAssertEqual(try row.decode(String.self, column: 0), text)
        XCTAssertEqual(try row.decode(Int64.self, column: 1), Int64.min)
        XCTAssertEqual(try row.decode(Bool.self, column: 2), true)
        XCTAssertEqual(try row.decode(Double.self, column: 3), 2.5)
        XCTAssertEqual(try row.decode([UInt8].self, column: 4), bytes)
        XCTAssertEqual(try row.decode(String?.self, column: 5), nil)
        // Prepared once, executed again by name.
        let again = try connection.query(statement, [.text("x"), .int(1), .bool(false), .double(0), .bytea([]), .text("y")]).first!
        XCTAssertEqual(try again.decode(String?.self, column: 5), "y")
        XCTAssertEqual(try again.decode([UInt8].self, column: 4), [])
    }

    func testDecodingErrorsNameTheColumnAndType() throws {
        let connection = try PostgresConnection(conninfo: Self.database.conninfo)
        let row = try connection.query(sql: "SELECT 'abc'::text AS word, NULL::int AS missing", name: "test.decode").first!
        XCTAssertThrowsError(try row.decode(Int.self, "word")) { error in
            XCTAssertEqual("\(error)", "postgres decoding error in statement test.decode: column word: got 'abc', want Int")
        }
        XCTAssertThrowsError(try row.decode(Int.self, "missing")) { XCTAssertTrue("\($0)".contains("got NULL")) }
        XCTAssertThrowsError(try row.decode(Int.self, "nope")) { XCTAssertTrue("\($0)".contains("no column named nope")) }
    }

    func testServerErrorsCarrySQLStateMessageAndStatementName() throws {
        let connection = try PostgresConnection(conninfo: Self.database.conninfo)
        try connection.execute("CREATE TABLE unique_things (id int PRIMARY KEY)", name: "test.create")
        let insert = PostgresStatement("things.insert", "INSERT INTO unique_things (id) VALUES ($1)")
        try connection.query(insert, [.int(1)])
        XCTAssertThrowsError(try connection.query(insert, [.int(1)])) { error in
            let error = error as! PostgresError
            XCTAssertEqual(error.sqlState, "23505")
            XCTAssertTrue(error.isUniqueViolation)
            XCTAssertEqual(error.statement, "things.insert")
            XCTAssertTrue(error.message.contains("duplicate key"), error.message)
        }
        XCTAssertThrowsError(try connection.query(sql: "SELEKT 1", name: "test.typo")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42601")
        }
    }

    func testStatementTimeoutCancelsARunawayQuery() throws {
        let connection = try PostgresConnection(conninfo: Self.database.conninfo, statementTimeout: .milliseconds(200))
        let start = ContinuousClock.now
        XCTAssertThrowsError(try connection.query(sql: "SELECT pg_sleep(5)", name: "test.sleep")) { error in
            let error = error as! PostgresError
            XCTAssertTrue(error.isStatementTimeout, "\(error)")
            XCTAssertEqual(error.statement, "test.sleep")
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        XCTAssertFalse(connection.isBroken, "a cancelled statement leaves the connection usable")
        XCTAssertEqual(try connection.query(sql: "SELECT 1", name: "test.after").first?.decode(Int.self, column: 0), 1)
    }

    func testTransactionRollsBackWhenTheBodyThrows() throws {
        let pool = makePool()
        try pool.withConnection { try $0.execute("CREATE TABLE tx_rollback (v int)", name: "test.create") }
        struct Boom: Error {}
        XCTAssertThrowsError(try pool.transaction { connection in
            try connection.query(sql: "INSERT INTO tx_rollback VALUES (1)", name: "test.insert")
            throw Boom()
        })
        let count = try pool.withConnection {
            try $0.query(sql: "SELECT count(*) FROM tx_rollback", name: "test.count").first!.decode(Int.self, column: 0)
        }
        XCTAssertEqual(count, 0)
    }

    func testRaisedSerializationFailureIsRetriedOnlyWhenSafe() throws {
        let pool = makePool()
        let attempts = Mutex(0)
        let raise = "DO $$ BEGIN RAISE EXCEPTION 'simulated conflict' USING ERRCODE = '40001'; END $$"
        let value = try pool.transaction(.serializable, retry: .safeToRetry) { connection -> Int in
            let attempt = attempts.withLock { $0 += 1; return $0 }
            if attempt < 3 { try connection.execute(raise, name: "test.raise") }
            return attempt
        }
        XCTAssertEqual(value, 3)
        XCTAssertEqual(pool.statistics.transactionRetries, 2)

        attempts.withLock { $0 = 0 }
        XCTAssertThrowsError(try pool.transaction(.serializable, retry: .never) { connection in
            attempts.withLock { $0 += 1 }
            try connection.execute(raise, name: "test.raise")
        }) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, "40001") }
        XCTAssertEqual(attempts.withLock { $0 }, 1)
    }

    func testRealSerializationConflictIsRetriedAndBothCommit() throws {
        let pool = makePool()
        try pool.withConnection { try $0.execute("CREATE TABLE ledger_totals (total int NOT NULL); INSERT INTO ledger_totals VALUES (0)", name: "test.create") }
        // Both transactions read the total, wait for each other, then write: under SERIALIZABLE one
        // of them must fail with 40001 and, when retried, see the other's write.
        let bothRead = DispatchGroup()
        bothRead.enter(); bothRead.enter()
        let firstAttempt = Mutex([true, true])
        let errors = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            do {
                try pool.transaction(.serializable, retry: .safeToRetry) { connection in
                    let total = try connection.query(sql: "SELECT total FROM ledger_totals", name: "test.read").first!.decode(Int.self, column: 0)
                    if firstAttempt.withLock({ let first = $0[worker]; $0[worker] = false; return first }) {
                        bothRead.leave()
                        _ = bothRead.wait(timeout: .now() + 5)
                    }
                    try connection.query(sql: "UPDATE ledger_totals SET total = $1", name: "test.write", [.int(total + 1)])
                }
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        XCTAssertEqual(errors.withLock { $0 }, [])
        XCTAssertGreaterThanOrEqual(pool.statistics.transactionRetries, 1)
        let total = try pool.withConnection {
            try $0.query(sql: "SELECT total FROM ledger_totals", name: "test.total").first!.decode(Int.self, column: 0)
        }
        XCTAssertEqual(total, 2, "no lost update")
    }

    func testConnectionsRunWithoutJIT() throws {
        let pool = makePool()
        let setting = try pool.withConnection { try $0.query(sql: "SHOW jit", name: "test.jit").first!.decode(String.self, column: 0) }
        XCTAssertEqual(setting, "off")
    }

    func testCopyLoadsOneHundredThousandRowsExactly() throws {
        let pool = makePool()
        try pool.withConnection {
            try $0.execute("CREATE TABLE copied (id bigint PRIMARY KEY, note text, flag boolean, blob bytea)", name: "test.create")
        }
        let count = 100_000
        let rows = (0..<count).lazy.map { index -> [PostgresValue] in
            let note: PostgresValue = index % 10 == 0 ? .null : .text("row \(index)\twith\ttabs\nnewline \\ backslash")
            return [.int(index), note, .bool(index % 2 == 0), .bytea([UInt8(index & 0xFF), 0x5C, 0x0A])]
        }
        let columns: [PostgresColumn] = [.init("id", .int8), .init("note", .text), .init("flag", .bool), .init("blob", .bytea)]
        let copied = try pool.transaction { try $0.copy(into: "copied", columns: columns, rows: rows) }
        XCTAssertEqual(copied, count)
        try pool.withConnection { connection in
            let summary = try connection.query(sql: "SELECT count(*), sum(id), count(note), count(*) FILTER (WHERE flag) FROM copied", name: "test.summary").first!
            XCTAssertEqual(try summary.decode(Int.self, column: 0), count)
            XCTAssertEqual(try summary.decode(Int.self, column: 1), count * (count - 1) / 2)
            XCTAssertEqual(try summary.decode(Int.self, column: 2), count - count / 10)
            XCTAssertEqual(try summary.decode(Int.self, column: 3), count / 2)
            let sample = try connection.query(sql: "SELECT note, blob FROM copied WHERE id = 12345", name: "test.sample").first!
            XCTAssertEqual(try sample.decode(String.self, column: 0), "row 12345\twith\ttabs\nnewline \\ backslash")
            XCTAssertEqual(try sample.decode([UInt8].self, column: 1), [UInt8(12345 & 0xFF), 0x5C, 0x0A])
        }
    }

    func testCopyWithAMalformedRowStoresNothing() throws {
        let pool = makePool()
        try pool.withConnection { try $0.execute("CREATE TABLE copy_bad (a int, b int)", name: "test.create") }
        let columns: [PostgresColumn] = [.init("a", .int4), .init("b", .int4)]
        let bad: [(rows: [[PostgresValue]], message: String)] = [
            ([[.int(1), .int(2)], [.int(3)]], "want 2"),
            ([[.int(1), .int(2)], [.int(3), .text("4")]], "column b (integer) is of another type: text"),
            ([[.int(1), .int(2)], [.int(Int64(Int32.max) + 1), .int(4)]], "does not fit column a"),
        ]
        for (rows, message) in bad {
            XCTAssertThrowsError(try pool.withConnection { try $0.copy(into: "copy_bad", columns: columns, rows: rows) }) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
        // Columns named with the wrong type: PostgreSQL refuses the binary value.
        XCTAssertThrowsError(try pool.withConnection {
            try $0.copy(into: "copy_bad", columns: [.init("a", .int8), .init("b", .int4)], rows: [[.int(1), .int(2)]])
        })
        let count = try pool.withConnection {
            try $0.query(sql: "SELECT count(*) FROM copy_bad", name: "test.count").first!.decode(Int.self, column: 0)
        }
        XCTAssertEqual(count, 0)
        // The connection is usable after each refused COPY.
        XCTAssertEqual(try pool.withConnection { try $0.copy(into: "copy_bad", columns: columns, rows: [[.int(5), .null]]) }, 1)
    }

    /// Every column kind in binary form, at its edges: integers at their limits, text with
    /// multi-byte characters and the bytes text COPY escapes, empty values beside NULLs, and a
    /// value larger than one chunk sent to libpq.
    func testBinaryCopyKeepsEveryValueExactly() throws {
        let pool = makePool()
        try pool.withConnection {
            try $0.execute("""
                CREATE TABLE copy_kinds (n int, s smallint, i integer, b bigint, t text, y bytea, f boolean, d double precision)
                """, name: "test.create")
        }
        let columns: [PostgresColumn] = [.init("n", .int4), .init("s", .int2), .init("i", .int4), .init("b", .int8),
                                         .init("t", .text), .init("y", .bytea), .init("f", .bool), .init("d", .float8)]
        let big = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let rows: [[PostgresValue]] = [
            [.int(0), .int(Int64(Int16.min)), .int(Int64(Int32.min)), .int(Int64.min), .text(""), .bytea([]), .bool(false), .double(-0.5)],
            [.int(1), .int(Int64(Int16.max)), .int(Int64(Int32.max)), .int(Int64.max), .text("Grüße, 世界 \\ \t \n \r"), .bytea([0, 0x5C, 0x0A, 0xFF]),
             .bool(true), .double(1e300)],
            [.int(2), .null, .null, .null, .null, .null, .null, .null],
            [.int(3), .int(-1), .int(-1), .int(-1), .text("x"), .bytea(big), .bool(true), .double(3.25)],
        ]
        XCTAssertEqual(try pool.transaction { try $0.copy(into: "copy_kinds", columns: columns, rows: rows) }, 4)
        try pool.withConnection { connection in
            let stored = try connection.query(sql: "SELECT s, i, b, t, y, f, d FROM copy_kinds ORDER BY n", name: "test.read").rows
            XCTAssertEqual(stored.count, 4)
            XCTAssertEqual(try stored[0].decode(Int.self, column: 0), Int(Int16.min))
            XCTAssertEqual(try stored[0].decode(Int.self, column: 1), Int(Int32.min))
            XCTAssertEqual(try stored[0].decode(Int64.self, column: 2), Int64.min)
            XCTAssertEqual(try stored[0].decode(String.self, column: 3), "")
            XCTAssertEqual(try stored[0].decode([UInt8].self, column: 4), [])
            XCTAssertEqual(try stored[0].decode(Bool.self, column: 5), false)
            XCTAssertEqual(try stored[0].decode(Double.self, column: 6), -0.5)
            XCTAssertEqual(try stored[1].decode(Int.self, column: 0), Int(Int16.max))
            XCTAssertEqual(try stored[1].decode(Int64.self, column: 2), Int64.max)
            XCTAssertEqual(try stored[1].decode(String.self, column: 3), "Grüße, 世界 \\ \t \n \r")
            XCTAssertEqual(try stored[1].decode([UInt8].self, column: 4), [0, 0x5C, 0x0A, 0xFF])
            XCTAssertEqual(try stored[1].decode(Double.self, column: 6), 1e300)
            for column in 0..<7 { XCTAssertNil(try stored[2].decode(String?.self, column: column), "column \(column) is NULL") }
            XCTAssertEqual(try stored[3].decode([UInt8].self, column: 4), big)
        }
    }
}
