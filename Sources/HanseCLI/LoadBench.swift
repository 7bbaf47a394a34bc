internal import API
internal import ArgumentParser
internal import Crypto
internal import Dispatch
internal import Foundation
internal import Glibc
internal import HanseCore
internal import HTTPServer
internal import Ledger
internal import Logging
internal import Node
internal import PostgresStorage
internal import Storage
internal import Synchronization

/// `hanse bench load`: committed transactions per second through the whole platform. A node runs
/// in this process (platform, chain workers, HTTP server on a real socket, the configured or
/// embedded PostgreSQL); N transactions are signed before the clock starts, then sent by C
/// keep-alive connections, each waiting for its transaction's commit (`?wait=commit`), so every
/// figure is of committed transactions. Also measured in the same run: the machine's limits
/// (signature verifications/s, COPY rows/s, plain HTTP requests/s), and the chain runtime alone
/// (transactions handed to the worker directly, no HTTP).
struct LoadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Committed tx/s and latency through HTTP for solo and 4-validator BFT chains, beside the machine's limits.")

    @Option(help: "Transactions per measurement.") var txs = 20_000
    @Option(help: "Concurrent keep-alive connections (each has one request in flight).") var concurrency = 256
    @Option(help: "Transactions per HTTP request: 1 uses POST …/transactions, more use POST …/transactions/batch (both with wait=commit).") var batch = 1
    @Option(help: "Consensus to measure: solo, bft or both.") var consensus = "both"
    @Option(help: "Signature algorithm of the clients: p256, ed25519 or sm2.") var algorithm = "p256"
    @Option(help: "Chain access: members (client keys registered as writers; every call checks the role) or open.") var access = "members"
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions


    func validate() throws {
        guard (1...1_000_000).contains(txs) else { throw ValidationError("--txs must be in 1...1000000") }
        guard (1...2_000).contains(concurrency) else { throw ValidationError("--concurrency must be in 1...2000") }
        guard (1...1_000).contains(batch) else { throw ValidationError("--batch must be in 1...1000 (the API's batch limit)") }
        guard ["solo", "bft", "both"].contains(consensus) else { throw ValidationError("--consensus must be solo, bft or both") }
        guard SignatureAlgorithm(rawValue: algorithm) != nil else { throw ValidationError("--algorithm must be p256, ed25519 or sm2") }
        guard ["members", "open"].contains(access) else { throw ValidationError("--access must be members or open") }
    }

    func run() throws {
        let algorithm = SignatureAlgorithm(rawValue: self.algorithm)!
        try database.withDatabase(logging: logging, label: "hanse.bench") { handle in
            let (platform, quiet) = try handle.benchPlatform()
            defer { platform.stop() }
            let healthz = Route("GET", "/healthz", blocking: false) { _ in
                HTTPResponse(status: 200, headers: .init([("Content-Type", "application/json")]), body: .bytes(Array(#"{"status":"ok"}"#.utf8)))
            }
            let application = APIApplication(
                router: try Router([healthz] + PlatformRoutes.routes(platform)),
                configuration: APIConfiguration(verifyOperatorToken: { _ in false }, authenticateAPIKey: { platform.authenticate(apiKey: $0) }),
                logger: quiet)
            let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: application)
            defer { server.shutdown() }
            let cores = ProcessInfo.processInfo.activeProcessorCount
            print("hanse bench load: \(txs) transactions per run, \(concurrency) connections, \(algorithm.rawValue) signatures, \(access) chains, \(cores) cores, one process (clients, server, chains) plus PostgreSQL")

            print("machine limits, measured now:")
            try measureLimits(algorithm: algorithm, pool: handle.pool, port: server.port)

            let tenant = try platform.createTenant(request(CreateTenantRequest.self,
                #"{"name":"bench-\#(Int(Date().timeIntervalSince1970))","quotas":{"chains":10,"tx_per_second":1000000,"storage_bytes":1099511627776}}"#))
            let key = try platform.createAPIKey(tenant: tenant.id, request(CreateAPIKeyRequest.self, #"{"name":"bench","scopes":["admin"]}"#))
            for kind in consensus == "both" ? ["solo", "bft"] : [consensus] {
                let chain = try platform.provisionBenchChain(tenant: tenant.id, kind: kind, access: access)
                _ = try platform.installContract(tenant: tenant.id, chain: chain, upgrade: false,
                                                 try request(InstallContractRequest.self, String(decoding: try JSONSerialization.data(withJSONObject: ["name": "put", "version": "1", "wat": BenchContracts.put]), as: UTF8.self)), code: nil, wait: .seconds(30))
                print("\(kind == "solo" ? "solo (1 validator)" : "bft (4 validators, in process)"):")
                // The chain admits members only (the default): every client key is a writer identity.
                let directSigners = try (0..<64).map { _ in try PrivateKey.generate(algorithm) }
                let httpSigners = try (0..<concurrency).map { _ in try PrivateKey.generate(algorithm) }
                if access == "members" { try platform.registerWriters(directSigners + httpSigners, tenant: tenant.id, chain: chain) }
                try measureDirect(platform, tenant: tenant.id, chain: chain, signers: directSigners)
                try measureHTTP(port: server.port, token: key.secret, chain: chain, platform: platform, tenant: tenant.id, signers: httpSigners)
            }
        }
    }


    private func sign(_ count: Int, chain: String, signers: [PrivateKey]) throws -> [TransactionEnvelope] {
        let until = ValidUntil.unixMilliseconds(UInt64(Date().timeIntervalSince1970 * 1000) + 3_600_000)
        // On every core, in contiguous slices: the order (and so each index's signer) is kept.
        let slices = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let results = Mutex<[Int: Result<[TransactionEnvelope], any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = (count * slice / slices)..<(count * (slice + 1) / slices)
            let result = Result { () throws -> [TransactionEnvelope] in
                try range.map { index in
                    let signer = signers[index % signers.count]
                    var envelope = TransactionEnvelope(chainID: chain, contract: "put", method: "put", args: Array(#"{"n":\#(index)}"#.utf8),
                                                       nonce: SecureRandom().bytes(16), validUntil: until, algorithm: signer.algorithm, signer: [])
                    try envelope.sign(with: signer)
                    return envelope
                }
            }
            results.withLock { $0[slice] = result }
        }
        return try results.withLock { results in try (0..<slices).flatMap { try results[$0]!.get() } }
    }

    /// The chain runtime alone: verified envelopes handed to the worker, commits awaited in memory.
    private func measureDirect(_ platform: Platform, tenant: String, chain: String, signers: [PrivateKey]) throws {
        let envelopes = try sign(txs, chain: chain, signers: signers)
        let before = try platform.chain(tenant: tenant, id: chain).height ?? 0
        let remaining = Atomic<Int>(envelopes.count)
        let failed = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        let clock = ContinuousClock()
        let start = clock.now
        for envelope in envelopes {
            try platform.submitUnchecked(chain: chain, envelope) { succeeded in
                if !succeeded { failed.add(1, ordering: .relaxed) }
                if remaining.subtract(1, ordering: .relaxed).newValue == 0 { done.signal() }
            }
        }
        guard done.wait(timeout: .now() + .seconds(600)) == .success else { throw ValidationError("the chain did not commit every transaction in 10 minutes") }
        let seconds = (clock.now - start).secondsDouble
        let blocks = (try platform.chain(tenant: tenant, id: chain).height ?? 0) - before
        print(String(format: "  runtime (no HTTP, no signature checks): %.0f tx/s committed, %llu blocks, %.1f blocks/s, %.0f tx per block",
                     Double(envelopes.count) / seconds, blocks, Double(blocks) / seconds, Double(envelopes.count) / Double(max(blocks, 1))))
        if failed.load(ordering: .relaxed) > 0 { print("  failed: \(failed.load(ordering: .relaxed)) transactions have a failed receipt") }
    }

    private func measureHTTP(port: Int, token: String, chain: String, platform: Platform, tenant: String, signers: [PrivateKey]) throws {
        let envelopes = try sign(txs, chain: chain, signers: signers)
        let bodies = envelopes.map { envelope in
            Array(#"{"signed_bytes":"\#(Data(envelope.signedBytes).base64EncodedString())","signature":"\#(Hex.encode(envelope.signature))"}"#.utf8)
        }
        // One transaction per request, or `batch` of them in one …/transactions/batch request.
        let requests = batch == 1 ? bodies : stride(from: 0, to: bodies.count, by: batch).map { first in
            Array(#"{"transactions":["#.utf8) + Array(bodies[first..<min(first + batch, bodies.count)].joined(separator: Array(",".utf8))) + Array("]}".utf8)
        }
        let before = try platform.chain(tenant: tenant, id: chain).height ?? 0
        let path = "/v1/chains/\(chain)/transactions\(batch == 1 ? "" : "/batch")?wait=commit&timeout_ms=30000"
        let latencies = Mutex<[Double]>([])
        let committed = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        let clock = ContinuousClock()
        let cpuBefore = MachineCPU.sample()
        let start = clock.now
        let progress = DispatchSource.makeTimerSource(queue: .global())
        progress.schedule(deadline: .now() + 1, repeating: 1)
        progress.setEventHandler {
            let count = committed.load(ordering: .relaxed)
            let elapsed = (clock.now - start).secondsDouble
            FileHandle.standardError.write(Data(String(format: "  … %d of %d committed, %.0f tx/s\n", count, bodies.count, Double(count) / elapsed).utf8))
        }
        progress.resume()
        runThreads(concurrency) { connection in
            var local: [Double] = []
            do {
                let client = try KeepAliveClient(port: port)
                for index in stride(from: connection, to: requests.count, by: concurrency) {
                    let sent = clock.now
                    let (status, body) = try client.post(path, token: token, body: requests[index])
                    local.append((clock.now - sent).secondsDouble * 1000)
                    let expected = batch == 1 ? 1 : min(batch, bodies.count - index * batch)
                    let done = status == 200 || status == 207 ? occurrences(of: #""status":"committed""#, in: body) : 0
                    committed.add(done, ordering: .relaxed)
                    if done != expected {
                        failures.withLock { if $0.count < 5 { $0.append("\(status) \(body.prefix(200))") } }
                    }
                }
            } catch {
                failures.withLock { $0.append("connection \(connection): \(error)") }
            }
            latencies.withLock { $0 += local }
        }
        progress.cancel()
        let seconds = (clock.now - start).secondsDouble
        let cpuAfter = MachineCPU.sample()
        let blocks = (try platform.chain(tenant: tenant, id: chain).height ?? 0) - before
        let sorted = latencies.withLock { $0 }.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        let count = committed.load(ordering: .relaxed)
        print(String(format: "  HTTP, wait=commit%@: %.0f tx/s committed (%d of %d), latency%@ p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, %llu blocks, %.0f tx per block",
                     batch == 1 ? "" : ", batches of \(batch)", Double(count) / seconds, count, bodies.count, batch == 1 ? "" : " per batch", percentile(0.5), percentile(0.9), percentile(0.99), blocks,
                     Double(count) / Double(max(blocks, 1))))
        if let cpuBefore, let cpuAfter {
            let busy = cpuAfter.busy - cpuBefore.busy, steal = cpuAfter.steal - cpuBefore.steal
            print(String(format: "  CPU (whole machine, /proc/stat): %.2f of %d cores busy, steal %.0f %%, %.3f ms of CPU per committed tx",
                         busy / seconds, ProcessInfo.processInfo.activeProcessorCount, 100 * steal / max(cpuAfter.total - cpuBefore.total, 0.001),
                         1000 * busy / Double(max(count, 1))))
        }
        for failure in failures.withLock({ $0 }) { print("  failed: \(failure)") }
    }

    /// What the machine can do at all, measured in this run.
    private func measureLimits(algorithm: SignatureAlgorithm, pool: PostgresPool, port: Int) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let key = try PrivateKey.generate(algorithm)
        let message = Array(repeating: UInt8(7), count: 300)
        let signature = try key.sign(message)
        let verifications = 20_000
        let clock = ContinuousClock()
        var start = clock.now
        DispatchQueue.concurrentPerform(iterations: cores) { _ in
            let publicKey = key.publicKey
            for _ in 0..<(verifications / cores) { _ = publicKey.isValidSignature(signature, for: message) }
        }
        print(String(format: "  %@ signature verifications: %.0f/s on %d cores", algorithm.rawValue, Double(verifications) / (clock.now - start).secondsDouble, cores))

        let rows: [[PostgresValue]] = (0..<50_000).map { [.int($0), .bytea(Array(repeating: UInt8($0 & 0xff), count: 32)), .text("row \($0)")] }
        start = clock.now
        try pool.transaction { connection in
            _ = try connection.execute("CREATE TEMP TABLE bench_copy (id bigint, hash bytea, note text) ON COMMIT DROP", name: "bench.copy.table")
            _ = try connection.copy(into: "bench_copy", columns: [.init("id", .int8), .init("hash", .bytea), .init("note", .text)], rows: rows)
        }
        print(String(format: "  PostgreSQL COPY: %.0f rows/s (bigint, 32-byte bytea, text)", Double(rows.count) / (clock.now - start).secondsDouble))

        let requests = 20_000
        let connections = 32
        start = clock.now
        runThreads(connections) { _ in
            guard let client = try? KeepAliveClient(port: port) else { return }
            for _ in 0..<(requests / connections) { _ = try? client.get("/healthz") }
        }
        print(String(format: "  plain HTTP (GET /healthz, %d keep-alive connections, client in the same process): %.0f requests/s",
                     connections, Double(requests) / (clock.now - start).secondsDouble))
    }
}

/// The contract the load benchmark calls (and the tests that load a chain): `put` stores its args
/// under the transaction id.
public enum BenchContracts {
    public static let put = """
    (module
      (import "hanse" "args" (func $args (param i32 i32) (result i32)))
      (import "hanse" "tx_id" (func $id (param i32 i32) (result i32)))
      (import "hanse" "state_set" (func $set (param i32 i32 i32 i32)))
      (memory (export "memory") 1 1)
      (func (export "put")
        (local $n i32)
        (local.set $n (call $args (i32.const 64) (i32.const 1024)))
        (drop (call $id (i32.const 0) (i32.const 32)))
        (call $set (i32.const 0) (i32.const 32) (i32.const 64) (local.get $n))))
    """
}

/// A request document from JSON, as the API would decode it.
func request<T: APIRequestBody>(_ type: T.Type, _ json: String) throws -> T {
    try RequestContext.decodeJSON(type, from: Array(json.utf8))
}

extension Platform {
    /// A chain of `kind` for `tenant`, provisioned and running.
    func provisionBenchChain(tenant: String, kind: String, access: String = "members") throws -> String {
        let started = try provisionChain(tenant: tenant, request(CreateChainRequest.self,
            #"{"name":"\#(kind)-\#(Int(Date().timeIntervalSince1970))","consensus":"\#(kind)","access":"\#(access)"}"#))
        for _ in 0..<600 {
            let state = try operation(tenant: tenant, id: started.id)
            if state.status == "succeeded" { return state.targetId }
            if state.status == "failed" { throw ValidationError("provisioning failed: \(state.error ?? "")") }
            usleep(50_000)
        }
        throw ValidationError("provisioning did not finish in 30 s")
    }

    /// Registers `keys` as external writer identities of `chain`, 32 at a time (each waits for
    /// its `_system.grant_role` to commit).
    func registerWriters(_ keys: [PrivateKey], tenant: String, chain: String) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let failure = Mutex<(any Error)?>(nil)
        let next = Atomic<Int>(0)
        runThreads(min(32, keys.count)) { _ in
            while failure.withLock({ $0 == nil }) {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < keys.count else { return }
                let key = keys[index]
                let body = #"{"name":"bench-\#(index)","role":"writer","mode":"external","algorithm":"\#(key.algorithm.rawValue)","public_key":"\#(Hex.encode(key.publicKey.raw))"}"#
                do {
                    _ = try self.createIdentity(tenant: tenant, chain: chain, request(CreateIdentityRequest.self, body))
                } catch {
                    failure.withLock { $0 = error }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        print(String(format: "  registered %d client keys as writers in %.1f s", keys.count, (clock.now - start).secondsDouble))
    }
}

extension BenchContracts {
    /// Emits 20 events (topic "tick") per `burst` call; each event's data is the call's arguments
    /// and a letter A…T. The events benchmark and the event tests use it.
    public static let emitter = """
    (module
      (import "hanse" "args" (func $args (param i32 i32) (result i32)))
      (import "hanse" "emit" (func $emit (param i32 i32 i32 i32)))
      (memory (export "memory") 1 1)
      (data (i32.const 2048) "tick")
      (func (export "burst")
        (local $i i32)
        (local $n i32)
        (local.set $n (call $args (i32.const 0) (i32.const 1024)))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (i32.const 20)))
            (i32.store8 (local.get $n) (i32.add (i32.const 65) (local.get $i)))
            (call $emit (i32.const 2048) (i32.const 4) (i32.const 0) (i32.add (local.get $n) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))))
    """
}

extension DatabaseHandle {
    /// A platform for a benchmark on this database: migrated, a throwaway master key, quiet logs.
    func benchPlatform(webhooks: WebhookSettings = WebhookSettings()) throws -> (Platform, Logger) {
        _ = try migratePlatform(environment: environment)
        var quiet = logger
        quiet.logLevel = .warning
        let root = try MigrationCatalog.locateRoot(environment: environment)
        let platform = Platform(pool: pool, vault: try KeyVault(masterKey: SecureRandom().bytes(32)),
                                chainMigrations: try MigrationCatalog.load(directory: root.appendingPathComponent("chain")), logger: quiet,
                                webhooks: webhooks)
        return (platform, quiet)
    }
}

/// Runs `body` on `count` threads of their own (Dispatch's concurrentPerform runs only as many at
/// once as there are cores; a client with blocking connections needs one thread each) and waits.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.stackSize = 256 << 10
        thread.start()
    }
    group.wait()
}

/// How often `pattern` occurs in `text`, compared byte by byte (Foundation's string search is
/// locale-aware and far slower; the benchmark's clients share the node's cores).
func occurrences(of pattern: String, in text: String) -> Int {
    let needle = Array(pattern.utf8)
    var count = 0
    text.utf8.withContiguousStorageIfAvailable { haystack in
        guard haystack.count >= needle.count, let first = needle.first else { return }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first, needle.indices.allSatisfy({ haystack[index + $0] == needle[$0] }) {
                count += 1
                index += needle.count
            } else {
                index += 1
            }
        }
    }
    return count
}

/// One keep-alive HTTP/1.1 connection for the benchmark: request, then read the whole response.
final class KeepAliveClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { close(fd); throw Failure(description: "cannot connect to port \(port)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func get(_ path: String) throws -> (Int, String) {
        try exchange(Array("GET \(path) HTTP/1.1\r\nHost: bench\r\n\r\n".utf8))
    }

    func post(_ path: String, token: String, body: [UInt8]) throws -> (Int, String) {
        try exchange(Array("POST \(path) HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
    }

    /// Sends every byte of `request`.
    func send(_ request: [UInt8]) throws {
        var offset = 0
        while offset < request.count {
            let sent = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send failed") }
            offset += sent
        }
    }

    /// The next bytes the server sends (empty once it closed), waiting at most `timeout` seconds.
    func receive(timeout: Int) -> [UInt8] {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) > 0 else { return [] }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(chunk[0..<count]) : []
    }

    private func exchange(_ request: [UInt8]) throws -> (Int, String) {
        try send(request)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = headEnd() {
                // Parsed on bytes: the clients share the node's cores, so they must stay cheap.
                let lines = buffer[0..<end].split(separator: 10).map { $0.last == 13 ? $0.dropLast() : $0 }
                let status = lines.first.flatMap { line in line.split(separator: 32).dropFirst().first.flatMap { Int(String(decoding: $0, as: UTF8.self)) } } ?? 0
                let lengthName = Array("content-length:".utf8)
                let length = lines.dropFirst().first { line in
                    line.count > lengthName.count && zip(line, lengthName).allSatisfy { ($0 | 0x20) == $1 }
                }.flatMap { Int(String(decoding: $0.dropFirst(lengthName.count), as: UTF8.self).trimmingCharacters(in: .whitespaces)) } ?? 0
                if buffer.count >= end + 4 + length {
                    let body = String(decoding: buffer[(end + 4)..<(end + 4 + length)], as: UTF8.self)
                    buffer.removeFirst(end + 4 + length)
                    return (status, body)
                }
            }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure(description: "the server closed the connection") }
            buffer += chunk[0..<count]
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// The machine's CPU time so far, from the first line of /proc/stat (Linux), in seconds: busy
/// (user, nice, system, irq, softirq), steal (taken by the hypervisor) and the total.
struct MachineCPU {
    let busy: Double
    let steal: Double
    let total: Double

    static func sample() -> MachineCPU? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = text.split(separator: "\n").first,
              line.hasPrefix("cpu ") else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        // user nice system idle iowait irq softirq steal …
        return MachineCPU(busy: (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / hz, steal: ticks[7] / hz,
                          total: ticks[0..<8].reduce(0, +) / hz)
    }
}
