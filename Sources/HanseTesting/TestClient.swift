// A blocking TCP client and a response reader for tests of the HTTP server and API.
internal import Glibc
internal import Foundation

/// A blocking TCP client for tests.
public final class TestClient {
    public let fd: Int32

    /// Connects to 127.0.0.1:`port`.
    public init(port: Int) throws {
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
    public func send<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let sent = array.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until the server closes or nothing arrives for `quiet`; returns the bytes and
    /// whether the server closed.
    public func receive(quiet: Duration = .milliseconds(300), total: Duration = .seconds(10)) -> (bytes: [UInt8], closed: Bool) {
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
    public func readResponse(timeout: Duration = .seconds(10), headRequest: Bool = false) -> TestResponse? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let parsed = TestResponse.parseAll(received, headRequest: headRequest)
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
public struct TestResponse: Equatable, Sendable {
    public var status: Int
    /// Field names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]

    /// Every complete response in `bytes` (Content-Length or chunked bodies), plus leftovers.
    /// With `headRequest`, responses carry no body whatever their Content-Length says.
    public static func parseAll(_ bytes: [UInt8], headRequest: Bool = false) -> (responses: [TestResponse], rest: Int) {
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
            if headRequest {
                body = []
            } else if headers["transfer-encoding"] == "chunked" {
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

