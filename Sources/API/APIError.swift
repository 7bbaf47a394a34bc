internal import HTTP1
public import HTTPServer
internal import Foundation

/// An error with its HTTP meaning, rendered as `application/problem+json` (RFC 9457) in one place.
///
/// `type` is a stable URN per kind of problem (`urn:hanse:problem:<slug>`), so clients can branch
/// on it; `detail` says what was wrong with this request ("got X, want Y").
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    /// The slug of the problem type, e.g. `invalid-body`.
    public var slug: String
    public var title: String
    public var detail: String
    /// Extra members, such as `field` for a body error.
    public var extra: [String: String]
    /// Extra response fields, such as `Allow` or `Retry-After`.
    public var headers: [(String, String)]

    public init(status: Int, slug: String, title: String, detail: String, extra: [String: String] = [:], headers: [(String, String)] = []) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extra = extra
        self.headers = headers
    }

    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.slug == rhs.slug && lhs.detail == rhs.detail && lhs.extra == rhs.extra
    }

    public var type: String { "urn:hanse:problem:\(slug)" }

    // MARK: - The catalogue

    public static func badRequest(_ detail: String, field: String? = nil) -> APIError {
        APIError(status: 400, slug: "invalid-request", title: "The request is invalid", detail: detail,
                 extra: field.map { ["field": $0] } ?? [:])
    }
    public static func conflict(_ detail: String) -> APIError {
        APIError(status: 409, slug: "conflict", title: "The request conflicts with the resource's state", detail: detail)
    }

    public static func unprocessable(_ detail: String, field: String? = nil) -> APIError {
        APIError(status: 422, slug: "unprocessable", title: "The request cannot be carried out", detail: detail,
                 extra: field.map { ["field": $0] } ?? [:])
    }

    public static func quotaExceeded(_ detail: String) -> APIError {
        APIError(status: 403, slug: "quota-exceeded", title: "A quota of the tenant is used up", detail: detail)
    }

    public static func unauthorized(_ detail: String) -> APIError {
        APIError(status: 401, slug: "unauthenticated", title: "Authentication required", detail: detail,
                 headers: [("WWW-Authenticate", "Bearer")])
    }
    public static func forbidden(_ detail: String) -> APIError {
        APIError(status: 403, slug: "forbidden", title: "Not allowed", detail: detail)
    }
    public static func notFound(_ detail: String) -> APIError {
        APIError(status: 404, slug: "not-found", title: "Not found", detail: detail)
    }
    public static func methodNotAllowed(_ method: String, allowed: [String]) -> APIError {
        APIError(status: 405, slug: "method-not-allowed", title: "Method not allowed",
                 detail: "\(method) is not allowed here; allowed: \(allowed.joined(separator: ", "))",
                 headers: [("Allow", allowed.joined(separator: ", "))])
    }
    public static func unsupportedMediaType(_ got: String?, want: String) -> APIError {
        APIError(status: 415, slug: "unsupported-media-type", title: "Unsupported media type",
                 detail: "got Content-Type \(got ?? "none"), want \(want)")
    }
    public static func tooManyRequests(retryAfterSeconds: Int) -> APIError {
        APIError(status: 429, slug: "rate-limited", title: "Too many requests",
                 detail: "rate limit exceeded; retry after \(retryAfterSeconds) s", headers: [("Retry-After", String(retryAfterSeconds))])
    }
    public static func unavailable(_ detail: String) -> APIError {
        APIError(status: 503, slug: "unavailable", title: "Service unavailable", detail: detail, headers: [("Retry-After", "1")])
    }
    public static func internalError(requestID: String) -> APIError {
        APIError(status: 500, slug: "internal", title: "Internal error",
                 detail: "an unexpected error occurred; quote request id \(requestID) when reporting it")
    }

    /// The problem type for errors the HTTP layer raises itself (parse errors, timeouts, overload).
    public static func protocolError(status: Int, detail: String) -> APIError {
        let slug: String
        switch status {
        case 408: slug = "request-timeout"
        case 413: slug = "body-too-large"
        case 414: slug = "uri-too-long"
        case 417: slug = "expectation-failed"
        case 431: slug = "headers-too-large"
        case 501: slug = "not-implemented"
        case 503: slug = "unavailable"
        case 505: slug = "http-version-not-supported"
        default: slug = "malformed-request"
        }
        return APIError(status: status, slug: slug, title: HTTPResponseEncoder.reasonPhrase(status), detail: detail)
    }

    /// The problem document and its response.
    public func response(requestID: String?, instance: String? = nil) -> HTTPResponse {
        var members: [String: String] = extra
        members["type"] = type
        members["title"] = title
        members["detail"] = detail
        if let requestID { members["request_id"] = requestID }
        if let instance { members["instance"] = instance }
        var object: [String: Any] = members
        object["status"] = status
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var fields = HTTPHeaders([("Content-Type", "application/problem+json")])
        for (name, value) in headers { fields.add(name, value) }
        if let requestID { fields.set("X-Request-Id", requestID) }
        return HTTPResponse(status: status, headers: fields, body: .bytes([UInt8](body)))
    }
}
