internal import API
internal import ArgumentParser
internal import Crypto
internal import Dispatch
internal import Foundation
internal import HanseCore
internal import HTTP1
internal import HTTPServer
internal import Node
internal import Synchronization

/// `hanse bench events`: how fast committed events reach consumers. A solo chain commits N
/// contract events (20 per transaction) while its webhook subscriptions are paused, so the outbox
/// holds them all; then the subscriptions are resumed and the clock measures the drain to a
/// receiver in this process (our HTTP server on a loopback socket, checking every signature), and
/// a live stream (Server-Sent Events) reading the same events from the start.
struct EventBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Webhook deliveries/s and live-stream events/s to local consumers.")

    @Option(help: "Contract events to deliver (a multiple of 20).") var events = 20_000
    @Option(help: "Webhook subscriptions (each gets every event, in order, one request at a time).") var subscriptions = 4
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (20...1_000_000).contains(events), events % 20 == 0 else { throw ValidationError("--events must be a multiple of 20 in 20...1000000") }
        guard (1...50).contains(subscriptions) else { throw ValidationError("--subscriptions must be in 1...50") }
    }

    /// Answers 204 to a correctly signed delivery, 401 otherwise, and counts both.
    final class Receiver: HTTPHandler, @unchecked Sendable {
        let secret: [UInt8]
        let accepted = Atomic<Int>(0)
        let refused = Atomic<Int>(0)
        init(secret: String) { self.secret = Array(secret.utf8) }

        func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
            let timestamp = request.head.headers["Hanse-Timestamp"] ?? ""
            let signature = request.head.headers["Hanse-Signature"] ?? ""
            let expected = "v1=" + WebhookDispatcher.signature(secret: secret, timestamp: timestamp, body: request.body)
            if constantTimeEquals(Array(signature.utf8), Array(expected.utf8)) {
                accepted.add(1, ordering: .relaxed)
                responder.respond(HTTPResponse(status: 204))
            } else {
                refused.add(1, ordering: .relaxed)
                responder.respond(HTTPResponse(status: 401))
            }
        }
        func bodyLimit(for head: HTTPRequestHead) -> Int { 1 << 20 }
        func errorResponse(status: Int, detail: String) -> HTTPResponse { HTTPResponse(status: status) }
    }

    func run() throws {
        try database.withDatabase(logging: logging, label: "hanse.bench") { handle in
            var settings = WebhookSettings()
            settings.policy = WebhookTargetPolicy(allowPrivate: true)
            settings.sweepInterval = .milliseconds(100)
            let (platform, _) = try handle.benchPlatform(webhooks: settings)
            defer { platform.stop() }
            try platform.start()
            let secret = "bench-secret-" + Hex.encode(SecureRandom().bytes(16))
            let receiver = Receiver(secret: secret)
            let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: receiver, loopCount: 1)
            defer { server.shutdown() }
            print("hanse bench events: \(events) contract events, \(subscriptions) webhook subscriptions, receiver and node in one process, \(ProcessInfo.processInfo.activeProcessorCount) cores")

            let tenant = try platform.createTenant(request(CreateTenantRequest.self,
                #"{"name":"events-\#(Int(Date().timeIntervalSince1970))","quotas":{"chains":10,"tx_per_second":1000000,"storage_bytes":1099511627776}}"#))
            let chain = try platform.provisionBenchChain(tenant: tenant.id, kind: "solo")
            let install = try JSONSerialization.data(withJSONObject: ["name": "emitter", "version": "1", "wat": BenchContracts.emitter])
            _ = try platform.installContract(tenant: tenant.id, chain: chain, upgrade: false,
                                             request(InstallContractRequest.self, String(decoding: install, as: UTF8.self)), code: nil, wait: .seconds(30))
            var hooks: [String] = []
            for index in 0..<subscriptions {
                let body = try JSONSerialization.data(withJSONObject: ["url": "http://127.0.0.1:\(server.port)/hook/\(index)", "kind": "contract",
                                                                       "secret": secret])
                let hook = try platform.createWebhook(tenant: tenant.id, chain: chain, request(CreateWebhookRequest.self, String(decoding: body, as: UTF8.self)))
                hooks.append(hook.webhook.id)
                _ = try platform.updateWebhook(tenant: tenant.id, chain: chain, id: hook.webhook.id, request(UpdateWebhookRequest.self, #"{"state":"paused"}"#))
            }

            // Commit the events with the subscriptions paused: the outbox fills.
            let clock = ContinuousClock()
            var start = clock.now
            let calls = events / 20
            let remaining = Atomic<Int>(calls)
            for index in 0..<calls {
                let call = try request(CallRequest.self, #"{"identity":"platform-admin","contract":"emitter","method":"burst","args":"e\#(index)-"}"#)
                platform.call(tenant: tenant.id, chain: chain, call, wait: .seconds(30)) { result in
                    if case .failure(let error) = result { print("  a call failed: \(error)") }
                    remaining.subtract(1, ordering: .relaxed)
                }
            }
            while remaining.load(ordering: .relaxed) > 0 { usleep(10_000) }
            print(String(format: "  committed %d events in %.1f s (%d transactions), outbox rows: %d", events, (clock.now - start).secondsDouble, calls,
                         events * subscriptions))

            // Drain the outbox.
            start = clock.now
            for hook in hooks {
                _ = try platform.updateWebhook(tenant: tenant.id, chain: chain, id: hook, request(UpdateWebhookRequest.self, #"{"state":"active"}"#))
            }
            let total = events * subscriptions
            var lastReport = clock.now
            while receiver.accepted.load(ordering: .relaxed) < total && clock.now - start < .seconds(3600) {
                usleep(20_000)
                if clock.now - lastReport >= .seconds(2) {
                    lastReport = clock.now
                    let done = receiver.accepted.load(ordering: .relaxed)
                    print(String(format: "  … %d of %d delivered, %.0f/s", done, total, Double(done) / (clock.now - start).secondsDouble))
                }
            }
            let seconds = (clock.now - start).secondsDouble
            var delivered = 0
            for hook in hooks { delivered += Int(try platform.webhook(tenant: tenant.id, chain: chain, id: hook).deliveries.delivered) }
            print(String(format: "  webhooks: %d deliveries (%d subscriptions x %d events) in %.1f s = %.0f deliveries/s; signatures refused: %d; marked delivered: %d",
                         receiver.accepted.load(ordering: .relaxed), subscriptions, events, seconds, Double(receiver.accepted.load(ordering: .relaxed)) / seconds,
                         receiver.refused.load(ordering: .relaxed), delivered))

            // A live stream from the first event.
            let key = try platform.createAPIKey(tenant: tenant.id, request(CreateAPIKeyRequest.self, #"{"name":"bench","scopes":["read"]}"#))
            let api = try HTTPServer(address: "127.0.0.1", port: 0, handler: APIApplication(
                router: try Router(PlatformRoutes.eventRoutes(platform)),
                configuration: APIConfiguration(verifyOperatorToken: { _ in false }, authenticateAPIKey: { platform.authenticate(apiKey: $0) }),
                logger: handle.logger), loopCount: 1)
            defer { api.shutdown() }
            start = clock.now
            let streamed = try readStream(port: api.port, path: "/v1/chains/\(chain)/events/stream?from_seq=0&kind=contract", token: key.secret, events: events)
            let streamSeconds = (clock.now - start).secondsDouble
            print(String(format: "  live stream (SSE, one client, from seq 0): %d events in %.2f s = %.0f events/s", streamed, streamSeconds,
                         Double(streamed) / streamSeconds))
        }
    }

    /// Reads a Server-Sent Events response until `events` events arrived; returns how many did.
    private func readStream(port: Int, path: String, token: String, events: Int) throws -> Int {
        let client = try KeepAliveClient(port: port)
        try client.send(Array("GET \(path) HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer \(token)\r\n\r\n".utf8))
        let marker = Array("\nevent: contract\n".utf8)
        var carry: [UInt8] = []
        var seen = 0
        while seen < events {
            let bytes = client.receive(timeout: 30)
            guard !bytes.isEmpty else { break }
            carry += bytes
            var searchFrom = carry.startIndex
            while let found = carry[searchFrom...].firstRange(of: marker) {
                seen += 1
                searchFrom = found.upperBound
            }
            carry = Array(carry[searchFrom...].suffix(marker.count - 1))
        }
        return seen
    }
}
