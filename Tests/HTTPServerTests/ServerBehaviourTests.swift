// The running server on real sockets: a slow client is cut off at the header timeout, a thousand
// idle connections do not keep a new client out, the connection cap refuses cleanly, a shutdown
// under load answers every request it delivered, and streamed bodies arrive chunked.
import Foundation
import Glibc
import HanseTesting
import HTTP1
import HTTPServer
import HanseCore
import Synchronization
import XCTest

final class ServerBehaviourTests: XCTestCase {
    func testOneHeaderByteASecondIsCutOffAtTheHeaderTimeout() throws {
        var limits = Limits()
        limits.httpHeaderTimeout = .seconds(3)
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: EchoHandler(), limits: limits, loopCount: 1)
        defer { server.shutdown(grace: .seconds(1)) }
        let client = try TestClient(port: server.port)
        let start = ContinuousClock.now
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n\r\n".utf8)
        var answered: (bytes: [UInt8], closed: Bool) = ([], false)
        for byte in request {
            // The client keeps sending across the timeout: the server closes with a lingering
            // close (FIN, then it drains input), so the 408 still arrives instead of a reset.
            guard client.send([byte]) else { break }
            answered = client.receive(quiet: .seconds(1), total: .seconds(1))
            if answered.closed || !answered.bytes.isEmpty { break }
        }
        if !answered.closed { answered = client.receive(quiet: .seconds(2)) }
        let elapsed = ContinuousClock.now - start
        XCTAssertEqual(TestResponse.parseAll(answered.bytes).responses.first?.status, 408)
        XCTAssertGreaterThanOrEqual(elapsed, .seconds(3))
        XCTAssertLessThan(elapsed, .seconds(6), "cut off at the header timeout (checked every 200 ms)")
    }

    /// A client still sending an upload the server refused (by its head) gets the 413. (On
    /// loopback the answer arrives before any reset could, so this does not show the lingering
    /// close by itself; it guards the refusal path while the client keeps writing.)
    func testARefusedUploadStillReadsItsAnswerWhileSending() throws {
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: EchoHandler(), loopCount: 1)
        defer { server.shutdown(grace: .seconds(1)) }
        for _ in 0..<5 {
            let client = try TestClient(port: server.port)
            let body = [UInt8](repeating: 0x61, count: 4 << 20)
            _ = client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n")
            // Keep sending after the server has answered; stop when it stops reading.
            for offset in stride(from: 0, to: body.count, by: 64 << 10) {
                guard client.send(body[offset..<min(offset + (64 << 10), body.count)]) else { break }
            }
            let answer = client.receive(quiet: .seconds(1), total: .seconds(5))
            XCTAssertEqual(TestResponse.parseAll(answer.bytes).responses.first?.status, 413, String(decoding: answer.bytes.prefix(200), as: UTF8.self))
        }
    }

    func testAThousandIdleConnectionsDoNotKeepANewClientOut() throws {
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: EchoHandler(), loopCount: 2)
        defer { server.shutdown(grace: .seconds(1)) }
        let idle = try (0..<1000).map { _ in try TestClient(port: server.port) }
        for client in idle.prefix(500) { _ = client.send("GET / HT") }  // half of them mid-request
        let fresh = try TestClient(port: server.port)
        let start = ContinuousClock.now
        _ = fresh.send("GET /fresh HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(fresh.readResponse()?.status, 200)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        XCTAssertEqual(server.statistics.openConnections, 1001)
    }

    func testConnectionsOverTheCapAreRefusedWith503() throws {
        var limits = Limits()
        limits.httpConnectionsMax = 10
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: EchoHandler(), limits: limits, loopCount: 1)
        defer { server.shutdown(grace: .seconds(1)) }
        let held = try (0..<10).map { _ in try TestClient(port: server.port) }
        _ = held[0].send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(held[0].readResponse()?.status, 200)
        let extra = try TestClient(port: server.port)
        let refused = extra.receive(quiet: .seconds(2))
        XCTAssertEqual(TestResponse.parseAll(refused.bytes).responses.first?.status, 503)
        XCTAssertTrue(refused.closed)
        XCTAssertEqual(server.statistics.refusedConnections, 1)
    }

    func testShutdownUnderLoadAnswersEveryDeliveredRequest() throws {
        let handler = EchoHandler(delay: .milliseconds(5))
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: handler, loopCount: 2)
        let answered = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let group = DispatchGroup()
        for worker in 0..<16 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                guard let client = try? TestClient(port: server.port) else { return }
                while !stop.load(ordering: .relaxed) {
                    guard client.send("GET /\(worker) HTTP/1.1\r\nHost: x\r\n\r\n"), let response = client.readResponse(timeout: .seconds(5)) else { return }
                    if response.status == 200 { answered.add(1, ordering: .relaxed) }
                    if response.headers["connection"] == "close" { return }
                }
            }
        }
        usleep(300_000)
        server.shutdown(grace: .seconds(5))
        stop.store(true, ordering: .relaxed)
        group.wait()
        XCTAssertGreaterThan(answered.load(ordering: .relaxed), 100)
        XCTAssertEqual(handler.handled.load(ordering: .relaxed), answered.load(ordering: .relaxed),
                       "every request the handler received was answered before the connections closed")
        XCTAssertNil(try? TestClient(port: server.port), "no longer accepting")
    }

    func testRunningOutOfDescriptorsPausesAcceptingWithoutSpinning() throws {
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: EchoHandler(), loopCount: 1)
        defer { server.shutdown(grace: .seconds(1)) }
        var original = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &original)
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        var tight = original
        tight.rlim_cur = rlim_t(open + 6)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &tight)
        var clients: [TestClient] = []
        while let client = try? TestClient(port: server.port) { clients.append(client) }  // until this process has no descriptor left
        func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let before = cpuSeconds()
        usleep(600_000)
        let spent = cpuSeconds() - before
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &original)
        XCTAssertLessThan(spent, 0.3, "the event loop must not spin on a listening socket it cannot accept from")
        clients.removeAll()
        let fresh = try TestClient(port: server.port)
        _ = fresh.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(fresh.readResponse()?.status, 200, "accepting resumes once descriptors are free")
    }

    func testHalfClosedClientStillGetsItsAnswer() throws {
        let handler = EchoHandler(delay: .milliseconds(300))
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: handler, loopCount: 1)
        defer { server.shutdown(grace: .seconds(1)) }
        let client = try TestClient(port: server.port)
        _ = client.send("GET /late HTTP/1.1\r\nHost: x\r\n\r\n")
        shutdown(client.fd, Int32(SHUT_WR))
        let answer = client.receive(quiet: .seconds(2))
        let responses = TestResponse.parseAll(answer.bytes).responses
        XCTAssertEqual(responses.map(\.status), [200])
        XCTAssertEqual(responses.first?.headers["connection"], "close")
        XCTAssertTrue(answer.closed)
    }

    func testStreamedBodyIsChunked() throws {
        struct Streamer: HTTPHandler {
            func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
                responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/event-stream")]), body: .stream { writer in
                    for index in 0..<3 { writer.write(Array("data: \(index)\n\n".utf8)) }
                    writer.finish()
                }))
            }
            func bodyLimit(for head: HTTPRequestHead) -> Int { 0 }
            func errorResponse(status: Int, detail: String) -> HTTPResponse { HTTPResponse(status: status) }
        }
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: Streamer(), loopCount: 1)
        defer { server.shutdown(grace: .seconds(1)) }
        let client = try TestClient(port: server.port)
        _ = client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.headers["transfer-encoding"], "chunked")
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "data: 0\n\ndata: 1\n\ndata: 2\n\n")
        _ = client.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200, "keep-alive after a streamed response")
    }
}
