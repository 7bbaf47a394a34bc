// The batched committed-id check: concurrent callers share queries, each gets its own answer,
// errors reach every caller of the failed batch, and a lone caller is answered at once.
@testable import Node
import Dispatch
import Synchronization
import XCTest

final class BatchedLookupTests: XCTestCase {
    struct Unavailable: Error {}

    func testConcurrentCallersShareQueriesAndGetTheirOwnAnswers() throws {
        let present: Set<[UInt8]> = Set((0..<100).map { [UInt8($0), 1] })
        let batches = Mutex<[Int]>([])
        let lookup = BatchedLookup(batchMax: 16) { ids in
            batches.withLock { $0.append(ids.count) }
            usleep(2_000)  // a query's round trip, so that callers pile up behind it
            return present.intersection(ids)
        }
        let wrong = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 400) { index in
            let id: [UInt8] = [UInt8(index % 200), 1]
            if (try? lookup.contains(id)) != present.contains(id) { wrong.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(wrong.load(ordering: .relaxed), 0)
        let sizes = batches.withLock { $0 }
        XCTAssertEqual(sizes.reduce(0, +), 400, "every caller is in exactly one batch")
        XCTAssertEqual(sizes.count, lookup.queryCount)
        XCTAssertLessThanOrEqual(sizes.max() ?? 0, 16)
        XCTAssertGreaterThan(sizes.max() ?? 0, 1, "callers that arrive during a query share the next one")
    }

    func testALoneCallerIsAnsweredAtOnceAndErrorsReachTheWholeBatch() throws {
        let fail = Atomic<Bool>(false)
        let lookup = BatchedLookup { ids in
            if fail.load(ordering: .relaxed) { throw Unavailable() }
            return Set(ids.filter { $0.first == 7 })
        }
        XCTAssertTrue(try lookup.contains([7]))
        XCTAssertFalse(try lookup.contains([8]))
        XCTAssertEqual(lookup.queryCount, 2)
        fail.store(true, ordering: .relaxed)
        let errors = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 50) { _ in
            do { _ = try lookup.contains([7]) } catch { errors.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(errors.load(ordering: .relaxed), 50)
        fail.store(false, ordering: .relaxed)
        XCTAssertTrue(try lookup.contains([7]), "a failed batch leaves the lookup usable")
    }
}
