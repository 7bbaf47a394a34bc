internal import Glibc
public import Foundation
internal import Synchronization

/// A webhook receiver for tests, on a real loopback socket: one request per connection (the
/// platform's client does not reuse connections), and for each request a behaviour chosen by
/// the test — answer with a status, hang past the sender's timeout, or reset the connection.
public final class WebhookReceiver: @unchecked Sendable {
    public enum Behaviour: Sendable {
        case answer(Int)
        /// Answer after a while (longer than the sender's timeout: the sender gives up).
        case hang(Duration)
        /// Close with a TCP reset, without answering.
        case reset
    }

    /// One request as it arrived, and what the receiver did with it.
    public struct Request: Sendable {
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: [UInt8]
        public var answered: Int?
        public var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
        public var seq: Int64? { headers["hanse-event-seq"].flatMap { Int64($0) } }
    }

    public let port: Int
    private let listener: Int32
    private let state = Mutex<(requests: [Request], decide: @Sendable (Int, [String: String]) -> Behaviour)>(([], { _, _ in .answer(200) }))
    private let stopped = Atomic<Bool>(false)

    public init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw APIClient.Failure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 512) == 0 else { throw APIClient.Failure(description: "bind/listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// The URL to subscribe.
    public var url: String { "http://127.0.0.1:\(port)/hook" }

    /// Chooses the behaviour for each request from its number (0, 1, …) and its headers.
    public func behave(_ decide: @escaping @Sendable (_ number: Int, _ headers: [String: String]) -> Behaviour) {
        state.withLock { $0.decide = decide }
    }

    /// Every request so far, in arrival order.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// The requests answered with a 2xx, in arrival order.
    public var delivered: [Request] { requests.filter { ($0.answered ?? 0) / 100 == 2 } }

    /// Waits until `condition` holds for the requests, or `timeout` passes; returns whether it held.
    public func wait(timeout: Duration, until condition: ([Request]) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(requests) { return true }
            usleep(10_000)
        }
        return condition(requests)
    }

    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                return
            }
            DispatchQueue.global().async { [self] in serve(connection) }
        }
    }

    private func serve(_ connection: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        func fill() -> Bool {
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer += chunk[0..<count]
            return true
        }
        var headEnd: Int?
        while headEnd == nil {
            guard fill() else { close(connection); return }
            headEnd = buffer.firstRange(of: [13, 10, 13, 10]).map(\.upperBound)
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        var headers: [String: String] = [:]
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count - headEnd! < length {
            guard fill() else { close(connection); return }
        }
        let body = Array(buffer[headEnd!..<(headEnd! + length)])
        let (number, decide) = state.withLock { ($0.requests.count, $0.decide) }
        let behaviour = decide(number, headers)
        var request = Request(headers: headers, body: body, answered: nil)
        switch behaviour {
        case .answer(let status):
            request.answered = status
            state.withLock { $0.requests.append(request) }
            let response = Array("HTTP/1.1 \(status) Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".utf8)
            _ = response.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(connection)
        case .hang(let duration):
            state.withLock { $0.requests.append(request) }
            usleep(UInt32(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000))
            close(connection)
        case .reset:
            state.withLock { $0.requests.append(request) }
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(connection)
        }
    }
}
