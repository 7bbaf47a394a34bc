// The Bloom filter of committed ids: never a false "no", few false "maybe"s, bounded memory, as it
// grows through several layers; ids that are not digests still work.
import Crypto
@testable import Node
import XCTest

final class CommittedIDFilterTests: XCTestCase {
    func testNoFalseNegativesAndFewFalsePositivesAcrossLayers() {
        var filter = CommittedIDFilter(initialCapacity: 1000)
        // 60,000 ids through a first layer of 1,000: six layers.
        let inserted = (0..<60_000).map { SHA256.hash(Array("committed \($0)".utf8)) }
        for id in inserted { filter.insert(id) }
        XCTAssertEqual(filter.count, 60_000)
        XCTAssertTrue(inserted.allSatisfy { filter.mayContain($0) }, "a committed id was reported as certainly absent")

        let fresh = (0..<50_000).map { SHA256.hash(Array("never committed \($0)".utf8)) }
        let falsePositives = fresh.filter { filter.mayContain($0) }.count
        XCTAssertLessThan(Double(falsePositives) / Double(fresh.count), 0.03, "\(falsePositives) false positives in 50,000")
        XCTAssertGreaterThan(falsePositives, 0, "a filter this full has some false positives; none means it is not testing ids")
        XCTAssertLessThan(Double(filter.bytes) / Double(filter.count), 2.0, "\(filter.bytes) bytes for \(filter.count) ids")
    }

    func testAnEmptyFilterHoldsNothingAndShortIdsAreHashed() {
        var filter = CommittedIDFilter()
        XCTAssertFalse(filter.mayContain(SHA256.hash([1])))
        let short = (0..<2_000).map { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8), 7] }
        for id in short { filter.insert(id) }
        XCTAssertTrue(short.allSatisfy { filter.mayContain($0) })
        let others = (0..<2_000).map { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8), 8] }
        XCTAssertLessThan(others.filter { filter.mayContain($0) }.count, 100)
    }
}
