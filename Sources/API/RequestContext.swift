internal import HTTP1
public import HTTPServer
public import Logging
internal import Foundation

/// Who made a request, once authenticated.
public enum Principal: Sendable, Equatable {
    case anonymous
    case `operator`
    /// A tenant's API key (filled in by the tenant API).
    case apiKey(tenant: String, keyID: String)
}

/// Everything a handler knows about its request: the one context type of the API.
public struct RequestContext: Sendable {
    public let request: HTTPRequest
    /// From `X-Request-Id` when the client sent a sane one, else generated; echoed in the response.
    public let requestID: String
    private let baseLogger: Logger
    /// The application's logger with this request's id in its metadata.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "request_id"] = "\(requestID)"
        return logger
    }
    public var principal: Principal = .anonymous
    /// The tenant the principal acts for, when there is one.
    public var tenant: String?
    /// Values of `{name}` segments of the route pattern.
    public var parameters: [String: String] = [:]

    public init(request: HTTPRequest, requestID: String, logger: Logger) {
        self.request = request
        self.requestID = requestID
        self.baseLogger = logger
    }

    /// A path parameter.
    public func parameter(_ name: String) throws -> String {
        guard let value = parameters[name] else { throw APIError.badRequest("missing path parameter \(name)") }
        return value
    }

    /// The JSON body decoded as `T`; errors name the field that is wrong.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let contentType = request.head.headers["Content-Type"]
        guard let contentType, contentType.lowercased().hasPrefix("application/json") else {
            throw APIError.unsupportedMediaType(contentType, want: "application/json")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(request.body))
        } catch let error as DecodingError {
            throw Self.describe(error)
        }
    }

    static func describe(_ error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "(body)" : text)
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath, key)
            return .badRequest("missing field \(field)", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return .badRequest("field \(field): want \(jsonTypeName(type))", field: field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return .badRequest("field \(field): got null, want \(jsonTypeName(type))", field: field)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .badRequest("body is not valid JSON") }
            let field = path(context.codingPath)
            return .badRequest("field \(field): \(context.debugDescription)", field: field)
        @unknown default:
            return .badRequest("body could not be decoded")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}

/// A JSON response with status `status`.
public func jsonResponse<T: Encodable>(_ value: T, status: Int = 200) throws -> HTTPResponse {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let body = try encoder.encode(value)
    return HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: .bytes([UInt8](body)))
}
