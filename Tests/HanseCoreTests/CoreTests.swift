// Tests of the core helpers: hex round trips against fixed strings, limit relations, the seeded
// generator's determinism.
import Foundation
import HanseCore
import XCTest

final class CoreTests: XCTestCase {
    func testHexRoundTrip() {
        XCTAssertEqual(Hex.encode([0x00, 0xAB, 0xFF]), "00abff")
        XCTAssertEqual(Hex.decode("00AbfF"), [0x00, 0xAB, 0xFF])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        // Every byte value, from an array, a slice and a sequence that does not know its length.
        let all = (0...255).map { UInt8($0) }
        let expected = all.map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(Hex.encode(all), expected)
        XCTAssertEqual(Hex.encode(all[16...]), String(expected.dropFirst(32)))
        var next: UInt8 = 0
        let unsized = AnySequence { AnyIterator { () -> UInt8? in
            defer { next &+= 1 }
            return next == 255 ? nil : next
        } }
        XCTAssertEqual(unsized.underestimatedCount, 0)
        XCTAssertEqual(Hex.encode(unsized), String(expected.dropLast(2)))
        XCTAssertEqual(Hex.encode([UInt8]()), "")
        XCTAssertEqual(Hex.decode(expected), all)
    }

    func testDefaultLimitsAreValidAndBrokenOnesNamed() {
        XCTAssertNil(Limits().validate())
        var limits = Limits()
        limits.databaseConnectionsMax = 0
        XCTAssertEqual(limits.validate(), "databaseConnectionsMax must be at least 1, got 0")

        limits = Limits()
        limits.contractCodeBytesMax = 1 << 20
        XCTAssertEqual(limits.validate(), "systemArgsBytesMax (737280) must hold contractCodeBytesMax (1048576) in base64 plus 1 KiB")
        limits = Limits()
        limits.blockTransactionsMax = limits.mempoolTransactionsMax + 1
        XCTAssertEqual(limits.validate(), "blockTransactionsMax (50001) must be 1 to mempoolTransactionsMax (50000)")
        limits = Limits()
        limits.consensusTick = .zero
        XCTAssertEqual(limits.validate(), "consensusTick must be positive")
        limits = Limits()
        limits.contractWarmInstancesPerModule = -1
        XCTAssertEqual(limits.validate(), "contractWarmInstancesPerModule must be 0 to 64, got -1")
        limits = Limits()
        limits.contractWarmInstanceBytesMax = -1
        XCTAssertEqual(limits.validate(), "contractWarmInstanceBytesMax must not be negative")
    }

    func testSeededRandomIsReproducible() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let first = (0..<4).map { _ in a.next() }
        XCTAssertEqual(first, (0..<4).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<4).map { _ in c.next() })
    }

    func testDurationConversions() {
        XCTAssertEqual(Duration.milliseconds(1500).wholeMilliseconds, 1500)
        XCTAssertEqual(Duration.seconds(2).secondsDouble, 2.0, accuracy: 1e-9)
    }
}
