public import HTTP1
public import HTTPServer
public import HanseCore
public import Logging
internal import Dispatch
internal import Crypto
internal import Synchronization

/// Settings of the API layer.
public struct APIConfiguration: Sendable {
    public var limits: Limits
    /// Cross-origin access for browser front ends; nil allows none.
    public var cors: CORSConfiguration?
    /// Checks a presented operator token (constant time, against the stored hash).
    public var verifyOperatorToken: @Sendable (String) -> Bool
    /// Applied to every request after authentication; nil for none.
    public var rateLimiter: (any RateLimiter)?
    /// Resolves a presented tenant API key to its principal (`.apiKey`), or nil when it is unknown
    /// or revoked, or its tenant is not active.
    public var authenticateAPIKey: @Sendable (String) -> Principal?
    /// Called after every state-changing request (not GET, HEAD or OPTIONS) with its outcome.
    public var audit: (@Sendable (RequestContext, Int) -> Void)?
    /// Keeps first answers to POSTs that carry an `Idempotency-Key` (tenant routes); nil for none.
    public var idempotency: (any IdempotencyStore)?

    public init(limits: Limits = Limits(), cors: CORSConfiguration? = nil,
                verifyOperatorToken: @escaping @Sendable (String) -> Bool, rateLimiter: (any RateLimiter)? = nil,
                authenticateAPIKey: @escaping @Sendable (String) -> Principal? = { _ in nil },
                audit: (@Sendable (RequestContext, Int) -> Void)? = nil, idempotency: (any IdempotencyStore)? = nil) {
        self.limits = limits
        self.cors = cors
        self.verifyOperatorToken = verifyOperatorToken
        self.rateLimiter = rateLimiter
        self.authenticateAPIKey = authenticateAPIKey
        self.audit = audit
        self.idempotency = idempotency
    }
}

/// The REST application: routes requests through the middleware in a fixed order — request id,
/// access log, CORS, authentication, rate limit — to their handler, and turns every error into
/// `application/problem+json`.
public final class APIApplication: HTTPHandler {
    public let router: Router
    private let configuration: APIConfiguration
    private let logger: Logger
    private let workers: WorkerPool
    private let requestIDPrefix = Hex.encode(SecureRandom().bytes(6))
    private let requestCounter = Atomic<Int>(0)

    public init(router: Router, configuration: APIConfiguration, logger: Logger) {
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.workers = WorkerPool(threads: configuration.limits.httpWorkerThreads, queueMax: configuration.limits.httpWorkerQueueMax)
    }

    deinit { workers.stop() }

    // MARK: - HTTPHandler

    public func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        let match = router.match(method: request.head.method, path: request.head.path)
        var blocking = false
        if case .found(let route, _) = match { blocking = route.blocking }
        if blocking {
            let accepted = workers.submit { self.process(request, match: match) { responder.respond($0) } }
            if !accepted {
                responder.respond(APIError.unavailable("server busy: \(configuration.limits.httpWorkerQueueMax) requests already waiting")
                    .response(requestID: nil))
            }
        } else {
            process(request, match: match) { responder.respond($0) }
        }
    }

    public func bodyLimit(for head: HTTPRequestHead) -> Int {
        guard case .found(let route, _) = router.match(method: head.method, path: head.path), let limit = route.bodyLimit else {
            return configuration.limits.httpRequestBodyBytesMax
        }
        return min(limit, configuration.limits.httpRouteBodyBytesMax)
    }

    public func errorResponse(status: Int, detail: String) -> HTTPResponse {
        APIError.protocolError(status: status, detail: detail).response(requestID: nil)
    }

    // MARK: - Pipeline

    /// Runs the middleware chain and the handler, then hands the response to `send` (at once, or
    /// later for a deferred route); never throws, never leaks internals.
    func process(_ request: HTTPRequest, match: Router.Match, send: @escaping @Sendable (HTTPResponse) -> Void) {
        let started = DispatchTime.now().uptimeNanoseconds
        let requestID = self.requestID(for: request)
        var context = RequestContext(request: request, requestID: requestID, logger: logger)
        let origin = request.head.headers["Origin"]
        do {
            switch try route(&context, match: match, origin: origin) {
            case .now(let response):
                send(finish(context, .success(response), origin: origin, started: started))
            case .later(let deferred):
                let finalContext = context
                deferred(finalContext) { result in
                    send(self.finish(finalContext, result, origin: origin, started: started))
                }
            }
        } catch {
            send(finish(context, .failure(error), origin: origin, started: started))
        }
    }

    /// A synchronous run of the pipeline, for tests and non-deferred callers.
    func process(_ request: HTTPRequest, match: Router.Match) -> HTTPResponse {
        let box = ResultBox<HTTPResponse>()
        let done = DispatchSemaphore(value: 0)
        process(request, match: match) { response in
            box.set(.success(response))
            done.signal()
        }
        done.wait()
        guard case .success(let response)? = box.get() else { return APIError.internalError(requestID: "").response(requestID: nil) }
        return response
    }

    /// Error mapping, audit, common headers and the access log of one response.
    private func finish(_ context: RequestContext, _ result: Result<HTTPResponse, any Error>, origin: String?, started: UInt64) -> HTTPResponse {
        let request = context.request
        let requestID = context.requestID
        var response: HTTPResponse
        switch result {
        case .success(let value):
            response = value
        case .failure(let error as APIError):
            response = error.response(requestID: requestID)
        case .failure(let error):
            context.logger.error("handler failed", metadata: ["error": "\(error)", "path": "\(request.head.path)"])
            response = APIError.internalError(requestID: requestID).response(requestID: requestID)
        }
        if let audit = configuration.audit, context.principal != .anonymous,
           !["GET", "HEAD", "OPTIONS"].contains(request.head.method) {
            audit(context, response.status)
        }
        response.headers.set("X-Request-Id", requestID)
        if let origin, let cors = configuration.cors, cors.allows(origin) {
            response.headers.set("Access-Control-Allow-Origin", cors.allowedOrigins.contains("*") ? "*" : origin)
            response.headers.add("Vary", "Origin")
            response.headers.set("Access-Control-Expose-Headers", cors.exposedHeaders.joined(separator: ", "))
        }
        if logger.logLevel <= .info {
            let logger = context.logger
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            logger.info("request", metadata: [
                "method": "\(request.head.method)", "path": "\(request.head.path)", "status": "\(response.status)",
                "ms": "\((milliseconds * 1000).rounded() / 1000)", "remote": "\(request.remoteAddress)",
            ])
        }
        return response
    }

    private enum Outcome {
        case now(HTTPResponse)
        case later(Route.DeferredHandler)
    }

    private func route(_ context: inout RequestContext, match: Router.Match, origin: String?) throws -> Outcome {
        let head = context.request.head
        if head.method == "OPTIONS" {
            return .now(try options(head, origin: origin))
        }
        switch match {
        case .notFound:
            throw APIError.notFound("no resource at \(head.path)")
        case .methodNotAllowed(let allowed):
            throw APIError.methodNotAllowed(head.method, allowed: allowed)
        case .found(let route, let parameters):
            context.parameters = parameters
            try authenticate(&context, access: route.access)
            try rateLimit(context)
            if head.method == "POST", let key = head.headers["Idempotency-Key"], let store = configuration.idempotency,
               case .apiKey(let tenant, _, _) = context.principal {
                return try idempotent(route, context, store: store, tenant: tenant, key: key)
            }
            if let deferred = route.deferred { return .later(deferred) }
            return .now(try route.handler(context))
        }
    }

    /// Runs a POST at most once per (tenant, Idempotency-Key): the first answer is kept and
    /// replayed for the same request; the same key with another request is a 422; a key whose
    /// first request is still running is a 409. Server errors are not kept, so a retry runs again.
    private func idempotent(_ route: Route, _ context: RequestContext, store: any IdempotencyStore, tenant: String, key: String) throws -> Outcome {
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw APIError.badRequest("Idempotency-Key must be 1 to 200 printable ASCII characters", field: "Idempotency-Key")
        }
        let request = context.request
        let fingerprint = SHA256.hash(Array("\(request.head.method) \(request.head.target)\n".utf8) + request.body)
        switch try store.begin(tenant: tenant, key: key, fingerprint: fingerprint) {
        case .replay(let status, let body):
            var response = HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", status >= 400 ? "application/problem+json" : "application/json")]),
                                        body: .bytes(body))
            response.headers.set("Idempotency-Replayed", "true")
            return .now(response)
        case .mismatch:
            throw APIError.unprocessable("Idempotency-Key \(key) was used for a different request", field: "Idempotency-Key")
        case .inProgress:
            throw APIError.conflict("a request with Idempotency-Key \(key) is still running; retry later")
        case .proceed:
            break
        }
        @Sendable func keep(_ result: Result<HTTPResponse, any Error>) {
            switch result {
            case .success(let response):
                if response.status < 500, case .bytes(let body) = response.body {
                    store.finish(tenant: tenant, key: key, status: response.status, body: body)
                } else {
                    store.abandon(tenant: tenant, key: key)
                }
            case .failure(let error as APIError) where error.status < 500:
                if case .bytes(let body) = error.response(requestID: nil).body {
                    store.finish(tenant: tenant, key: key, status: error.status, body: body)
                }
            case .failure:
                store.abandon(tenant: tenant, key: key)
            }
        }
        if let deferred = route.deferred {
            return .later { context, done in
                deferred(context) { result in
                    // Storing the answer is a database round trip: off the caller's thread, which
                    // may be answering a whole block's waiters.
                    DispatchQueue.global().async {
                        keep(result)
                        done(result)
                    }
                }
            }
        }
        do {
            let response = try route.handler(context)
            keep(.success(response))
            return .now(response)
        } catch {
            keep(.failure(error))
            throw error
        }
    }

    /// CORS preflight, or a plain OPTIONS answered with `Allow`.
    private func options(_ head: HTTPRequestHead, origin: String?) throws -> HTTPResponse {
        let methods = router.methods(path: head.path)
        guard !methods.isEmpty else { throw APIError.notFound("no resource at \(head.path)") }
        var headers = HTTPHeaders([("Allow", methods.joined(separator: ", "))])
        if let origin, let requested = head.headers["Access-Control-Request-Method"] {
            guard let cors = configuration.cors, cors.allows(origin) else {
                throw APIError.forbidden("origin \(origin) may not call this API from a browser")
            }
            guard methods.contains(requested) else { throw APIError.methodNotAllowed(requested, allowed: methods) }
            headers.set("Access-Control-Allow-Methods", methods.joined(separator: ", "))
            headers.set("Access-Control-Allow-Headers", cors.allowedHeaders.joined(separator: ", "))
            headers.set("Access-Control-Max-Age", String(cors.maxAgeSeconds))
        }
        return HTTPResponse(status: 204, headers: headers)
    }

    private func authenticate(_ context: inout RequestContext, access: Access) throws {
        guard access != .open else { return }
        guard let authorization = context.request.head.headers["Authorization"] else {
            throw APIError.unauthorized(access == .operator
                ? "this route needs the operator token: Authorization: Bearer <token>"
                : "this route needs a tenant API key: Authorization: Bearer <key>")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError.unauthorized("Authorization must be: Bearer <token>")
        }
        let presented = String(parts[1])
        switch access {
        case .open:
            return
        case .operator:
            guard configuration.verifyOperatorToken(presented) else { throw APIError.unauthorized("the operator token is not valid") }
            context.principal = .operator
        case .tenant(let needed):
            guard let principal = configuration.authenticateAPIKey(presented), case .apiKey(let tenant, _, let scopes) = principal else {
                throw APIError.unauthorized("the API key is not valid (unknown, revoked, or its tenant is suspended)")
            }
            guard scopes.contains(where: { $0 >= needed }) else {
                throw APIError.forbidden("this route needs an API key with scope \(needed.rawValue); this key has \(scopes.map(\.rawValue).joined(separator: ", "))")
            }
            context.principal = principal
            context.tenant = tenant
        }
    }

    private func rateLimit(_ context: RequestContext) throws {
        guard let limiter = configuration.rateLimiter else { return }
        let key: String
        switch context.principal {
        case .apiKey(let tenant, _, _): key = "tenant:\(tenant)"
        case .operator: return
        case .anonymous: key = "ip:" + (context.request.remoteAddress.split(separator: ":").dropLast().joined(separator: ":"))
        }
        let verdict = limiter.admit(key: key)
        guard verdict.allowed else { throw APIError.tooManyRequests(retryAfterSeconds: verdict.retryAfterSeconds) }
    }

    /// The client's `X-Request-Id` if it is 1 to 64 characters of `[A-Za-z0-9._-]`, else a new
    /// one: a random prefix chosen at start-up and a counter, unique without a random draw per request.
    private func requestID(for request: HTTPRequest) -> String {
        if let given = request.head.headers["X-Request-Id"], (1...64).contains(given.utf8.count),
           given.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 45 || $0 == 46 || $0 == 95 }) {
            return given
        }
        let number = requestCounter.add(1, ordering: .relaxed).newValue
        let counter = String(number, radix: 16)
        return requestIDPrefix + String(repeating: "0", count: max(0, 12 - counter.count)) + counter
    }
}

/// Where `Idempotency-Key` answers are kept.
public protocol IdempotencyStore: Sendable {
    /// Claims the key for a request with this fingerprint, or says what happened to it before.
    func begin(tenant: String, key: String, fingerprint: [UInt8]) throws -> IdempotencyClaim
    /// Keeps the answer of a claimed key.
    func finish(tenant: String, key: String, status: Int, body: [UInt8])
    /// Releases a claimed key whose request failed on the server's side.
    func abandon(tenant: String, key: String)
}

public enum IdempotencyClaim: Sendable, Equatable {
    case proceed
    case replay(status: Int, body: [UInt8])
    case mismatch
    case inProgress
}
