// Events end to end: block events in the per-chain sequence, the live stream (Server-Sent Events)
// resumed with Last-Event-ID without a gap, and webhooks delivered to a real local receiver —
// signatures, order, retries, dead letters and redrive, maximum age across a receiver down for an
// hour (a shifted clock), and a node restarted during delivery.
import API
import Crypto
import Foundation
import HanseCLI
import HanseCore
import HanseTesting
import HTTPServer
@testable import Node
import PostgresStorage
import Synchronization
import XCTest

/// Wall time that a test can move forward; monotonic time is the system's.
final class ShiftedClock: HanseClock, @unchecked Sendable {
    private let offset = Mutex<Int64>(0)
    var now: Duration { SystemClock().now }
    var wallMilliseconds: Int64 { SystemClock().wallMilliseconds + offset.withLock { $0 } }
    func advance(_ duration: Duration) { offset.withLock { $0 += duration.wholeMilliseconds } }
}

/// A Server-Sent Events client on a raw socket: reads the chunked body and splits it into events.
final class EventStreamClient {
    struct Event {
        var id: String?
        var name: String?
        var data: String
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any]) ?? [:] }
        var seq: Int64? { id.flatMap { Int64($0) } }
    }

    let client: TestClient
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    private var raw: [UInt8] = []
    private var body: [UInt8] = []
    private var headDone = false
    private(set) var closed = false
    private(set) var events: [Event] = []

    init(port: Int, path: String, token: String, lastEventID: Int64? = nil) throws {
        client = try TestClient(port: port)
        var head = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nAuthorization: Bearer \(token)\r\n"
        if let lastEventID { head += "Last-Event-ID: \(lastEventID)\r\n" }
        client.send(head + "\r\n")
    }

    /// Reads until `count` events arrived (error events included), the server closed, or `timeout` passed.
    @discardableResult
    func read(until count: Int, timeout: Duration = .seconds(30)) -> [Event] {
        let deadline = ContinuousClock.now + timeout
        while events.count < count && !closed && ContinuousClock.now < deadline {
            let (bytes, closedNow) = client.receive(quiet: .milliseconds(50), total: .milliseconds(500))
            raw += bytes
            closed = closedNow
            parse()
        }
        return events
    }

    private func parse() {
        if !headDone, let end = raw.firstRange(of: [13, 10, 13, 10]) {
            let head = String(decoding: raw[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
            status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            raw.removeSubrange(..<end.upperBound)
            headDone = true
        }
        guard headDone else { return }
        if headers["transfer-encoding"] == nil {
            body += raw  // a problem document with Content-Length
            raw = []
        }
        // Chunks: size in hex, CRLF, data, CRLF.
        while let line = raw.firstRange(of: [13, 10]), let size = Int(String(decoding: raw[..<line.lowerBound], as: UTF8.self), radix: 16),
              raw.count >= line.upperBound + size + 2 {
            body += raw[line.upperBound..<(line.upperBound + size)]
            raw.removeSubrange(..<(line.upperBound + size + 2))
        }
        while let end = body.firstRange(of: [10, 10]) {
            let frame = String(decoding: body[..<end.lowerBound], as: UTF8.self)
            body.removeSubrange(..<end.upperBound)
            var event = Event(data: "")
            var data: [String] = []
            for line in frame.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") { continue }
                if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            guard !data.isEmpty else { continue }
            event.data = data.joined(separator: "\n")
            events.append(event)
        }
    }
}

final class EventTests: XCTestCase {
    static let emitter = BenchContracts.emitter

    /// Settings for a node whose webhooks go to a loopback receiver and retry quickly.
    static func fastWebhooks(backoff: Duration = .milliseconds(20), backoffMax: Duration = .milliseconds(200)) -> WebhookSettings {
        var settings = WebhookSettings()
        settings.policy = WebhookTargetPolicy(allowPrivate: true)
        settings.timeout = .milliseconds(500)
        settings.sweepInterval = .milliseconds(20)
        settings.backoffBase = backoff
        settings.backoffMax = backoffMax
        return settings
    }

    func deployEmitter(_ tenant: APITenant, chain: String) throws {
        let deployed = try tenant.client.send("POST", "/v1/chains/\(chain)/contracts?wait=commit",
                                              json: ["name": "emitter", "version": "1", "wat": Self.emitter])
        XCTAssertEqual(deployed.status, 200, deployed.text)
    }

    /// `count` calls of emitter.burst by a custodial identity; waits for the last one's commit.
    func burst(_ tenant: APITenant, chain: String, count: Int, tag: String) throws {
        for index in 0..<count {
            let wait = index == count - 1 ? "?wait=commit" : ""
            let call = try tenant.client.send("POST", "/v1/chains/\(chain)/transactions/call\(wait)",
                                              json: ["identity": "platform-admin", "contract": "emitter", "method": "burst", "args": "\(tag)\(index)-"])
            XCTAssertTrue([200, 202].contains(call.status), call.text)
        }
    }

    /// How many events the chain has, counted through the paginated list.
    func eventCount(_ tenant: APITenant, chain: String) throws -> Int {
        var count = 0
        var cursor: String?
        repeat {
            let page = try tenant.client.get("/v1/chains/\(chain)/events?limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
            count += (page["items"] as? [Any])?.count ?? 0
            cursor = page.string("next_cursor")
        } while cursor != nil
        return count
    }

    func webhook(_ tenant: APITenant, chain: String, _ body: [String: Any]) throws -> (id: String, secret: String) {
        let created = try tenant.client.send("POST", "/v1/chains/\(chain)/webhooks", json: body)
        XCTAssertEqual(created.status, 201, created.text)
        let view = try XCTUnwrap(created["webhook"] as? [String: Any])
        return (try XCTUnwrap(view["id"] as? String), try XCTUnwrap(created.string("secret")))
    }

    /// Checks the signature header as docs/events.md tells receivers to.
    func assertSigned(_ request: WebhookReceiver.Request, secret: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let timestamp = request.headers["hanse-timestamp"], let signature = request.headers["hanse-signature"] else {
            return XCTFail("no signature headers", file: file, line: line)
        }
        let expected = "v1=" + Hex.encode(HMACSHA256.tag(key: Array(secret.utf8), message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + request.body))
        XCTAssertEqual(signature, expected, file: file, line: line)
    }

    /// Runs the Python verifier of docs/events.md on a request the node sent: it accepts it, and
    /// refuses it with one body byte changed.
    func assertDocumentedVerifierAccepts(_ request: WebhookReceiver.Request, secret: String) throws {
        let document = try String(contentsOf: Repository.path("docs/events.md"), encoding: .utf8)
        let start = try XCTUnwrap(document.range(of: "<!-- verify-signature -->\n```python\n"))
        let end = try XCTUnwrap(document.range(of: "```\n<!-- /verify-signature -->"))
        var tampered = request.body
        tampered[tampered.count / 2] ^= 1
        let script = String(document[start.upperBound..<end.lowerBound]) + """

            import base64, json, sys
            case = json.load(sys.stdin)
            print(verify(case["secret"], case["headers"], base64.b64decode(case["body"])),
                  verify(case["secret"], case["headers"], base64.b64decode(case["tampered"])))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let payload: [String: Any] = ["secret": secret, "headers": request.headers, "body": Data(request.body).base64EncodedString(),
                                      "tampered": Data(tampered).base64EncodedString()]
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: payload))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(printed.trimmingCharacters(in: .whitespacesAndNewlines), "True False", "docs/events.md's verifier")
    }

    // MARK: - Block events and the live stream

    func testBlockEventsAndStreamResumedWithLastEventIDHaveNoGap() throws {
        var streams = EventStreams.Settings()
        streams.perTenantMax = 2
        streams.heartbeat = .milliseconds(200)
        let node = try APITestNode("events_stream", masterKey: SecureRandom().bytes(32), streams: streams)
        defer { node.stop() }
        let acme = try makeTenant(node, "acme")
        let chain = try provision(acme, "main", consensus: "solo")
        try deployEmitter(acme, chain: chain)

        // The cursor list: genesis and deploy blocks each have a block event, first in their height.
        let listed = try acme.client.get("/v1/chains/\(chain)/events?kind=block")
        let blockEvents = try XCTUnwrap(listed["items"] as? [[String: Any]])
        XCTAssertEqual(blockEvents.map { $0["height"] as? Int }, [0, 1])
        XCTAssertEqual(blockEvents.first?["id"] as? String, "\(chain):0:block")
        XCTAssertEqual(blockEvents.first?["contract"] as? String, "_chain")
        let genesis = try acme.client.get("/v1/chains/\(chain)/blocks/0")
        XCTAssertTrue((blockEvents.first?["data"] as? String)?.contains(genesis.string("hash") ?? "-") == true)
        XCTAssertEqual(try acme.client.get("/v1/chains/\(chain)/events?kind=everything").status, 400)

        // From the start (from_seq=0): everything so far, then live events as blocks commit.
        var received: [EventStreamClient.Event] = []
        do {
            let first = try EventStreamClient(port: node.port, path: "/v1/chains/\(chain)/events/stream?from_seq=0", token: acme.client.token!)
            try burst(acme, chain: chain, count: 3, tag: "a")
            received = Array(first.read(until: 10).prefix(10))
            XCTAssertEqual(first.status, 200)
            XCTAssertEqual(first.headers["content-type"], "text/event-stream")
            XCTAssertEqual(received.count, 10)
            // Two streams per tenant here: a third is refused while two are open.
            let second = try EventStreamClient(port: node.port, path: "/v1/chains/\(chain)/events/stream", token: acme.client.token!)
            second.read(until: 1, timeout: .milliseconds(300))
            XCTAssertEqual(second.status, 200)
            let third = try acme.client.get("/v1/chains/\(chain)/events/stream")
            XCTAssertEqual(third.status, 429, third.text)
            XCTAssertNotNil(third.headers["retry-after"])
        }
        // Both clients are gone; the next heartbeat notices.
        usleep(600_000)

        // Resume after the tenth event: the rest, then new blocks' events, with no gap and no repeat.
        let resumeAfter = try XCTUnwrap(received.last?.seq)
        try burst(acme, chain: chain, count: 2, tag: "b")
        let total = try eventCount(acme, chain: chain)
        let resumed = try EventStreamClient(port: node.port, path: "/v1/chains/\(chain)/events/stream", token: acme.client.token!,
                                            lastEventID: resumeAfter)
        received += resumed.read(until: total - 10)
        XCTAssertEqual(resumed.status, 200)
        XCTAssertEqual(received.compactMap(\.seq), Array(0..<Int64(total)), "every event once, in sequence")
        XCTAssertEqual(received.filter { $0.name == "block" }.count, Set(received.compactMap { $0.json["height"] as? Int }).count,
                       "one block event per height")
        XCTAssertTrue(received.allSatisfy { $0.name == $0.json["kind"] as? String })
        XCTAssertEqual(received.last?.json["topic"] as? String, "tick")
        try burst(acme, chain: chain, count: 1, tag: "c")
        let live = resumed.read(until: total - 10 + 21)
        XCTAssertEqual(live.last?.seq, Int64(total + 20), "a new block's 21 events arrive live")

        // Filters: only the contract's events, starting at a height.
        let filtered = try EventStreamClient(port: node.port, path: "/v1/chains/\(chain)/events/stream?contract=emitter&from_height=3",
                                             token: acme.client.token!)
        let ticks = filtered.read(until: 40)
        XCTAssertEqual(filtered.status, 200)
        XCTAssertGreaterThanOrEqual(ticks.count, 40)
        XCTAssertTrue(ticks.allSatisfy { $0.json["contract"] as? String == "emitter" && ($0.json["height"] as? Int ?? 0) >= 3 })

        // Another tenant's chain is "not found", for streams as for everything else; a bad Last-Event-ID is a 400.
        let other = try makeTenant(node, "other")
        XCTAssertEqual(try other.client.get("/v1/chains/\(chain)/events/stream").status, 404)
        XCTAssertEqual(try acme.client.request("GET", "/v1/chains/\(chain)/events/stream", headers: ["Last-Event-ID": "soon"]).status, 400)
    }

    func testSlowConsumerIsDisconnectedWithAReason() throws {
        let (database, pool) = try TestCluster.shared.makeMigratedDatabase("events_slow", platform: false, chainSchemas: ["chain_slow"])
        defer { pool.close(); try? TestCluster.shared.dropDatabase(database) }
        try pool.withConnection { connection in
            _ = try connection.query(sql: """
                INSERT INTO chain_slow.blocks (height, hash, previous_hash, tx_root, write_set_root, ledger_root, ledger_size, timestamp_ms, proposer,
                                               validator_set_hash, certificate)
                VALUES (0, sha256('b'), sha256('p'), sha256('t'), sha256('w'), sha256('l'), 0, 0, 0, sha256('v'), '{}')
                """, name: "test.block")
            _ = try connection.query(sql: """
                INSERT INTO chain_slow.events (seq, height, tx_index, event_index, contract, topic, data, kind)
                SELECT n, 0, 0, n, 'c', 't', convert_to(repeat('x', 1000), 'UTF8'), 'contract' FROM generate_series(0, 99) n
                """, name: "test.events")
        }
        /// A client that reads nothing: its unsent bytes only grow.
        final class StalledWriter: HTTPStreamWriter, @unchecked Sendable {
            let state = Mutex<(written: Int, last: [UInt8]?)>((0, nil))
            func write(_ bytes: [UInt8]) -> Bool { state.withLock { $0.written += bytes.count }; return true }
            func finish() { finish(with: []) }
            func finish(with last: [UInt8]) { state.withLock { $0.last = last } }
            var unsentBytes: Int { state.withLock { $0.written } }
        }
        var settings = EventStreams.Settings()
        settings.bufferBytesMax = 16 * 1024
        settings.slowConsumerGrace = .milliseconds(200)
        settings.batch = 10
        let streams = EventStreams(pool: pool, settings: settings)
        defer { streams.closeAll() }

        /// A client that reads at once: nothing stays unsent.
        final class ReadingWriter: HTTPStreamWriter, @unchecked Sendable {
            let state = Mutex<(writes: Int, bytes: [UInt8], finished: Bool)>((0, [], false))
            func write(_ bytes: [UInt8]) -> Bool { state.withLock { $0.writes += 1; $0.bytes += bytes }; return true }
            func finish() { finish(with: []) }
            func finish(with last: [UInt8]) { state.withLock { $0.finished = true } }
            var unsentBytes: Int { 0 }
        }
        // 100 KB of events through a 16 KiB buffer: several writes, every event once, in order.
        let reader = ReadingWriter()
        streams.attach(tenant: "t", chain: "c", schema: "chain_slow", filter: EventFilter(), cursor: -1, writer: reader)
        let readBy = Date().addingTimeInterval(10)
        func ids() -> [String] {
            String(decoding: reader.state.withLock { $0.bytes }, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
        }
        while ids().count < 100 && Date() < readBy { usleep(10_000) }
        XCTAssertEqual(ids(), (0..<100).map(String.init))
        XCTAssertGreaterThan(reader.state.withLock { $0.writes }, 5, "written in pieces of about the buffer's size")
        XCTAssertFalse(reader.state.withLock { $0.finished })

        let writer = StalledWriter()
        streams.attach(tenant: "t", chain: "c", schema: "chain_slow", filter: EventFilter(), cursor: -1, writer: writer)
        let deadline = Date().addingTimeInterval(10)
        while writer.state.withLock({ $0.last }) == nil && Date() < deadline { usleep(10_000) }
        let last = String(decoding: try XCTUnwrap(writer.state.withLock { $0.last }), as: UTF8.self)
        XCTAssertTrue(last.hasPrefix("event: error\n") && last.contains("slow-consumer"), last)
        XCTAssertTrue(last.contains("reconnect with Last-Event-ID"), last)
        XCTAssertLessThan(writer.unsentBytes, 16 * 1024 + 20_000, "it stopped reading once the buffer was full")
        XCTAssertEqual(streams.count, 1, "the reading client's stream stays open")
    }

    // MARK: - Webhooks

    func testWebhooksAreSignedOrderedRetriedDeadLetteredAndRedriven() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let node = try APITestNode("events_webhooks", masterKey: SecureRandom().bytes(32), webhooks: Self.fastWebhooks())
        defer { node.stop() }
        let acme = try makeTenant(node, "acme")
        let chain = try provision(acme, "main", consensus: "solo")
        try deployEmitter(acme, chain: chain)

        // Bad targets and fields are refused with the reason.
        for url in ["gopher://127.0.0.1/", "http://0.0.0.0:80/", "http://user:pw@127.0.0.1/x", "http://127.0.0.1:0/"] {
            let refused = try acme.client.send("POST", "/v1/chains/\(chain)/webhooks", json: ["url": url])
            XCTAssertEqual(refused.status, 422, "\(url): \(refused.text)")
        }
        XCTAssertEqual(try acme.client.send("POST", "/v1/chains/\(chain)/webhooks", json: ["url": receiver.url, "max_attempts": 0]).status, 400)
        XCTAssertEqual(try acme.client.send("POST", "/v1/chains/\(chain)/webhooks", json: ["url": receiver.url, "colour": "red"]).status, 400)

        // Every fourth request fails (500, reset or timeout): all 60 events still arrive, in order, signed.
        receiver.behave { number, _ in
            switch number % 8 {
            case 1: return .answer(500)
            case 3: return .reset
            case 5: return .hang(.seconds(1))
            default: return .answer(204)
            }
        }
        let (hook, secret) = try webhook(acme, chain: chain, ["url": receiver.url, "contract": "emitter", "max_attempts": 5, "description": "orders"])
        try burst(acme, chain: chain, count: 3, tag: "x")
        XCTAssertTrue(receiver.wait(timeout: .seconds(60)) { $0.filter { ($0.answered ?? 0) / 100 == 2 }.count >= 60 }, "\(receiver.delivered.count) delivered")
        let delivered = receiver.delivered
        XCTAssertEqual(delivered.compactMap(\.seq), delivered.compactMap(\.seq).sorted(), "in event order")
        XCTAssertEqual(Set(delivered.compactMap(\.seq)).count, 60, "each event delivered")
        XCTAssertGreaterThan(receiver.requests.count, 60, "failures were retried")
        for request in receiver.requests { assertSigned(request, secret: secret) }
        let sample = try XCTUnwrap(delivered.first)
        try assertDocumentedVerifierAccepts(sample, secret: secret)
        XCTAssertEqual(sample.headers["hanse-webhook-id"], hook)
        XCTAssertEqual((sample.json["event"] as? [String: Any])?["id"] as? String, sample.headers["hanse-event-id"])
        XCTAssertEqual(sample.json["delivery_id"] as? String, sample.headers["hanse-delivery-id"])
        let view = try acme.client.get("/v1/chains/\(chain)/webhooks/\(hook)")
        XCTAssertEqual((view["deliveries"] as? [String: Any])?["delivered"] as? Int, 60, view.text)

        // The delivery log: a retried delivery lists each attempt with its outcome.
        let page = try acme.client.get("/v1/chains/\(chain)/webhooks/\(hook)/deliveries?status=delivered&limit=100")
        let retried = try XCTUnwrap((page["items"] as? [[String: Any]])?.first { ($0["attempts"] as? Int ?? 0) > 1 }, page.text)
        let detail = try acme.client.get("/v1/chains/\(chain)/webhooks/\(hook)/deliveries/\(try XCTUnwrap(retried["id"] as? String))")
        let log = try XCTUnwrap(detail["log"] as? [[String: Any]], detail.text)
        XCTAssertEqual(log.count, retried["attempts"] as? Int)
        XCTAssertNotNil(log.first?["error"], "the failed attempt says why")
        XCTAssertEqual(log.last?["status"] as? Int, 204)

        // A receiver that always fails: after max_attempts the delivery is dead, and the ones behind it follow.
        receiver.behave { _, _ in .answer(503) }
        try burst(acme, chain: chain, count: 1, tag: "y")
        let deadPath = "/v1/chains/\(chain)/webhooks/\(hook)/deliveries?status=dead&limit=100"
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try acme.client.get(deadPath)["items"] as? [Any])?.count ?? 0 < 20 { usleep(50_000) }
        let dead = try XCTUnwrap(try acme.client.get(deadPath)["items"] as? [[String: Any]])
        XCTAssertEqual(dead.count, 20)
        XCTAssertEqual(dead.first?["attempts"] as? Int, 5)
        XCTAssertEqual(dead.first?["last_status"] as? Int, 503)

        // Redrive one, then the rest: all arrive once the receiver is back, in order.
        receiver.behave { _, _ in .answer(200) }
        let one = try acme.client.send("POST", "/v1/chains/\(chain)/webhooks/\(hook)/deliveries/\(try XCTUnwrap(dead.first?["id"] as? String))/redrive", json: [:])
        XCTAssertEqual(one["redriven"] as? Int, 1, one.text)
        let delivering = try acme.client.send("POST", "/v1/chains/\(chain)/webhooks/\(hook)/deliveries/\(try XCTUnwrap(delivered.first?.headers["hanse-delivery-id"]))/redrive", json: [:])
        XCTAssertEqual(delivering.status, 409, "only dead deliveries are redriven")
        XCTAssertTrue(receiver.wait(timeout: .seconds(30)) { $0.filter { $0.answered == 200 }.count >= 1 })
        let rest = try acme.client.send("POST", "/v1/chains/\(chain)/webhooks/\(hook)/redrive", json: [:])
        XCTAssertEqual(rest["redriven"] as? Int, 19, rest.text)
        XCTAssertTrue(receiver.wait(timeout: .seconds(30)) { $0.filter { $0.answered == 200 }.count >= 20 })
        let redriven = receiver.requests.filter { $0.answered == 200 }.compactMap(\.seq)
        XCTAssertEqual(Set(redriven).count, 20)
        XCTAssertEqual(Array(redriven.dropFirst()), Array(redriven.dropFirst()).sorted(), "the redriven rest in event order")

        // Pause holds deliveries back; resume sends them; delete ends the subscription.
        XCTAssertEqual(try acme.client.send("PATCH", "/v1/chains/\(chain)/webhooks/\(hook)", json: ["state": "paused"]).string("state"), "paused")
        let before = receiver.requests.count
        try burst(acme, chain: chain, count: 1, tag: "z")
        usleep(300_000)
        XCTAssertEqual(receiver.requests.count, before, "nothing is sent while paused")
        XCTAssertEqual(try acme.client.send("PATCH", "/v1/chains/\(chain)/webhooks/\(hook)", json: ["state": "active"]).string("state"), "active")
        XCTAssertTrue(receiver.wait(timeout: .seconds(30)) { $0.count >= before + 20 })
        let other = try makeTenant(node, "other")
        XCTAssertEqual(try other.client.get("/v1/chains/\(chain)/webhooks/\(hook)").status, 404)
        XCTAssertEqual(try acme.client.request("DELETE", "/v1/chains/\(chain)/webhooks/\(hook)").status, 204)
        XCTAssertEqual(try acme.client.get("/v1/chains/\(chain)/webhooks/\(hook)").status, 404)
    }

    /// Answers from a table; a name listed twice answers its second list from the second lookup on.
    final class TableResolver: HostResolver {
        let answers: [String: [[IPAddress]]]
        let lookups = Mutex<[String: Int]>([:])
        init(answers: [String: [[IPAddress]]]) { self.answers = answers }
        func resolve(_ host: String) throws -> [IPAddress] {
            let count = lookups.withLock { lookups in
                defer { lookups[host, default: 0] += 1 }
                return lookups[host, default: 0]
            }
            guard let lists = answers[host] else { throw WebhookTargetError("\(host) does not resolve") }
            return lists[min(count, lists.count - 1)]
        }
    }

    func testANameConnectsToTheAddressItWasValidatedForAndRebindingIsRefused() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        var settings = Self.fastWebhooks()
        let loopback = try XCTUnwrap(IPAddress("127.0.0.1")), metadata = try XCTUnwrap(IPAddress("169.254.169.254"))
        // Neither name exists in DNS: only the pinned address can lead to the receiver.
        settings.resolver = TableResolver(answers: ["receiver.hanse.test": [[loopback]], "rebind.hanse.test": [[loopback], [metadata]]])
        let node = try APITestNode("events_pinning", masterKey: SecureRandom().bytes(32), webhooks: settings)
        defer { node.stop() }
        let acme = try makeTenant(node, "acme")
        let chain = try provision(acme, "main", consensus: "solo")
        try deployEmitter(acme, chain: chain)
        let (named, _) = try webhook(acme, chain: chain, ["url": "http://receiver.hanse.test:\(receiver.port)/hook", "kind": "contract"])
        let (rebound, _) = try webhook(acme, chain: chain, ["url": "http://rebind.hanse.test:\(receiver.port)/rebound", "kind": "contract",
                                                             "max_attempts": 2])
        try burst(acme, chain: chain, count: 1, tag: "p")
        XCTAssertTrue(receiver.wait(timeout: .seconds(30)) { $0.count >= 20 })
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try acme.client.get("/v1/chains/\(chain)/webhooks/\(rebound)")["deliveries"] as? [String: Int])?["dead"] ?? 0 < 20 {
            usleep(50_000)
        }
        XCTAssertTrue(receiver.requests.allSatisfy { $0.headers["hanse-webhook-id"] == named }, "nothing reached the receiver through the rebound name")
        XCTAssertEqual(receiver.delivered.count, 20)
        let dead = try acme.client.get("/v1/chains/\(chain)/webhooks/\(rebound)/deliveries?status=dead&limit=1")
        let first = try XCTUnwrap((dead["items"] as? [[String: Any]])?.first, dead.text)
        XCTAssertTrue((first["last_error"] as? String)?.contains("169.254.169.254") == true, dead.text)
    }

    func testReceiverDownForAnHourGetsEverythingInOrderAndMaxAgeEndsOlderDeliveries() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let clock = ShiftedClock()
        // Production retry timing: 1 s doubling to 10 minutes.
        let node = try APITestNode("events_hour", masterKey: SecureRandom().bytes(32),
                                   webhooks: Self.fastWebhooks(backoff: .seconds(1), backoffMax: .seconds(600)), clock: clock)
        defer { node.stop() }
        let acme = try makeTenant(node, "acme")
        let chain = try provision(acme, "main", consensus: "solo")
        try deployEmitter(acme, chain: chain)
        let (patient, secret) = try webhook(acme, chain: chain, ["url": receiver.url, "kind": "contract"])
        let (hasty, _) = try webhook(acme, chain: chain, ["url": receiver.url + "?hasty", "kind": "contract", "max_age_seconds": 1800])

        receiver.behave { _, _ in .answer(503) }
        try burst(acme, chain: chain, count: 5, tag: "h")
        // An hour in five-minute steps; each step lets the due retries run.
        for _ in 0..<12 {
            clock.advance(.seconds(300))
            let count = receiver.requests.count
            _ = receiver.wait(timeout: .seconds(5)) { $0.count > count }
            usleep(100_000)
        }
        let failures = receiver.requests.count
        XCTAssertGreaterThanOrEqual(failures, 12, "the head was retried while the receiver was down")
        receiver.behave { _, _ in .answer(200) }
        // The longest wait between retries is 10 minutes plus up to 20 % jitter.
        clock.advance(.seconds(900))
        XCTAssertTrue(receiver.wait(timeout: .seconds(60)) { $0.filter { $0.answered == 200 }.count >= 100 })
        let delivered = receiver.delivered
        XCTAssertEqual(delivered.compactMap(\.seq), delivered.compactMap(\.seq).sorted())
        XCTAssertEqual(delivered.count, 100, "the patient subscription gets all 100 events once; the hasty one none")
        XCTAssertTrue(delivered.allSatisfy { $0.headers["hanse-webhook-id"] == patient })
        for request in delivered { assertSigned(request, secret: secret) }
        let hastyDead = try acme.client.get("/v1/chains/\(chain)/webhooks/\(hasty)")
        XCTAssertEqual((hastyDead["deliveries"] as? [String: Any])?["dead"] as? Int, 100, hastyDead.text)
    }

    func testANodeRestartedDuringDeliveryResumesFromTheOutbox() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let masterKey = SecureRandom().bytes(32)
        let first = try APITestNode("events_restart", masterKey: masterKey, webhooks: Self.fastWebhooks())
        let acme = try makeTenant(first, "acme")
        let chain = try provision(acme, "main", consensus: "solo")
        try deployEmitter(acme, chain: chain)
        let (_, secret) = try webhook(acme, chain: chain, ["url": receiver.url, "kind": "contract"])
        receiver.behave { number, _ in number % 10 == 9 ? .hang(.seconds(1)) : .answer(200) }
        try burst(acme, chain: chain, count: 10, tag: "r")
        XCTAssertTrue(receiver.wait(timeout: .seconds(60)) { $0.filter { $0.answered == 200 }.count >= 40 })
        first.stop()
        let stoppedAt = receiver.delivered.count
        XCTAssertLessThan(stoppedAt, 200, "the node stopped with deliveries left")

        let second = try APITestNode("events_restart_2", pool: first.pool, masterKey: masterKey, webhooks: Self.fastWebhooks())
        defer { second.stop() }
        XCTAssertTrue(receiver.wait(timeout: .seconds(60)) { Set($0.filter { $0.answered == 200 }.compactMap(\.seq)).count >= 200 })
        let seqs = receiver.delivered.compactMap(\.seq)
        XCTAssertEqual(Set(seqs).count, 200, "every event arrived")
        var firstSeen: [Int64] = []
        var seen = Set<Int64>()
        for seq in seqs where seen.insert(seq).inserted { firstSeen.append(seq) }
        XCTAssertEqual(firstSeen, firstSeen.sorted(), "first arrivals in event order")
        for request in receiver.requests { assertSigned(request, secret: secret) }
    }
}
