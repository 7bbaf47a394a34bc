internal import ArgumentParser
internal import Foundation
internal import Simulator

/// `hanse simulate`: runs the deterministic consensus simulator over a range of seeds (a soak), or
/// one seed with its details. A failing seed is printed with how to reproduce it.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the consensus simulator: safety and liveness under drops, partitions, crashes and Byzantine validators.")

    @Option(help: "Run only this seed and print its details.") var seed: UInt64?
    @Option(help: "First seed of the range.") var from: UInt64 = 0
    @Option(help: "Seeds to run.") var seeds: UInt64 = 1000
    @Option(help: "Print a progress line every this many seeds.") var progress: UInt64 = 100

    func validate() throws {
        guard seeds >= 1, progress >= 1 else { throw ValidationError("--seeds and --progress must be at least 1") }
    }

    func run() throws {
        if let seed {
            let result = Simulation(seed: seed, options: .random(seed: seed)).run()
            print(result.summary)
            for line in result.finalStates { print("  \(line)") }
            if !result.violations.isEmpty { throw ExitCode(1) }
            return
        }
        let clock = ContinuousClock()
        let start = clock.now
        var failed: [UInt64] = []
        var ticks: UInt64 = 0
        for (done, seed) in (from..<from + seeds).enumerated() {
            let result = Simulation(seed: seed, options: .random(seed: seed)).run()
            ticks += result.ticks
            if !result.violations.isEmpty {
                failed.append(seed)
                print(result.summary)
            }
            if UInt64(done + 1) % progress == 0 || UInt64(done + 1) == seeds {
                let elapsed = (clock.now - start).secondsDouble
                print(String(format: "%llu/%llu seeds, %d failed, %.1f s, %.0f seeds/s", UInt64(done + 1), seeds, failed.count, elapsed, Double(done + 1) / elapsed))
            }
        }
        print("simulated \(seeds) seeds (\(ticks) ticks); \(failed.isEmpty ? "all passed" : "failing: \(failed.map(String.init).joined(separator: " "))")")
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
