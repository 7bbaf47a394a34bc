public import HanseCore

/// What the parser found next in the input.
public enum HTTPParserEvent: Sendable, Equatable {
    /// A complete, validated request head.
    case head(HTTPRequestHead)
    /// Some bytes of the body, in order.
    case body([UInt8])
    /// The end of the request, with trailer fields (chunked bodies only).
    case end(trailers: HTTPHeaders)
}

/// An incremental, strict HTTP/1.1 request parser (RFC 9112) with no IO.
///
/// Feed bytes with `append` and pull events with `next()` until it returns nil ("need more
/// bytes"). The events are the same however the input is split. Limits are enforced while
/// parsing, before a line is complete. After an error the parser is finished: the caller answers
/// with the error's status and closes the connection.
///
/// After a `.head` event the caller may set `bodyLimit` for that request (per route) before
/// pulling the body.
public struct HTTPRequestParser: Sendable {
    private enum State: Sendable, Equatable {
        case requestLine(emptyLinesSkipped: Int)
        case headerLines
        case bodyLength(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLines
        /// The last request asked to close the connection; nothing may follow it.
        case closed
        case failed(HTTPParseError)
    }

    private let limits: Limits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the search for the next line feed resumes, so a slow client costs linear time.
    private var scanIndex = 0
    private var state: State = .requestLine(emptyLinesSkipped: 0)

    // The request being parsed.
    private var requestLine: (method: String, target: String, version: HTTPVersion)?
    private var fields: [(name: String, value: String)] = []
    private var sectionBytes = 0
    private var bodyBytesSeen = 0
    private var missingHost = false
    private var closeAfterMessage = false

    /// Largest body accepted for the current request; set it after `.head` to apply a route's limit.
    public var bodyLimit: Int

    /// A parser with the HTTP limits of `limits`.
    public init(limits: Limits = Limits()) {
        self.limits = limits
        self.bodyLimit = limits.httpRequestBodyBytesMax
    }

    /// Adds received bytes.
    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet consumed.
    public var bufferedBytes: Int { buffer.count - readIndex }

    /// True between requests with nothing buffered: a close now loses no request.
    public var isIdle: Bool {
        switch state {
        case .requestLine, .closed: return readIndex == buffer.count
        default: return false
        }
    }

    /// True while a request has started but its head is not complete.
    public var isReadingHead: Bool {
        switch state {
        case .requestLine: return readIndex < buffer.count
        case .headerLines: return true
        default: return false
        }
    }

    /// The next event, or nil if more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPParserEvent? {
        do {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    // MARK: - States

    private mutating func step() throws(HTTPParseError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .closed:
                if readIndex < buffer.count { throw .bad("bytes after a request that closes the connection") }
                return nil
            case .requestLine(let skipped):
                guard let line = try nextLine(limit: limits.httpRequestLineBytesMax, status: 414, what: "request line") else { return nil }
                if line.isEmpty {
                    // RFC 9112 2.2: a server SHOULD ignore at least one empty line before a request.
                    guard skipped < 4 else { throw .bad("too many empty lines before the request line") }
                    state = .requestLine(emptyLinesSkipped: skipped + 1)
                    continue
                }
                requestLine = try parseRequestLine(line)
                fields = []
                sectionBytes = 0
                state = .headerLines
            case .headerLines:
                if readIndex < buffer.count, buffer[readIndex] == 32 || buffer[readIndex] == 9 {
                    throw .bad("obsolete line folding (a field line starting with whitespace) is not accepted")
                }
                guard let line = try nextLine(limit: limits.httpHeaderSectionBytesMax - sectionBytes, status: 431, what: "header section") else { return nil }
                sectionBytes += line.count + 2
                if line.isEmpty { return .head(try finishHead()) }
                try addField(line)
            case .bodyLength(let remaining):
                if remaining == 0 { return try finishMessage(trailers: HTTPHeaders()) }
                let available = buffer.count - readIndex
                if available == 0 { return nil }
                let take = min(available, remaining)
                let chunk = Array(buffer[readIndex..<readIndex + take])
                consume(take)
                state = .bodyLength(remaining: remaining - take)
                return .body(chunk)
            case .chunkSize:
                guard let line = try nextLine(limit: limits.httpChunkLineBytesMax, status: 400, what: "chunk size line") else { return nil }
                let size = try parseChunkSize(line)
                guard bodyBytesSeen + size <= bodyLimit else {
                    throw HTTPParseError(413, "request body exceeds the limit of \(bodyLimit) bytes")
                }
                if size == 0 {
                    fields = []
                    sectionBytes = 0
                    state = .trailerLines
                } else {
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let available = buffer.count - readIndex
                if available == 0 { return nil }
                let take = min(available, remaining)
                let chunk = Array(buffer[readIndex..<readIndex + take])
                consume(take)
                bodyBytesSeen += take
                state = remaining == take ? .chunkDataEnd : .chunkData(remaining: remaining - take)
                return .body(chunk)
            case .chunkDataEnd:
                guard buffer.count - readIndex >= 2 else {
                    if buffer.count - readIndex == 1 && buffer[readIndex] != 13 { throw .bad("chunk data not followed by CRLF") }
                    return nil
                }
                guard buffer[readIndex] == 13, buffer[readIndex + 1] == 10 else { throw .bad("chunk data not followed by CRLF") }
                consume(2)
                state = .chunkSize
            case .trailerLines:
                guard let line = try nextLine(limit: limits.httpHeaderSectionBytesMax - sectionBytes, status: 431, what: "trailer section") else { return nil }
                sectionBytes += line.count + 2
                if line.isEmpty {
                    let trailers = HTTPHeaders(fields.map { ($0.name, $0.value) })
                    return try finishMessage(trailers: trailers)
                }
                try addField(line)
            }
        }
    }

    /// The next line without its CRLF, nil if it is not complete yet. A line feed must follow a
    /// carriage return and a carriage return must precede a line feed (no bare CR or LF).
    private mutating func nextLine(limit: Int, status: Int, what: String) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        var index = scanIndex > readIndex ? scanIndex : readIndex
        while index < buffer.count {
            // The limit counts the line with its CRLF and is checked byte by byte, in the same
            // order as the other checks, so the verdict never depends on how input is split.
            if index - readIndex + 1 > limit { throw lineTooLong(status: status, what: what) }
            let byte = buffer[index]
            if byte == 10 {
                guard index > readIndex, buffer[index - 1] == 13 else { throw .bad("line feed without carriage return in \(what)") }
                let line = buffer[readIndex..<index - 1]
                consume(index + 1 - readIndex)
                return line
            }
            if byte == 13 {
                // Decide on a carriage return only once the byte after it is here, and look at
                // it again on the next call, so the verdict does not depend on the split.
                guard index + 1 < buffer.count else { break }
                guard buffer[index + 1] == 10 else { throw .bad("carriage return without line feed in \(what)") }
            }
            index += 1
        }
        scanIndex = index
        return nil
    }

    private func lineTooLong(status: Int, what: String) -> HTTPParseError {
        switch status {
        case 414: return HTTPParseError(414, "request line longer than \(limits.httpRequestLineBytesMax) bytes")
        case 431: return HTTPParseError(431, "\(what) larger than \(limits.httpHeaderSectionBytesMax) bytes")
        default: return .bad("\(what) longer than \(limits.httpChunkLineBytesMax) bytes")
        }
    }

    private mutating func consume(_ count: Int) {
        readIndex += count
        if scanIndex < readIndex { scanIndex = readIndex }
    }

    // MARK: - Request line

    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String, HTTPVersion) {
        let parts = line.split(separator: 32, maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .bad("request line must be: method SP target SP version") }
        let (method, target, version) = (parts[0], parts[1], parts[2])
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else { throw .bad("method is not a token") }
        guard !target.isEmpty, target.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw .bad("request target is empty or has whitespace, control or non-ASCII bytes")
        }
        let parsedVersion = try parseVersion(version)
        let methodString = String(decoding: method, as: UTF8.self)
        let targetString = String(decoding: target, as: UTF8.self)
        if methodString == "CONNECT" { throw HTTPParseError(501, "CONNECT is not supported: this server is not a proxy") }
        switch target.first {
        case UInt8(ascii: "/"): break
        case UInt8(ascii: "*"):
            guard target.count == 1, methodString == "OPTIONS" else { throw .bad("asterisk-form target is only for OPTIONS") }
        default:
            guard isAbsoluteForm(target) else { throw .bad("request target must start with / or be an absolute URI") }
        }
        return (methodString, targetString, parsedVersion)
    }

    private func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        let text = Array(bytes)
        guard text.count == 8, text[0..<5].elementsEqual("HTTP/".utf8), text[6] == UInt8(ascii: "."),
              isDigit(text[5]), isDigit(text[7]) else {
            throw .bad("protocol is not HTTP/<digit>.<digit>")
        }
        let version = HTTPVersion(major: Int(text[5] - 48), minor: Int(text[7] - 48))
        guard version == .http1_1 || version == .http1_0 else {
            throw HTTPParseError(505, "HTTP version \(version.major).\(version.minor) is not supported; use HTTP/1.1")
        }
        return version
    }

    private func isAbsoluteForm(_ target: ArraySlice<UInt8>) -> Bool {
        // scheme ":" "//" — RFC 3986 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        guard let colon = target.firstIndex(of: UInt8(ascii: ":")), colon > target.startIndex else { return false }
        let scheme = target[target.startIndex..<colon]
        guard isAlpha(scheme.first!), scheme.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == 43 || $0 == 45 || $0 == 46 }) else { return false }
        return target[colon...].starts(with: "://".utf8)
    }

    // MARK: - Header fields

    private mutating func addField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) {
        guard fields.count < limits.httpHeaderFieldsMax else {
            throw HTTPParseError(431, "more than \(limits.httpHeaderFieldsMax) header fields")
        }
        guard let first = line.first, first != 32, first != 9 else {
            throw .bad("obsolete line folding (a field line starting with whitespace) is not accepted")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .bad("header field line without a colon") }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty else { throw .bad("empty header field name") }
        guard name.allSatisfy(isTokenByte) else {
            throw .bad(name.last == 32 || name.last == 9 ? "whitespace between header field name and colon" : "header field name is not a token")
        }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == 32 || byte == 9 { value.removeFirst() }
        while let byte = value.last, byte == 32 || byte == 9 { value.removeLast() }
        guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else {
            throw .bad("header field \(String(decoding: name, as: UTF8.self)) has a control character")
        }
        let field = (name: String(decoding: name, as: UTF8.self), value: latin1String(value))
        try checkFramingField(field)
        fields.append(field)
    }

    /// Checks framing fields as soon as they arrive, so that a bad one is refused before the
    /// rest of the head (RFC 9112 6.3: an invalid Content-Length is unrecoverable).
    private func checkFramingField(_ field: (name: String, value: String)) throws(HTTPParseError) {
        if asciiCaseInsensitiveEquals(field.name, "Content-Length") {
            if fields.contains(where: { asciiCaseInsensitiveEquals($0.name, "Content-Length") }) {
                throw .bad("more than one Content-Length header field")
            }
            let digits = field.value.utf8
            guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy(isDigit) else {
                throw .bad("Content-Length is not a decimal number of at most 18 digits")
            }
        }
        if asciiCaseInsensitiveEquals(field.name, "Host"), fields.contains(where: { asciiCaseInsensitiveEquals($0.name, "Host") }) {
            throw .bad("more than one Host header field")
        }
    }

    private mutating func finishHead() throws(HTTPParseError) -> HTTPRequestHead {
        guard let (method, target, version) = requestLine else { preconditionFailure("head without request line") }
        let headers = HTTPHeaders(fields.map { ($0.name, $0.value) })
        let hosts = headers.values("Host")
        guard hosts.count <= 1 else { throw .bad("more than one Host header field") }
        missingHost = version == .http1_1 && hosts.isEmpty
        if !headers.values("Upgrade").isEmpty {
            throw .bad("protocol upgrade is not offered by this server")
        }

        let framing = try bodyFraming(headers, version: version)
        var keepAlive = version == .http1_1
        if headers.containsToken("close", in: "Connection") {
            keepAlive = false
        } else if version == .http1_0 && headers.containsToken("keep-alive", in: "Connection") {
            keepAlive = true
        }
        var expectContinue = false
        if let expect = headers["Expect"] {
            guard asciiCaseInsensitiveEquals(expect, "100-continue"), version == .http1_1 else {
                throw HTTPParseError(417, "only Expect: 100-continue is supported")
            }
            expectContinue = framing != .none
        }

        bodyBytesSeen = 0
        bodyLimit = limits.httpRequestBodyBytesMax
        closeAfterMessage = !keepAlive
        switch framing {
        case .none: state = .bodyLength(remaining: 0)
        case .length(let length): state = .bodyLength(remaining: length)
        case .chunked: state = .chunkSize
        }
        return HTTPRequestHead(method: method, target: target, version: version, headers: headers,
                               keepAlive: keepAlive, expectContinue: expectContinue, framing: framing)
    }

    private func bodyFraming(_ headers: HTTPHeaders, version: HTTPVersion) throws(HTTPParseError) -> HTTPBodyFraming {
        let codings = headers.values("Transfer-Encoding")
        let lengths = headers.values("Content-Length")
        if !codings.isEmpty {
            guard lengths.isEmpty else { throw .bad("both Transfer-Encoding and Content-Length: ambiguous framing") }
            guard version == .http1_1 else { throw .bad("Transfer-Encoding in an HTTP/1.0 request") }
            let list = codings.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map { trimOWS($0) } }
            guard list.count == 1, asciiCaseInsensitiveEquals(list[0], "chunked") else {
                throw HTTPParseError(501, "only a single 'chunked' transfer coding is supported")
            }
            return .chunked
        }
        guard !lengths.isEmpty else { return .none }
        guard lengths.count == 1 else { throw .bad("more than one Content-Length header field") }
        let digits = lengths[0].utf8
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy(isDigit) else {
            throw .bad("Content-Length is not a decimal number of at most 18 digits")
        }
        let length = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        return length == 0 ? .none : .length(length)
    }

    // MARK: - Chunked

    /// chunk-size [ chunk-ext ], RFC 9112 7.1.1: 1*HEXDIG *( BWS ";" BWS name [ BWS "=" BWS value ] ).
    private func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var index = line.startIndex
        var size = 0
        while index < line.endIndex, let digit = hexValue(line[index]) {
            guard index - line.startIndex < 15 else { throw .bad("chunk size too large") }
            size = size * 16 + digit
            index += 1
        }
        guard index > line.startIndex else { throw .bad("chunk size is not hexadecimal") }
        try validateChunkExtensions(line[index...])
        return size
    }

    private func validateChunkExtensions(_ text: ArraySlice<UInt8>) throws(HTTPParseError) {
        var index = text.startIndex
        func skipWhitespace() { while index < text.endIndex, text[index] == 32 || text[index] == 9 { index += 1 } }
        func token() -> Bool {
            let start = index
            while index < text.endIndex, isTokenByte(text[index]) { index += 1 }
            return index > start
        }
        while index < text.endIndex {
            skipWhitespace()
            guard index < text.endIndex, text[index] == UInt8(ascii: ";") else { throw .bad("malformed chunk extension") }
            index += 1
            skipWhitespace()
            guard token() else { throw .bad("malformed chunk extension name") }
            skipWhitespace()
            guard index < text.endIndex, text[index] == UInt8(ascii: "=") else { continue }
            index += 1
            skipWhitespace()
            if index < text.endIndex, text[index] == UInt8(ascii: "\"") {
                index += 1
                var closed = false
                while index < text.endIndex {
                    let byte = text[index]
                    if byte == UInt8(ascii: "\"") { closed = true; index += 1; break }
                    if byte == UInt8(ascii: "\\") { index += 1 }
                    guard index < text.endIndex, text[index] == 9 || (text[index] >= 32 && text[index] != 127) else {
                        throw .bad("malformed quoted chunk extension value")
                    }
                    index += 1
                }
                guard closed else { throw .bad("unterminated quoted chunk extension value") }
            } else {
                guard token() else { throw .bad("malformed chunk extension value") }
            }
        }
    }

    private mutating func finishMessage(trailers: HTTPHeaders) throws(HTTPParseError) -> HTTPParserEvent {
        if missingHost { throw .bad("HTTP/1.1 request without a Host header field") }
        requestLine = nil
        fields = []
        state = closeAfterMessage ? .closed : .requestLine(emptyLinesSkipped: 0)
        return .end(trailers: trailers)
    }

    /// Checks the declared length against the route's limit; call after setting `bodyLimit`.
    public mutating func checkDeclaredLength(_ head: HTTPRequestHead) throws(HTTPParseError) {
        if case .length(let length) = head.framing, length > bodyLimit {
            let error = HTTPParseError(413, "request body of \(length) bytes exceeds the limit of \(bodyLimit) bytes")
            state = .failed(error)
            throw error
        }
    }
}

/// Field values are kept byte for byte: each byte becomes the code point of the same number
/// (ISO-8859-1), so obs-text (RFC 9110 5.5) is never lost or replaced.
func latin1String(_ bytes: ArraySlice<UInt8>) -> String {
    if bytes.allSatisfy({ $0 < 128 }) { return String(decoding: bytes, as: UTF8.self) }
    var scalars = String.UnicodeScalarView()
    for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
    return String(scalars)
}

@inline(__always) func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
@inline(__always) func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 97 && (byte | 0x20) <= 122 }

/// tchar, RFC 9110 5.6.2: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
@inline(__always) func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 48...57, 65...90, 97...122: return true
    case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
    default: return false
    }
}

@inline(__always) func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 48...57: return Int(byte - 48)
    case 65...70: return Int(byte - 55)
    case 97...102: return Int(byte - 87)
    default: return nil
    }
}
