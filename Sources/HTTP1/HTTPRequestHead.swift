/// An HTTP version: 1.0 or 1.1 (the parser refuses others).
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// How the body of a request is framed.
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body.
    case none
    /// `Content-Length` bytes.
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
}

/// The request line and header section of a request, checked against RFC 9110 and 9112.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case preserved (methods are case-sensitive).
    public var method: String
    /// The request target as sent: origin-form (`/path?query`), absolute-form, or `*`.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// Whether the connection stays open after this request (HTTP/1.1 default, `Connection`).
    public var keepAlive: Bool
    /// Whether the client waits for `100 Continue` before sending the body.
    public var expectContinue: Bool
    public var framing: HTTPBodyFraming

    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
                keepAlive: Bool = true, expectContinue: Bool = false, framing: HTTPBodyFraming = .none) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.keepAlive = keepAlive
        self.expectContinue = expectContinue
        self.framing = framing
    }

    /// The path of the target without query, for origin-form and absolute-form targets.
    public var path: Substring {
        var rest = Substring(target)
        if !rest.hasPrefix("/"), rest != "*", let colon = rest.firstIndex(of: ":") {
            // absolute-form: skip "scheme://authority".
            rest = rest[colon...].dropFirst(3)
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        return rest
    }

    /// The query string after `?`, without the fragment, or nil.
    public var query: Substring? {
        guard let start = target.firstIndex(of: "?") else { return nil }
        let rest = target[target.index(after: start)...]
        return rest.firstIndex(of: "#").map { rest[..<$0] } ?? rest
    }
}
