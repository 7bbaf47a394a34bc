public import HTTP1
public import HanseCore

/// The logic of one HTTP/1.1 connection, with no sockets and no clock: events go in, actions
/// come out (as SwiftNIO's and Hummingbird's connection state machines). The event loop performs
/// the actions. Tested on its own with a manual clock.
///
/// Requests are answered one at a time in the order received (pipelining); the next request is
/// delivered only when the previous response is complete. Timeouts: the head must arrive within
/// `httpHeaderTimeout` of its first byte, the body must make progress every `httpBodyTimeout`,
/// an idle keep-alive connection lasts `httpIdleTimeout`, and unsent output may stay blocked for
/// `httpWriteTimeout`.
public struct ConnectionStateMachine: Sendable {
    /// What the event loop must do.
    public enum Action: Sendable, Equatable {
        /// Call the handler with this request.
        case deliver(HTTPRequestHead, [UInt8])
        /// Queue bytes for sending.
        case write([UInt8])
        /// Close once queued bytes are sent.
        case close
        /// Close at once, dropping unsent bytes (the peer stopped reading).
        case abort
    }

    private enum Phase: Sendable, Equatable {
        /// Waiting for (more of) a request; nothing delivered.
        case reading
        /// A request was delivered; waiting for the handler's response.
        case awaitingResponse(method: String, keepAlive: Bool)
        /// A chunked response is being streamed.
        case streaming(keepAlive: Bool)
        /// Closing: nothing more is read or delivered.
        case closing
    }

    private let limits: Limits
    private let bodyLimit: @Sendable (HTTPRequestHead) -> Int
    private let errorResponse: @Sendable (Int, String) -> HTTPResponse
    private var parser: HTTPRequestParser
    private var phase: Phase = .reading
    private var queue: [(head: HTTPRequestHead, body: [UInt8])] = []
    private var partial: (head: HTTPRequestHead, body: [UInt8])?
    private var pendingError: HTTPParseError?
    private var idleSince: Duration
    private var headStartedAt: Duration?
    private var bodyProgressAt: Duration?
    private var outputBlockedSince: Duration?
    private var readClosed = false
    private var shuttingDown = false

    /// Most parsed requests held while an earlier one is being answered.
    public static let queuedRequestsMax = 16

    public init(limits: Limits, now: Duration,
                bodyLimit: @escaping @Sendable (HTTPRequestHead) -> Int,
                errorResponse: @escaping @Sendable (Int, String) -> HTTPResponse) {
        self.limits = limits
        self.bodyLimit = bodyLimit
        self.errorResponse = errorResponse
        self.parser = HTTPRequestParser(limits: limits)
        self.idleSince = now
    }

    /// Whether the loop should read from the socket now (false applies backpressure).
    public var wantsToRead: Bool {
        if case .closing = phase { return false }
        return !readClosed && pendingError == nil && queue.count < Self.queuedRequestsMax
    }

    /// Whether a response is owed to a delivered request.
    public var isAwaitingResponse: Bool {
        if case .awaitingResponse = phase { return true }
        return false
    }

    // MARK: - Events

    /// Bytes arrived from the peer.
    public mutating func bytesReceived(_ bytes: ArraySlice<UInt8>, now: Duration) -> [Action] {
        guard wantsToRead else { return [] }
        if parser.isIdle && partial == nil && !bytes.isEmpty { headStartedAt = now }
        parser.append(bytes)
        if partial != nil { bodyProgressAt = now }
        parse(now: now)
        return advance(now: now)
    }

    /// The peer closed its sending side: answer what was received, then close.
    public mutating func readEOF(now: Duration) -> [Action] {
        readClosed = true
        return advance(now: now)
    }

    /// The handler's response to the delivered request.
    public mutating func respond(_ response: HTTPResponse, date: String, now: Duration) -> [Action] {
        guard case .awaitingResponse(let method, let requestKeepAlive) = phase else { return [] }
        let keepAlive = requestKeepAlive && !shuttingDown && !readClosed && !response.headers.containsToken("close", in: "Connection")
        var headers = response.headers
        headers.set("Date", date)
        headers.set("Server", "Hanse/\(HanseVersion.current)")
        if !keepAlive { headers.set("Connection", "close") }
        var output: [UInt8] = []
        switch response.body {
        case .bytes(let body):
            headers.set("Content-Length", String(body.count))
            HTTPResponseEncoder.appendHead(status: response.status, headers: headers, to: &output)
            if method != "HEAD" && response.status != 204 && response.status != 304 { output.append(contentsOf: body) }
            idleSince = now
            phase = keepAlive ? .reading : .closing
            return [.write(output)] + (keepAlive ? advance(now: now) : [.close])
        case .stream:
            headers.remove("Content-Length")
            headers.set("Transfer-Encoding", "chunked")
            HTTPResponseEncoder.appendHead(status: response.status, headers: headers, to: &output)
            phase = .streaming(keepAlive: keepAlive)
            return [.write(output)]
        }
    }

    /// A chunk of a streamed body.
    public mutating func streamChunk(_ bytes: [UInt8]) -> [Action] {
        guard case .streaming = phase, !bytes.isEmpty else { return [] }
        var output: [UInt8] = []
        HTTPResponseEncoder.appendChunk(bytes, to: &output)
        return [.write(output)]
    }

    /// The end of a streamed body.
    public mutating func streamEnded(now: Duration) -> [Action] {
        guard case .streaming(let keepAlive) = phase else { return [] }
        var output: [UInt8] = []
        HTTPResponseEncoder.appendLastChunk(to: &output)
        idleSince = now
        let stillOpen = keepAlive && !shuttingDown && !readClosed
        phase = stillOpen ? .reading : .closing
        return [.write(output)] + (stillOpen ? advance(now: now) : [.close])
    }

    /// Whether a streamed response is in progress.
    public var isStreaming: Bool {
        if case .streaming = phase { return true }
        return false
    }

    /// The socket did not accept all queued output.
    public mutating func outputBlocked(now: Duration) {
        if outputBlockedSince == nil { outputBlockedSince = now }
    }

    /// All queued output was sent.
    public mutating func outputDrained() {
        outputBlockedSince = nil
    }

    /// Time passed: enforce the timeouts.
    public mutating func tick(now: Duration) -> [Action] {
        if let since = outputBlockedSince, now - since >= limits.httpWriteTimeout { return close(.abort) }
        switch phase {
        case .closing, .awaitingResponse, .streaming:
            return []
        case .reading:
            break
        }
        if partial != nil, let progress = bodyProgressAt, now - progress >= limits.httpBodyTimeout {
            return refuse(408, "request body not received within \(limits.httpBodyTimeout)")
        }
        if parser.isReadingHead, let start = headStartedAt, now - start >= limits.httpHeaderTimeout {
            return refuse(408, "request head not received within \(limits.httpHeaderTimeout)")
        }
        if parser.isIdle && queue.isEmpty && partial == nil && now - idleSince >= limits.httpIdleTimeout {
            return close(.close)
        }
        return []
    }

    /// The server is shutting down: finish what was received in full, then close.
    public mutating func shutdown(now: Duration) -> [Action] {
        shuttingDown = true
        return advance(now: now)
    }

    // MARK: - Internals

    private mutating func parse(now: Duration) {
        do {
            while queue.count < Self.queuedRequestsMax, let event = try parser.next() {
                switch event {
                case .head(let head):
                    parser.bodyLimit = bodyLimit(head)
                    try parser.checkDeclaredLength(head)
                    partial = (head, [])
                    bodyProgressAt = now
                    if head.expectContinue && queue.isEmpty && phase == .reading {
                        pendingContinue = true
                    }
                case .body(let bytes):
                    partial?.body.append(contentsOf: bytes)
                case .end:
                    if let request = partial { queue.append(request) }
                    partial = nil
                    bodyProgressAt = nil
                    headStartedAt = nil
                }
            }
        } catch {
            pendingError = error
        }
    }

    private var pendingContinue = false

    /// Delivers the next request, or reports an error, or closes, as the state allows.
    private mutating func advance(now: Duration) -> [Action] {
        guard phase == .reading else { return [] }
        if !queue.isEmpty {
            let request = queue.removeFirst()
            phase = .awaitingResponse(method: request.head.method, keepAlive: request.head.keepAlive)
            pendingContinue = false
            // Requests left in the parser's buffer may now be parsed.
            parse(now: now)
            return [.deliver(request.head, request.body)]
        }
        if let error = pendingError {
            return refuse(error.status, error.reason)
        }
        if pendingContinue {
            pendingContinue = false
            return [.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))]
        }
        if shuttingDown || readClosed {
            // Nothing complete is left to answer; a partly received request is dropped.
            return close(.close)
        }
        return []
    }

    private mutating func refuse(_ status: Int, _ detail: String) -> [Action] {
        phase = .closing
        return [.write(Self.encodeFinal(errorResponse(status, detail))), .close]
    }

    /// The bytes of a last response before closing, for refusals the server makes itself: the
    /// body in memory (a stream is not sent), `Content-Length`, `Connection: close`, `Server`.
    public static func encodeFinal(_ response: HTTPResponse) -> [UInt8] {
        var headers = response.headers
        var body: [UInt8] = []
        if case .bytes(let bytes) = response.body { body = bytes }
        headers.set("Server", "Hanse/\(HanseVersion.current)")
        headers.set("Content-Length", String(body.count))
        headers.set("Connection", "close")
        var output: [UInt8] = []
        HTTPResponseEncoder.appendHead(status: response.status, headers: headers, to: &output)
        output.append(contentsOf: body)
        return output
    }

    private mutating func close(_ action: Action) -> [Action] {
        phase = .closing
        return [action]
    }
}
