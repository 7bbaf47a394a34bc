internal import ArgumentParser
internal import Contracts
internal import Crypto
internal import Foundation
internal import HanseCore
internal import Ledger
internal import WAT

/// `hanse bench contracts`: contract calls per second through the executor (validation, module
/// cache, warm instances or a fresh store per call, host calls, overlays), for a small
/// state-writing method and for a token transfer built with the Embedded Swift or C SDK, each
/// measured with warm instances (the default) and with a fresh store for every call. State is in
/// memory and the envelopes are signed before the clock starts, so the figures are execution alone.
struct ContractBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contracts", abstract: "Contract calls/s: a small state-writing method, and a token transfer.")

    @Option(help: "Calls per measurement.") var calls = 20_000
    @Option(help: "Transactions per block.") var block = 500
    @Option(help: "The token contract (points example); built with contracts/build.sh when missing.")
    var token = "contracts/examples/points/points.wasm"

    func validate() throws {
        guard (1...10_000_000).contains(calls) else { throw ValidationError("--calls must be in 1...10000000") }
        guard (1...100_000).contains(block) else { throw ValidationError("--block must be in 1...100000") }
    }

    /// The small state-writing method: `put` stores the args under a key derived from their first
    /// bytes (one state_set), like a notarisation.
    static let writer = """
    (module
      (import "hanse" "args" (func $args (param i32 i32) (result i32)))
      (import "hanse" "state_set" (func $set (param i32 i32 i32 i32)))
      (memory (export "memory") 1 1)
      (func (export "put")
        (local $n i32)
        (local.set $n (call $args (i32.const 0) (i32.const 1024)))
        (call $set (i32.const 0) (i32.const 16) (i32.const 0) (local.get $n))))
    """

    func run() throws {
        let admin = try PrivateKey.generate(.ed25519)
        print("hanse bench contracts: \(calls) calls per measurement, \(block) per block, \(ProcessInfo.processInfo.activeProcessorCount) cores")

        // 1. The small state-writing method.
        let writerCode = try wat2wasm(Self.writer)
        for warm in [true, false] {
            try measure(name: "put (one 64-byte state write)", warm: warm, code: writerCode, admin: admin, setup: []) { index in
                ("put", #"{"doc":"\#(String(format: "%016x", index))","hash":"\#(String(repeating: "ab", count: 16))"}"#)
            }
        }

        // 2. A token transfer through the SDK-built points contract.
        let tokenCode = try loadToken()
        let holders = try (0..<100).map { _ in try PrivateKey.generate(.ed25519) }
        let addresses = holders.map { TransactionEnvelope.address(algorithm: $0.algorithm, publicKey: $0.publicKey.raw) }
        let mints = addresses.map { ("mint", #"{"to":"\#($0)","amount":1000000000}"#, admin) }
        for warm in [true, false] {
            try measure(name: "token transfer (points, JSON args, 2 reads + 2 writes + event)", warm: warm, code: tokenCode, admin: admin,
                        setup: mints, signers: holders) { index in
                ("transfer", #"{"to":"\#(addresses[(index + 1) % addresses.count])","amount":\#(1 + index % 7)}"#)
            }
        }
    }

    private func loadToken() throws -> [UInt8] {
        if !FileManager.default.fileExists(atPath: token) {
            print("building \(token) with contracts/build.sh ...")
            let source = URL(fileURLWithPath: token).deletingPathExtension().path
            let candidates = [source + ".swift", source + ".c"].filter { FileManager.default.fileExists(atPath: $0) }
            guard let input = candidates.first else { throw ValidationError("\(token) is missing and no .swift or .c source sits beside it") }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["contracts/build.sh", input, token]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ValidationError("contracts/build.sh failed for \(input)") }
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: token)))
    }

    /// Deploys `code`, runs `setup` calls, then times `calls` calls of `call(index)` in blocks.
    /// `warm`: warm instances as in production; otherwise a fresh store for every call.
    private func measure(name: String, warm: Bool, code: [UInt8], admin: PrivateKey, setup: [(String, String, PrivateKey)],
                         signers: [PrivateKey]? = nil, call: (Int) -> (String, String)) throws {
        let adminAddress = TransactionEnvelope.address(algorithm: admin.algorithm, publicKey: admin.publicKey.raw)
        var limits = Limits()
        if !warm { limits.contractWarmInstancesPerModule = 0 }
        let runtime = ContractRuntime(limits: limits)
        let executor = ContractExecutor(runtime: runtime, rules: ChainRules(admins: [adminAddress], access: .open))
        let state = MemoryWorldState()
        var height: UInt64 = 1
        func envelope(_ contract: String, _ method: String, _ args: String, _ signer: PrivateKey) throws -> TransactionEnvelope {
            var envelope = TransactionEnvelope(chainID: "bench", contract: contract, method: method, args: Array(args.utf8),
                                               nonce: SecureRandom().bytes(16), validUntil: .height(UInt64.max), gasLimit: 1_000_000_000,
                                               algorithm: signer.algorithm, signer: [])
            try envelope.sign(with: signer)
            return envelope
        }
        func execute(_ envelopes: [TransactionEnvelope]) throws -> [ExecutedTransaction] {
            let executed = try executor.execute(envelopes, in: BlockContext(chainID: "bench", height: height, timestampMilliseconds: 1_795_219_200_000 + height), state: state)
            state.apply(executed)
            height += 1
            return executed
        }
        let deploy = try execute([try envelope("_system", "deploy", #"{"name":"c","version":"1","code":"\#(Data(code).base64EncodedString())"}"#, admin)])[0]
        guard deploy.receipt.status == .committed else { throw ValidationError("deploy failed: \(deploy.receipt.error)") }
        if !setup.isEmpty {
            let results = try execute(try setup.map { try envelope("c", $0.0, $0.1, $0.2) })
            if let failed = results.first(where: { $0.receipt.status != .committed }) { throw ValidationError("setup failed: \(failed.receipt.error)") }
        }
        let envelopes = try (0..<calls).map { index in
            let (method, args) = call(index)
            return try envelope("c", method, args, signers.map { $0[index % $0.count] } ?? admin)
        }
        let clock = ContinuousClock()
        var gas: UInt64 = 0
        var failures = 0
        let start = clock.now
        for chunk in stride(from: 0, to: envelopes.count, by: block) {
            let executed = try execute(Array(envelopes[chunk..<min(chunk + block, envelopes.count)]))
            for transaction in executed {
                gas += transaction.receipt.gasUsed
                if transaction.receipt.status != .committed { failures += 1 }
            }
        }
        let seconds = (clock.now - start).secondsDouble
        let counts = runtime.instanceCounts
        print(String(format: "  %@, %@: %.0f calls/s, %.1f µs per call, %llu gas per call, %d failed (code %d bytes; %d calls warm, %d fresh)",
                     name, warm ? "warm instances" : "fresh store per call", Double(calls) / seconds, seconds / Double(calls) * 1e6,
                     gas / UInt64(calls), failures, code.count, counts.warm, counts.fresh))
        if failures > 0 { throw ValidationError("\(failures) calls failed") }
    }
}
