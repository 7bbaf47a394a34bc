internal import API
internal import ArgumentParser
internal import Crypto
internal import Dispatch
internal import Foundation
internal import Glibc
internal import HanseCore
internal import Node
internal import Storage

/// `hanse bench idle`: what idle chains cost. Provisions N solo chains in this process (each with
/// its schema, keys, genesis block and worker), then measures the process's CPU time and resident
/// memory over a quiet period. Idle workers run no timer, so the CPU should stay near zero.
struct IdleBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "idle", abstract: "CPU and memory of N idle chains on one node.")

    @Option(help: "Chains to provision.") var chains = 1_000
    @Option(help: "Seconds of idleness measured.") var seconds = 30
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...10_000).contains(chains) else { throw ValidationError("--chains must be in 1...10000") }
        guard (1...3_600).contains(seconds) else { throw ValidationError("--seconds must be in 1...3600") }
    }

    func run() throws {
        try database.withDatabase(logging: logging, label: "hanse.bench") { handle in
            let (platform, _) = try handle.benchPlatform()
            defer { platform.stop() }
            let baseline = Self.usage()
            print("hanse bench idle: \(chains) solo chains, then \(seconds) s idle; process RSS before: \(baseline.rssKiB / 1024) MiB")
            let tenant = try platform.createTenant(try RequestContext.decodeJSON(CreateTenantRequest.self, from: Array(
                #"{"name":"idle-\#(Int(Date().timeIntervalSince1970))","quotas":{"chains":10000,"tx_per_second":1000,"storage_bytes":1099511627776}}"#.utf8)))
            let clock = ContinuousClock()
            let start = clock.now
            var operations: [String] = []
            for index in 0..<chains {
                let request = try RequestContext.decodeJSON(CreateChainRequest.self, from: Array(#"{"name":"idle-\#(index)","consensus":"solo"}"#.utf8))
                operations.append(try platform.provisionChain(tenant: tenant.id, request).id)
                // Keep a bounded number in flight.
                if operations.count >= 8 {
                    try wait(platform, tenant: tenant.id, operations.removeFirst())
                }
                if (index + 1) % 100 == 0 {
                    print(String(format: "  … %d chains provisioned, %.1f s", index + 1, (clock.now - start).secondsDouble))
                }
            }
            for operation in operations { try wait(platform, tenant: tenant.id, operation) }
            print(String(format: "  provisioned %d chains in %.1f s; running workers: %d", chains, (clock.now - start).secondsDouble, platform.runningChains))
            Thread.sleep(forTimeInterval: 2)
            let before = Self.usage()
            Thread.sleep(forTimeInterval: Double(seconds))
            let after = Self.usage()
            let cpu = after.cpuSeconds - before.cpuSeconds
            print(String(format: "  idle %d s: process CPU %.3f s (%.2f %% of one core), RSS %d MiB (%.1f KiB per chain above the empty process), threads %d",
                         seconds, cpu, cpu / Double(seconds) * 100, after.rssKiB / 1024,
                         Double(after.rssKiB - baseline.rssKiB) / Double(chains), after.threads))
        }
    }

    private func wait(_ platform: Platform, tenant: String, _ operation: String) throws {
        for _ in 0..<1_200 {
            let state = try platform.operation(tenant: tenant, id: operation)
            if state.status == "succeeded" { return }
            if state.status == "failed" { throw ValidationError("provisioning failed: \(state.error ?? "")") }
            usleep(25_000)
        }
        throw ValidationError("provisioning did not finish in 30 s")
    }

    /// CPU seconds (user + system) of this process, its resident memory and thread count.
    static func usage() -> (cpuSeconds: Double, rssKiB: Int, threads: Int) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") } ?? 0
        }
        return (cpu, field("VmRSS:"), field("Threads:"))
    }
}
