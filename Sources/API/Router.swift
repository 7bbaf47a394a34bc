internal import HTTP1
public import HTTPServer

/// Who may call a route.
public enum Access: Sendable, Equatable {
    /// Anyone (health checks).
    case open
    /// Only with the operator token.
    case `operator`
    /// A tenant API key holding `scope` (admin includes write, write includes read).
    case tenant(Scope)
}

/// What a tenant API key may do.
public enum Scope: String, Sendable, Codable, CaseIterable, Comparable {
    case read, write, admin

    var rank: Int { switch self { case .read: 0; case .write: 1; case .admin: 2 } }
    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rank < rhs.rank }
}

/// One route: method, path pattern with `{name}` parameters, limits and the handler.
public struct Route: Sendable {
    public typealias Handler = @Sendable (RequestContext) throws -> HTTPResponse
    /// A handler that answers later (it waits for something, such as a commit, without holding a
    /// thread): it calls `done` exactly once, with the response or the error.
    public typealias DeferredHandler = @Sendable (RequestContext, _ done: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void) -> Void

    public let method: String
    public let pattern: String
    public let access: Access
    /// Largest body accepted; nil means the default limit.
    public let bodyLimit: Int?
    /// Whether the handler may wait (database, disk): such handlers run on a worker queue,
    /// others on the event loop.
    public let blocking: Bool
    public let handler: Handler
    public let deferred: DeferredHandler?
    let segments: [Segment]

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    public init(_ method: String, _ pattern: String, access: Access = .open, bodyLimit: Int? = nil, blocking: Bool = true,
                handler: @escaping Handler) {
        self.method = method
        self.pattern = pattern
        self.access = access
        self.bodyLimit = bodyLimit
        self.blocking = blocking
        self.handler = handler
        self.deferred = nil
        self.segments = Route.segments(of: pattern)
    }

    /// A route whose handler answers through `done` (see `DeferredHandler`); it starts on a worker thread.
    public init(_ method: String, _ pattern: String, access: Access = .open, bodyLimit: Int? = nil, deferred: @escaping DeferredHandler) {
        self.method = method
        self.pattern = pattern
        self.access = access
        self.bodyLimit = bodyLimit
        self.blocking = true
        self.handler = { _ in throw APIError.internalError(requestID: "") }
        self.deferred = deferred
        self.segments = Route.segments(of: pattern)
    }

    static func segments(of pattern: String) -> [Segment] {
        Route.split(pattern).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
    }

    static func split<S: StringProtocol>(_ path: S) -> [S.SubSequence] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// Patterns with the same shape (same literals, parameters in the same places) would both
    /// match every path of that shape: a conflict.
    var shape: String {
        segments.map { segment in
            switch segment {
            case .literal(let text): return text
            case .parameter: return "{}"
            }
        }.joined(separator: "/")
    }
}

/// Why the router could not be built.
public struct RouterError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Finds the route for a method and path. Literal segments win over parameters; two routes of
/// the same method and shape are a conflict reported when the router is built.
public struct Router: Sendable {
    /// The outcome of a lookup.
    public enum Match: Sendable {
        case found(Route, parameters: [String: String])
        case notFound
        case methodNotAllowed(allowed: [String])
    }

    private let routes: [Route]
    private var byStaticPath: [String: [Route]] = [:]

    /// Builds the router; throws on conflicting or malformed routes.
    public init(_ routes: [Route]) throws {
        var seen: [String: Route] = [:]
        for route in routes {
            guard route.pattern.hasPrefix("/") else { throw RouterError(description: "route \(route.pattern) must start with /") }
            let key = "\(route.method) /\(route.shape)"
            if let other = seen[key] {
                throw RouterError(description: "routes \(other.method) \(other.pattern) and \(route.method) \(route.pattern) conflict")
            }
            seen[key] = route
        }
        self.routes = routes
        for route in routes where route.segments.allSatisfy({ if case .literal = $0 { return true } else { return false } }) {
            byStaticPath["/" + route.shape, default: []].append(route)
        }
    }

    /// Every route, in registration order.
    public var all: [Route] { routes }

    /// The route for `method` and `path` (no query).
    public func match(method: String, path: Substring) -> Match {
        var candidates: [(Route, [String: String], Int)] = []
        if let exact = byStaticPath[String(path)] {
            candidates = exact.map { ($0, [:], Int.max) }
            return pick(candidates, method: method)
        }
        let parts = Route.split(path)
        if let exact = byStaticPath["/" + parts.joined(separator: "/")] {
            candidates = exact.map { ($0, [:], Int.max) }
        } else {
            for route in routes where route.segments.count == parts.count {
                // Literals first, without allocating; parameters are decoded only for a match.
                var literals = 0
                let matched = zip(route.segments, parts).allSatisfy { segment, part in
                    guard case .literal(let text) = segment else { return true }
                    literals += 1
                    return text.utf8.elementsEqual(part.utf8)
                }
                guard matched else { continue }
                var parameters: [String: String] = [:]
                for case (.parameter(let name), let part) in zip(route.segments, parts) {
                    parameters[name] = String(part).removingPercentEncodingASCII
                }
                candidates.append((route, parameters, literals))
            }
        }
        return pick(candidates, method: method)
    }

    private func pick(_ candidates: [(Route, [String: String], Int)], method: String) -> Match {
        guard let most = candidates.map(\.2).max() else { return .notFound }
        // The most specific pattern owns the path: a literal segment beats a parameter, so
        // GET …/transactions/batch is "method not allowed", not a transaction named "batch".
        let candidates = candidates.filter { $0.2 == most }
        let effectiveMethod = method == "HEAD" ? "GET" : method
        let best = candidates.filter { $0.0.method == effectiveMethod || $0.0.method == method }.max { $0.2 < $1.2 }
        if let best { return .found(best.0, parameters: best.1) }
        var allowed = Set(candidates.map(\.0.method))
        if allowed.contains("GET") { allowed.insert("HEAD") }
        allowed.insert("OPTIONS")
        return .methodNotAllowed(allowed: allowed.sorted())
    }

    /// Methods served at `path`, for `Allow` and CORS preflight.
    public func methods(path: Substring) -> [String] {
        if case .methodNotAllowed(let allowed) = match(method: "\u{0}", path: path) { return allowed }
        return []
    }
}

extension String {
    /// Decodes `%XX` escapes; leaves the text unchanged if an escape is malformed.
    var removingPercentEncodingASCII: String {
        // utf8.contains: String.contains(String) would go through Foundation's locale-aware search.
        guard utf8.contains(UInt8(ascii: "%")) else { return self }
        var bytes: [UInt8] = []
        var iterator = Array(utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return self }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
