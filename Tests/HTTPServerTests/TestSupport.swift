// Test support for the server tests: a blocking TCP client on real sockets, a response reader,
// a manual clock, and an echo handler that answers with what the server parsed.
import Foundation
import Glibc
import HTTP1
import HTTPServer
import HanseCore
import Synchronization

/// A blocking TCP client for tests.
final class TestClient {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Sends all bytes; false if the server closed the connection.
    @discardableResult
    func send<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let sent = array.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until the server closes or nothing arrives for `quiet`; returns the bytes and
    /// whether the server closed.
    func receive(quiet: Duration = .milliseconds(300), total: Duration = .seconds(10)) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + total
        while ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(quiet.components.seconds * 1000 + quiet.components.attoseconds / 1_000_000_000_000_000))
            // With no quiet period, one more zero-wait poll still sees a close that is already queued.
            if ready <= 0 { return (received, false) }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (received, true) }
            received += buffer[0..<count]
        }
        return (received, false)
    }

    /// Reads exactly one response with a Content-Length body (or none).
    func readResponse(timeout: Duration = .seconds(10)) -> TestResponse? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let parsed = TestResponse.parseAll(received)
            if let first = parsed.responses.first { return first }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 || ContinuousClock.now < deadline else { continue }
            if descriptor.revents == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            received += buffer[0..<count]
        }
        return nil
    }
}

/// A response read back from the wire.
struct TestResponse: Equatable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    /// Every complete response in `bytes` (Content-Length or chunked bodies), plus leftovers.
    static func parseAll(_ bytes: [UInt8]) -> (responses: [TestResponse], rest: Int) {
        var responses: [TestResponse] = []
        var index = 0
        while true {
            guard let headEnd = find([13, 10, 13, 10], in: bytes, from: index) else { break }
            let head = String(decoding: bytes[index..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
            let statusParts = head[0].split(separator: " ")
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else { break }
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            var cursor = headEnd + 4
            var body: [UInt8] = []
            if status == 100 {
                index = cursor
                continue
            }
            if headers["transfer-encoding"] == "chunked" {
                var complete = false
                while let lineEnd = find([13, 10], in: bytes, from: cursor) {
                    let size = Int(String(decoding: bytes[cursor..<lineEnd], as: UTF8.self), radix: 16) ?? 0
                    cursor = lineEnd + 2
                    if size == 0 { cursor += 2; complete = cursor <= bytes.count; break }
                    guard cursor + size + 2 <= bytes.count else { break }
                    body += bytes[cursor..<cursor + size]
                    cursor += size + 2
                }
                guard complete else { break }
            } else {
                let length = Int(headers["content-length"] ?? "0") ?? 0
                guard cursor + length <= bytes.count else { break }
                body = Array(bytes[cursor..<cursor + length])
                cursor += length
            }
            responses.append(TestResponse(status: status, headers: headers, body: body))
            index = cursor
        }
        return (responses, bytes.count - index)
    }

    private static func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        for index in start...(bytes.count - pattern.count) where bytes[index] == pattern[0] {
            if Array(bytes[index..<index + pattern.count]) == pattern { return index }
        }
        return nil
    }
}

/// A clock the test moves by hand.
final class ManualClock: HanseClock, @unchecked Sendable {
    private let time = Mutex<Duration>(.seconds(1000))
    var now: Duration { time.withLock { $0 } }
    var wallMilliseconds: Int64 { 1_795_219_200_000 + now.components.seconds * 1000 }
    func advance(_ by: Duration) { time.withLock { $0 += by } }
}

/// Answers every request with a JSON echo of what the server parsed; counts what it handled.
final class EchoHandler: HTTPHandler {
    let handled = Atomic<Int>(0)
    let delay: Duration

    init(delay: Duration = .zero) { self.delay = delay }

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        handled.add(1, ordering: .relaxed)
        let object: [String: Any] = [
            "method": request.head.method, "target": request.head.target,
            "headers": request.head.headers.fields.map { [$0.name, $0.value] },
            "body_b64": Data(request.body).base64EncodedString(),
        ]
        let body = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: .bytes([UInt8](body)))
        if delay == .zero {
            responder.respond(response)
        } else {
            // A thread per request: Dispatch's global queues on Linux do not grow when threads block.
            let wait = delay
            Thread.detachNewThread {
                usleep(UInt32(wait.components.seconds * 1_000_000 + wait.components.attoseconds / 1_000_000_000_000))
                responder.respond(response)
            }
        }
    }

    func bodyLimit(for head: HTTPRequestHead) -> Int { Limits().httpRequestBodyBytesMax }

    func errorResponse(status: Int, detail: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: .bytes(Array(detail.utf8)))
    }
}
