// The consensus state machine under the deterministic simulator: a thousand seeds, each a
// different mix of validator count, Byzantine validators, drops, duplicates, delays, partitions
// and crash-restarts, must keep safety and reach the target height after the network heals.
// A failing seed prints itself; kept failures are replayed from regression-seeds.txt.
import Consensus
import Foundation
import HanseCore
import Simulator
import XCTest

final class SimulatorTests: XCTestCase {
    private func check(_ seeds: some Sequence<UInt64>, options: (UInt64) -> SimulationOptions = SimulationOptions.random(seed:)) {
        var failures: [String] = []
        for seed in seeds {
            let result = Simulation(seed: seed, options: options(seed)).run()
            if !result.violations.isEmpty { failures.append(result.summary + "\n  " + result.finalStates.joined(separator: "\n  ")) }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) failing seeds:\n" + failures.prefix(10).joined(separator: "\n"))
    }

    func testAThousandSeeds() {
        check(0..<1000)
    }

    func testRegressionSeeds() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("regression-seeds.txt")
        let seeds = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.compactMap { UInt64($0.split(separator: " ").first ?? "") }
        XCTAssertFalse(seeds.isEmpty)
        check(seeds)
    }

    func testAReliableNetworkDecidesEveryHeightQuickly() {
        var options = SimulationOptions()
        options.validators = 4
        options.healAt = 0
        options.heights = 20
        let result = Simulation(seed: 1, options: options).run()
        XCTAssertEqual(result.violations, [])
        XCTAssertEqual(Set(result.heights.values), [20])
        XCTAssertLessThan(result.ticks, 200, "no timeouts needed when every message arrives")
    }

    func testMaximumByzantineValidatorsWithFaults() {
        check(5000..<5050) { seed in
            var options = SimulationOptions.random(seed: seed)
            options.validators = 7
            options.byzantine = 2
            return options
        }
    }
}
