// `hanse serve` as a user runs it: the built executable in a child process with no database URL,
// so it creates its own PostgreSQL. Checks the `ready` log line, the operator token printed once,
// a clean stop on SIGTERM, and a restart after `kill -9` of both Hanse and PostgreSQL.
import Foundation
import HanseTesting
import HanseCLI
import XCTest
import Crypto
import Ledger
import HanseCore
import Synchronization

final class ServeTests: XCTestCase {
    private static let repository = Repository.root

    private struct Running {
        let process: Process
        let stdout: URL
        let stderr: URL
        var output: String { (try? String(contentsOf: stdout, encoding: .utf8)) ?? "" }
        var log: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }
    }

    private func executable() throws -> URL {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("hanse")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        let fallback = Self.repository.appendingPathComponent(".build/debug/hanse")
        guard FileManager.default.isExecutableFile(atPath: fallback.path) else { throw XCTSkip("hanse executable not built") }
        return fallback
    }

    private func launch(dataDir: URL, run: Int, arguments: [String] = ["serve", "--port", "0"],
                        extraEnvironment: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("HANSE_") { environment.removeValue(forKey: key) }
        environment["HANSE_DATA_DIR"] = dataDir.path
        environment["HANSE_MIGRATIONS_DIR"] = Self.repository.appendingPathComponent("Migrations").path
        environment.merge(extraEnvironment) { _, new in new }
        process.environment = environment
        let stdout = dataDir.deletingLastPathComponent().appendingPathComponent("stdout-\(run).txt")
        let stderr = dataDir.deletingLastPathComponent().appendingPathComponent("stderr-\(run).txt")
        for file in [stdout, stderr] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        return Running(process: process, stdout: stdout, stderr: stderr)
    }

    private func waitForReady(_ running: Running, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if running.log.contains("msg=ready") { return }
            if !running.process.isRunning { break }
            usleep(100_000)
        }
        XCTFail("hanse did not log ready; log:\n\(running.log)", file: file, line: line)
    }

    private func waitForExit(_ running: Running) -> Int32? {
        let deadline = Date().addingTimeInterval(60)
        while running.process.isRunning && Date() < deadline { usleep(50_000) }
        return running.process.isRunning ? nil : running.process.terminationStatus
    }

    /// The port from the `ready` log line (the tests listen on port 0).
    private func port(_ running: Running) -> Int? {
        guard let line = running.log.split(separator: "\n").first(where: { $0.contains("msg=ready") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("port=") }) else { return nil }
        return Int(field.dropFirst(5))
    }

    private func get(_ path: String, port: Int, headers: String = "") throws -> TestResponse? {
        let client = try TestClient(port: port)
        _ = client.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(headers)\r\n")
        return client.readResponse()
    }

    /// Runs `body` against a fresh `hanse serve` (its own data directory, the given operator
    /// token), stopping it afterwards.
    private func withServedNode(_ label: String, token: String, _ body: (_ url: String, _ dataDir: URL) throws -> Void) throws {
        let dataDir = try TestCluster.shared.makeDirectory(label).appendingPathComponent("data")
        defer { if let pid = postmasterPID(dataDir) { kill(pid, SIGINT) } }
        let running = try launch(dataDir: dataDir, run: 1, extraEnvironment: ["HANSE_OPERATOR_TOKEN": token])
        defer { running.process.interrupt(); _ = waitForExit(running) }
        waitForReady(running)
        try body("http://127.0.0.1:\(try XCTUnwrap(port(running)))", dataDir)
    }

    /// Runs a program to its end; returns its exit status and standard output (with standard
    /// error when `errors` is set).
    private func run(_ executable: URL, _ arguments: [String], directory: URL? = nil, environment: [String: String]? = nil,
                     errors: Bool = true) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors ? output : FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// On a served node: a tenant with an admin key, a provisioned chain, and `contract` deployed on it.
    private func tenantWithChain(port: Int, token: String, consensus: String, contract: (name: String, wat: String)) throws -> (api: APIClient, chain: String) {
        var api = APIClient(port: port, token: token)
        let tenant = try api.send("POST", "/v1/tenants", json: ["name": "served"])
        let key = try api.send("POST", "/v1/tenants/\(tenant.string("id") ?? "")/api-keys", json: ["name": "k", "scopes": ["admin"]])
        api.token = try XCTUnwrap(key.string("secret"))
        let operation = try api.send("POST", "/v1/chains", json: ["name": "served", "consensus": consensus])
        var chain: String?
        for _ in 0..<600 where chain == nil {
            let state = try api.get("/v1/operations/\(operation.string("id") ?? "")")
            if state.string("status") == "succeeded" { chain = state.string("target_id") }
            XCTAssertNotEqual(state.string("status"), "failed", state.text)
            usleep(100_000)
        }
        let chainID = try XCTUnwrap(chain)
        let deploy = try api.send("POST", "/v1/chains/\(chainID)/contracts?wait=commit", json: ["name": contract.name, "version": "1", "wat": contract.wat])
        XCTAssertEqual(deploy.string("status"), "committed", deploy.text)
        return (api, chainID)
    }

    private func postmasterPID(_ dataDir: URL) -> Int32? {
        let file = dataDir.appendingPathComponent("postgres/data/postmaster.pid")
        return (try? String(contentsOf: file, encoding: .utf8)).flatMap { Int32($0.split(separator: "\n").first ?? "") }
    }

    func testServeStartsStopsAndRecoversFromKill9() throws {
        let dataDir = try TestCluster.shared.makeDirectory("serve").appendingPathComponent("data")
        defer { if let pid = postmasterPID(dataDir) { kill(pid, SIGINT) } }  // if a step failed midway

        let first = try launch(dataDir: dataDir, run: 1)
        waitForReady(first)
        XCTAssertTrue(first.output.contains("hanse_op_"), "the operator token is printed on first start: \(first.output)")
        XCTAssertTrue(first.log.contains("applying migration"))
        let token = try XCTUnwrap(first.output.split(separator: "\n").first { $0.hasPrefix("hanse_op_") })
        let httpPort = try XCTUnwrap(port(first))
        XCTAssertEqual(try get("/healthz", port: httpPort)?.status, 200)
        XCTAssertEqual(try get("/readyz", port: httpPort)?.status, 200, "readiness includes the database")
        XCTAssertEqual(try get("/v1/operator/status", port: httpPort)?.status, 401)
        let status = try get("/v1/operator/status", port: httpPort, headers: "Authorization: Bearer \(token)\r\n")
        XCTAssertEqual(status?.status, 200, "the printed token opens the operator routes")
        first.process.terminate()  // SIGTERM
        XCTAssertEqual(waitForExit(first), 0, first.log)
        XCTAssertTrue(first.log.contains("stopping embedded PostgreSQL"))
        XCTAssertNil(postmasterPID(dataDir), "a clean stop removes postmaster.pid")

        let second = try launch(dataDir: dataDir, run: 2)
        waitForReady(second)
        XCTAssertFalse(second.output.contains("hanse_op_"), "the token is shown once only")
        XCTAssertTrue(second.log.contains("operator token already set"), second.log)
        XCTAssertTrue(second.log.contains("already_applied=3 applied=0"), second.log)

        // Crash both: Hanse and the postmaster.
        kill(second.process.processIdentifier, SIGKILL)
        _ = waitForExit(second)
        let postmaster = try XCTUnwrap(postmasterPID(dataDir))
        kill(postmaster, SIGKILL)
        for _ in 0..<200 where kill(postmaster, 0) == 0 { usleep(10_000) }

        let third = try launch(dataDir: dataDir, run: 3)
        waitForReady(third)
        XCTAssertTrue(third.log.contains("operator token already set"), "data survived the crash: \(third.log)")
        third.process.interrupt()  // SIGINT
        XCTAssertEqual(waitForExit(third), 0, third.log)
    }

    /// SIGTERM with a live event stream open: the stream ends with its "shutting-down" event and
    /// the node stops at once instead of waiting out the 25 s grace for a response that never ends.
    func testStopEndsLiveStreamsWithANotice() throws {
        let dataDir = try TestCluster.shared.makeDirectory("serve-stream").appendingPathComponent("data")
        defer { if let pid = postmasterPID(dataDir) { kill(pid, SIGINT) } }
        let token = "operator-token-for-the-stream-test-0123456789"
        let node = try launch(dataDir: dataDir, run: 1, extraEnvironment: ["HANSE_OPERATOR_TOKEN": token])
        waitForReady(node)
        let port = try XCTUnwrap(port(node))
        let served = try tenantWithChain(port: port, token: token, consensus: "solo", contract: ("kv", BenchContracts.put))
        let stream = try TestClient(port: port)
        stream.send("GET /v1/chains/\(served.chain)/events/stream?from_seq=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(served.api.token!)\r\n\r\n")
        let opened = stream.receive(quiet: .milliseconds(500), total: .seconds(5))
        XCTAssertTrue(String(decoding: opened.bytes, as: UTF8.self).contains("event: block"), String(decoding: opened.bytes, as: UTF8.self))
        let started = ContinuousClock.now
        node.process.terminate()
        let rest = stream.receive(quiet: .seconds(15), total: .seconds(20))
        XCTAssertTrue(rest.closed, "the stream ends")
        XCTAssertTrue(String(decoding: rest.bytes, as: UTF8.self).contains("shutting-down"), String(decoding: rest.bytes, as: UTF8.self))
        XCTAssertEqual(waitForExit(node), 0, node.log)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(15), "no wait for the grace period")
    }

    func testBadEnvironmentValueIsAClearError() throws {
        let dataDir = try TestCluster.shared.makeDirectory("serve-bad").appendingPathComponent("data")
        defer { if let pid = postmasterPID(dataDir) { kill(pid, SIGINT) } }
        let running = try launch(dataDir: dataDir, run: 1, arguments: ["serve"], extraEnvironment: ["HANSE_PORT": "eighty"])
        defer { if running.process.isRunning { running.process.terminate(); _ = waitForExit(running) } }
        XCTAssertNotEqual(waitForExit(running), 0)
        XCTAssertTrue(running.log.contains("HANSE_PORT=eighty is not an integer"), running.log)
    }

    /// Issue 6, point 4: a 4-validator chain under load, the node killed with SIGKILL, started
    /// again. Every transaction answered `committed` before the kill is still committed at the
    /// same height; heights are contiguous; resubmitting every envelope commits each exactly once;
    /// the chain audits clean.
    func testKill9UnderLoadLosesNoCommittedBlockAndCommitsNothingTwice() throws {
        let dataDir = try TestCluster.shared.makeDirectory("serve-load").appendingPathComponent("data")
        defer { if let pid = postmasterPID(dataDir) { kill(pid, SIGINT) } }
        let token = "operator-token-for-the-kill-test-0123456789"
        let environment = ["HANSE_OPERATOR_TOKEN": token]
        let first = try launch(dataDir: dataDir, run: 1, extraEnvironment: environment)
        waitForReady(first)
        let served = try tenantWithChain(port: try XCTUnwrap(port(first)), token: token, consensus: "bft", contract: ("kv", BenchContracts.put))
        var api = served.api
        let chainID = served.chain

        // Pre-signed envelopes of a writer identity, submitted from four threads; some wait for their commit.
        let signer = try PrivateKey.generate(.p256)
        let writer = try api.send("POST", "/v1/chains/\(chainID)/identities",
                                  json: ["name": "loader", "role": "writer", "mode": "external", "algorithm": "p256", "public_key": Hex.encode(signer.publicKey.raw)])
        XCTAssertEqual(writer.status, 201, writer.text)
        let envelopes: [TransactionEnvelope] = try (0..<400).map { index in
            var envelope = TransactionEnvelope(chainID: chainID, contract: "kv", method: "put", args: Array("{\"n\":\(index)}".utf8),
                                               nonce: SecureRandom().bytes(16), validUntil: .unixMilliseconds(UInt64(Date().timeIntervalSince1970 * 1000) + 600_000),
                                               algorithm: .p256, signer: [], signature: [])
            try envelope.sign(with: signer)
            return envelope
        }
        let bodies: [[String: String]] = envelopes.map {
            ["signed_bytes": Data($0.signedBytes).base64EncodedString(), "signature": Hex.encode($0.signature)]
        }
        let victim = first.process.processIdentifier
        let committedBeforeKill = Mutex<[String: Int]>([:])
        let client = api
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for index in stride(from: worker, to: envelopes.count, by: 4) {
                if worker == 0 && index == 200 { kill(victim, SIGKILL) }
                let wait = index % 10 == 0 ? "?wait=commit" : ""
                guard let reply = try? client.send("POST", "/v1/chains/\(chainID)/transactions\(wait)", json: bodies[index]) else { continue }
                if reply.string("status") == "committed", let height = reply.json["height"] as? Int {
                    committedBeforeKill.withLock { $0[reply.string("tx_id")!] = height }
                }
            }
        }
        _ = waitForExit(first)
        let confirmed = committedBeforeKill.withLock { $0 }
        XCTAssertFalse(confirmed.isEmpty, "some transactions committed before the kill")

        let second = try launch(dataDir: dataDir, run: 2, extraEnvironment: environment)
        waitForReady(second)
        api = APIClient(port: try XCTUnwrap(port(second)), token: api.token)
        for (id, height) in confirmed {
            let status = try api.get("/v1/chains/\(chainID)/transactions/\(id)")
            XCTAssertEqual(status.string("status"), "committed", "tx \(id) was confirmed before the kill: \(status.text)")
            XCTAssertEqual(status.json["height"] as? Int, height)
        }
        // Clients resubmit everything; each envelope commits once, whatever happened before.
        let resubmitter = api
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for index in stride(from: worker, to: envelopes.count, by: 4) {
                _ = try? resubmitter.send("POST", "/v1/chains/\(chainID)/transactions", json: bodies[index])
            }
        }
        for body in bodies {
            let reply = try api.send("POST", "/v1/chains/\(chainID)/transactions?wait=commit&timeout_ms=20000", json: body)
            XCTAssertEqual(reply.string("status"), "committed", reply.text)
        }
        let latest = try api.get("/v1/chains/\(chainID)/blocks/latest")
        let height = try XCTUnwrap(latest.json["height"] as? Int)
        var transactions = 0
        var cursor: String?
        repeat {
            let page = try api.get("/v1/chains/\(chainID)/blocks?limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
            let items = try XCTUnwrap(page.json["items"] as? [[String: Any]])
            transactions += items.reduce(0) { $0 + ($1["transaction_count"] as? Int ?? 0) }
            cursor = page.string("next_cursor")
        } while cursor != nil
        XCTAssertEqual(transactions, envelopes.count + 3, "genesis + deploy + grant_role + each envelope exactly once, in blocks 0...\(height)")
        second.process.interrupt()
        XCTAssertEqual(waitForExit(second), 0, second.log)

        let audit = try launch(dataDir: dataDir, run: 3, arguments: ["audit", "--schema", "chain_" + chainID.replacingOccurrences(of: "-", with: "")],
                               extraEnvironment: environment)
        XCTAssertEqual(waitForExit(audit), 0, audit.log + audit.output)
        XCTAssertTrue(audit.output.contains("intact"), audit.output)
    }

    /// 10,000 contract events to a webhook receiver that fails one request in ten (500s, resets,
    /// timeouts), with `hanse serve` killed (SIGKILL) midway through the deliveries and started
    /// again: every event arrives at least once, first arrivals in event order, each request
    /// signed with the subscription's secret; the node's own counts agree.
    func testTenThousandEventsSurviveReceiverFailuresAndAKill9DuringDelivery() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        receiver.behave { number, _ in
            switch number % 500 {
            case let n where n % 10 == 1: return .answer(500)
            case let n where n % 10 == 3 && n < 400: return .reset
            case 7: return .hang(.milliseconds(600))
            default: return .answer(200)
            }
        }
        let dataDir = try TestCluster.shared.makeDirectory("serve-events").appendingPathComponent("data")
        defer { if let pid = postmasterPID(dataDir) { kill(pid, SIGINT) } }
        let token = "operator-token-for-the-events-test-0123456789"
        let environment = ["HANSE_OPERATOR_TOKEN": token, "HANSE_WEBHOOK_ALLOW_PRIVATE": "true", "HANSE_WEBHOOK_TIMEOUT_MS": "300",
                           "HANSE_WEBHOOK_BACKOFF_MS": "2", "HANSE_WEBHOOK_BACKOFF_MAX_MS": "20", "HANSE_WEBHOOK_SWEEP_MS": "10"]
        let first = try launch(dataDir: dataDir, run: 1, extraEnvironment: environment)
        waitForReady(first)
        let served = try tenantWithChain(port: try XCTUnwrap(port(first)), token: token, consensus: "solo", contract: ("emitter", BenchContracts.emitter))
        var api = served.api
        let chainID = served.chain
        let created = try api.send("POST", "/v1/chains/\(chainID)/webhooks", json: ["url": receiver.url, "kind": "contract", "max_attempts": 100])
        XCTAssertEqual(created.status, 201, created.text)
        let secret = try XCTUnwrap(created.string("secret"))
        let hook = try XCTUnwrap((created["webhook"] as? [String: Any])?["id"] as? String)

        // 500 calls of 20 events each, from four clients.
        let client = api
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for index in stride(from: worker, to: 500, by: 4) {
                _ = try? client.send("POST", "/v1/chains/\(chainID)/transactions/call",
                                     json: ["identity": "platform-admin", "contract": "emitter", "method": "burst", "args": "k\(index)-"])
            }
        }
        func counts(_ api: APIClient) throws -> [String: Int] {
            (try api.get("/v1/chains/\(chainID)/webhooks/\(hook)")["deliveries"] as? [String: Int]) ?? [:]
        }
        let committed = Date().addingTimeInterval(120)
        while Date() < committed, try counts(api).values.reduce(0, +) < 10_000 { usleep(100_000) }
        XCTAssertEqual(try counts(api).values.reduce(0, +), 10_000, "every event has its outbox row")

        // Kill the node in the middle of the deliveries.
        XCTAssertTrue(receiver.wait(timeout: .seconds(120)) { Set($0.filter { $0.answered == 200 }.compactMap(\.seq)).count >= 3_000 })
        kill(first.process.processIdentifier, SIGKILL)
        _ = waitForExit(first)
        let beforeRestart = Set(receiver.delivered.compactMap(\.seq)).count
        XCTAssertLessThan(beforeRestart, 10_000, "deliveries were left when the node died")

        let second = try launch(dataDir: dataDir, run: 2, extraEnvironment: environment)
        waitForReady(second)
        api = APIClient(port: try XCTUnwrap(port(second)), token: api.token)
        XCTAssertTrue(receiver.wait(timeout: .seconds(300)) { Set($0.filter { $0.answered == 200 }.compactMap(\.seq)).count >= 10_000 },
                      "\(Set(receiver.delivered.compactMap(\.seq)).count) of 10000 delivered")
        let requests = receiver.requests
        XCTAssertGreaterThan(requests.filter { $0.answered != 200 }.count, 1_000, "the receiver failed many requests")
        var firstArrivals: [Int64] = []
        var seen = Set<Int64>()
        for request in requests where request.answered == 200 {
            if let seq = request.seq, seen.insert(seq).inserted { firstArrivals.append(seq) }
        }
        XCTAssertEqual(firstArrivals.count, 10_000)
        XCTAssertEqual(firstArrivals, firstArrivals.sorted(), "first arrivals in event order")
        let signed = requests.filter { request in
            guard let timestamp = request.headers["hanse-timestamp"] else { return false }
            let expected = "v1=" + Hex.encode(HMACSHA256.tag(key: Array(secret.utf8), message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + request.body))
            return request.headers["hanse-signature"] == expected
        }
        XCTAssertEqual(signed.count, requests.count, "every request carries a valid signature")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try counts(api)["delivered"] != 10_000 { usleep(100_000) }
        XCTAssertEqual(try counts(api), ["pending": 0, "delivered": 10_000, "dead": 0])
        second.process.interrupt()
        XCTAssertEqual(waitForExit(second), 0, second.log)
    }

    /// README's walkthrough, exactly as written, against a served node.
    func testReadmeWalkthroughRunsAsWritten() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try XCTUnwrap(readme.range(of: "<!-- walkthrough -->\n```bash\n"))
        let end = try XCTUnwrap(readme.range(of: "```\n<!-- /walkthrough -->"))
        let script = String(readme[start.upperBound..<end.lowerBound])
        let token = "operator-token-for-the-walkthrough-0123456789"
        try withServedNode("serve-walkthrough", token: token) { url, dataDir in
            // A working directory holding what the walkthrough reads (the example contract).
            let work = dataDir.deletingLastPathComponent().appendingPathComponent("walkthrough")
            let kv = work.appendingPathComponent("contracts/examples/kv")
            try FileManager.default.createDirectory(at: kv, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("contracts/examples/kv/kv.wat"), to: kv.appendingPathComponent("kv.wat"))
            var environment = ProcessInfo.processInfo.environment
            environment["HANSE"] = url
            environment["HANSE_CLI"] = try executable().path
            environment["OPERATOR_TOKEN"] = token
            let (status, text) = try run(URL(fileURLWithPath: "/bin/bash"), ["-c", script], directory: work, environment: environment)
            XCTAssertEqual(status, 0, text)
            XCTAssertTrue(text.contains("committed"), text)
            XCTAssertTrue(text.contains(#"{"hello":"world"}"#), text)
            XCTAssertTrue(text.contains("valid: transaction"), text)
            XCTAssertTrue(text.contains("signed by 3 of 4") || text.contains("signed by 4 of 4"), text)
        }
    }

    /// examples/python/hanse_client.py, written from openapi.yaml, signing.md and ledger.md alone:
    /// provisions a BFT chain, deploys, signs its own transaction and checks the proof offline.
    func testPythonClientWrittenFromTheDocumentsAlone() throws {
        let token = "operator-token-for-the-python-client-0123456789"
        try withServedNode("serve-python", token: token) { url, _ in
            let (status, text) = try run(URL(fileURLWithPath: "/usr/bin/env"), [
                "python3", Self.repository.appendingPathComponent("examples/python/hanse_client.py").path,
                "--url", url, "--operator-token", token, "--consensus", "bft",
            ])
            XCTAssertEqual(status, 0, text)
            XCTAssertTrue(text.contains("proof ok: 3 of 4 validators") || text.contains("proof ok: 4 of 4 validators"), text)
        }
    }

    /// The CLI client over the REST API (libcurl): tenant, key, chain, deploy, call, query, proof, verify.
    func testCommandLineClient() throws {
        let token = "operator-token-for-the-cli-test-0123456789"
        try withServedNode("serve-cli", token: token) { url, dataDir in
            let binary = try executable()
            func hanse(_ arguments: [String], token: String, expect: Int32 = 0) throws -> String {
                let (status, text) = try run(binary, arguments + ["--url", url, "--token", token], errors: false)
                XCTAssertEqual(status, expect, "hanse \(arguments.joined(separator: " ")): \(text)")
                return text
            }
            func field(_ json: String, _ key: String) -> String? {
                ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any])?[key] as? String
            }
            let tenant = try XCTUnwrap(field(try hanse(["tenant", "create", "cli-co", "--json"], token: token), "id"))
            let key = try hanse(["tenant", "key", tenant], token: token).trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(key.hasPrefix("hanse_hk"), key)
            let chainView = try hanse(["chain", "create", "demo", "--consensus", "solo", "--json"], token: key)
            let chain = try XCTUnwrap(field(chainView, "id"), chainView)
            XCTAssertTrue(try hanse(["contract", "deploy", chain, "kv", Self.repository.appendingPathComponent("contracts/examples/kv/kv.wat").path],
                                    token: key).contains("committed"))
            _ = try hanse(["identity", "create", chain, "alice"], token: key)
            let call = try hanse(["tx", "call", chain, "kv", "put", #"{"cli":true}"#, "--identity", "alice", "--json"], token: key)
            let tx = try XCTUnwrap(field(call, "tx_id"), call)
            XCTAssertEqual(try hanse(["contract", "query", chain, "kv", "get"], token: key).trimmingCharacters(in: .whitespacesAndNewlines), #"{"cli":true}"#)
            let proofFile = dataDir.deletingLastPathComponent().appendingPathComponent("proof.json").path
            _ = try hanse(["proof", chain, tx, "--out", proofFile], token: key)
            XCTAssertEqual(try run(binary, ["verify", proofFile]).status, 0)
            _ = try hanse(["chain", "get", UUID().uuidString], token: key, expect: 1)
            _ = try hanse(["chain", "list"], token: "hanse_hk000000000000_wrong", expect: 1)
        }
    }

    /// schemathesis (generated requests from openapi.yaml: examples, coverage, fuzzing, stateful)
    /// against a live node, once as a tenant and once as the operator: no server error, and every
    /// status code, content type, header and body as the document says.
    func testSchemathesisFindsNoServerErrorAndNoAnswerOutsideTheSpec() throws {
        let (available, _) = try run(URL(fileURLWithPath: "/usr/bin/env"), ["schemathesis", "--version"])
        try XCTSkipIf(available != 0, "schemathesis is not installed (.ci/run installs it)")
        let token = "operator-token-for-schemathesis-0123456789"
        try withServedNode("serve-schemathesis", token: token) { url, dataDir in
            var api = APIClient(port: Int(url.split(separator: ":").last!)!, token: token)
            let tenant = try api.send("POST", "/v1/tenants", json: ["name": "fuzzed"])
            let key = try api.send("POST", "/v1/tenants/\(tenant.string("id") ?? "")/api-keys", json: ["name": "fuzz", "scopes": ["admin"]])
            api.token = try XCTUnwrap(key.string("secret"))
            let checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"
            // The live event stream never ends on its own: EventTests reads it with an SSE client instead.
            for (credential, paths, seconds) in [(api.token!, ".*", "120"), (token, "^/v1/(tenants|operator)|^/(healthz|readyz)", "40")] {
                var (status, text) = (Int32(0), "")
                // A run that stops on hypothesis hitting CPython 3.11's spurious "AST constructor
                // recursion depth mismatch" (python/cpython#106905: its recursion-depth bookkeeping
                // is shared between threads that parse at once) is a crash of the tool, not a
                // finding about the API. One worker thread avoids it; a run that still hits it is
                // run again, up to three times.
                for _ in 0..<3 {
                    (status, text) = try run(URL(fileURLWithPath: "/usr/bin/env"), [
                        "schemathesis", "run", Self.repository.appendingPathComponent("openapi/openapi.yaml").path, "--url", url,
                        "-H", "Authorization: Bearer \(credential)", "--checks", checks, "--include-path-regex", paths,
                        "--exclude-path-regex", "/events/stream$",
                        "-n", "15", "--workers", "1", "--max-time", seconds, "--seed", "1", "--no-color",
                    ], directory: dataDir.deletingLastPathComponent())
                    guard status != 0 && text.contains("AST constructor recursion depth mismatch") else { break }
                }
                XCTAssertEqual(status, 0, String(text.suffix(6000)))
            }
        }
    }
}
