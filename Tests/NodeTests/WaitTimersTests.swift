// The shared timer of request waits: never early, none lost, whatever the order of scheduling,
// empty once everything has run, and working again after it went idle.
import Dispatch
import Foundation
@testable import Node
import Synchronization
import XCTest

final class WaitTimersTests: XCTestCase {
    func testWaitsEndNeverEarlyNoneLostAndTheTimerRestartsAfterIdling() {
        let timers = WaitTimers()
        let start = DispatchTime.now().uptimeNanoseconds
        let ended = Mutex<[(Int, UInt64)]>([])
        let group = DispatchGroup()
        // Scheduled out of order, some in the same slot, one with no delay.
        let delays = [120, 30, 30, 0, 75, 31, 200, 5]
        for (index, milliseconds) in delays.enumerated() {
            group.enter()
            timers.schedule(after: .milliseconds(milliseconds)) {
                ended.withLock { $0.append((index, DispatchTime.now().uptimeNanoseconds - start)) }
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 5), .success)
        let results = ended.withLock { $0 }
        XCTAssertEqual(results.count, delays.count)
        for (index, elapsed) in results {
            let wanted = UInt64(delays[index]) * 1_000_000
            XCTAssertGreaterThanOrEqual(elapsed, wanted, "wait \(index) ended early")
            // Generous: a loaded CI machine delays timers; the point is that none is lost or hours late.
            XCTAssertLessThan(elapsed, wanted + 1_000_000_000, "wait \(index) ended \(elapsed / 1_000_000) ms after its start")
        }
        XCTAssertEqual(timers.count, 0)

        // And again after it went idle.
        let again = DispatchSemaphore(value: 0)
        timers.schedule(after: .milliseconds(10)) { again.signal() }
        XCTAssertEqual(again.wait(timeout: .now() + 5), .success)
    }
}
