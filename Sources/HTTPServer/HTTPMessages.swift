public import HTTP1

/// A complete request as handlers see it: the validated head and the whole body.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// The peer's address, `ip:port`.
    public var remoteAddress: String

    public init(head: HTTPRequestHead, body: [UInt8] = [], remoteAddress: String = "") {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
    }
}

/// A response: a status, fields, and either a body in memory or a stream.
public struct HTTPResponse: Sendable {
    /// Where the body comes from.
    public enum Body: Sendable {
        /// The whole body, sent with `Content-Length`.
        case bytes([UInt8])
        /// A body produced over time, sent chunked. The closure is called once, on a background
        /// queue, with a writer it may keep and use from any thread until it calls `finish`.
        case stream(@Sendable (any HTTPStreamWriter) -> Void)
    }

    public var status: Int
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Receives the one response to a request. Safe to call from any thread; a second call, or a
/// call after the client went away, is ignored.
public protocol HTTPResponder: Sendable {
    func respond(_ response: HTTPResponse)
}

/// Writes a streamed response body. Thread-safe.
public protocol HTTPStreamWriter: Sendable {
    /// Queues bytes; returns false if the connection is gone or holds more unsent output than
    /// its limit (a consumer too slow: the producer should stop and call `finish`).
    @discardableResult func write(_ bytes: [UInt8]) -> Bool
    /// Ends the body.
    func finish()
    /// Ends the body after `last`, which is queued even past the limit (a final notice such as
    /// why the stream ends; keep it small).
    func finish(with last: [UInt8])
    /// Bytes written but not yet taken by the client's socket.
    var unsentBytes: Int { get }
}

/// The application behind the server. `handle` is called on an event-loop thread and must not
/// block: work that waits (database, disk) belongs on another queue, answering through `responder`.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, responder: any HTTPResponder)
    /// The largest body this request may carry (per route); called when its head arrives.
    func bodyLimit(for head: HTTPRequestHead) -> Int
    /// The response for a request the server refused itself (parse errors, timeouts, overload).
    func errorResponse(status: Int, detail: String) -> HTTPResponse
}
