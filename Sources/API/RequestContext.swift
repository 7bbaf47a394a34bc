internal import HTTP1
public import HTTPServer
public import Logging
internal import Foundation

/// Who made a request, once authenticated.
public enum Principal: Sendable, Equatable {
    case anonymous
    case `operator`
    /// A tenant's API key and the scopes it holds.
    case apiKey(tenant: String, keyID: String, scopes: [Scope])

    /// Who, for the audit log: `operator`, `key:<id>` or `anonymous`.
    public var actor: String {
        switch self {
        case .anonymous: "anonymous"
        case .operator: "operator"
        case .apiKey(_, let keyID, _): "key:\(keyID)"
        }
    }
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

    /// The tenant of an API-key request (tenant routes only).
    public var tenantID: String {
        get throws {
            guard case .apiKey(let tenant, _, _) = principal else { throw APIError.unauthorized("this route needs a tenant API key") }
            return tenant
        }
    }

    /// The JSON body decoded as `T` (fields in snake_case); errors name the field that is wrong,
    /// and fields `T` does not know are refused (no mass assignment).
    public func decode<T: APIRequestBody>(_ type: T.Type) throws -> T {
        let contentType = request.head.headers["Content-Type"]
        guard let contentType, contentType.lowercased().hasPrefix("application/json") else {
            throw APIError.unsupportedMediaType(contentType, want: "application/json")
        }
        return try Self.decodeJSON(T.self, from: request.body)
    }

    /// Whether a JSON text holds a string with U+0000 (escaped as `\u0000`), which no text
    /// column can store. An escaped backslash followed by `u0000` is text, not NUL.
    static func containsNUL(_ json: [UInt8]) -> Bool {
        var index = 0
        while index < json.count {
            guard json[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            if index + 5 < json.count, json[index + 1] == UInt8(ascii: "u"),
               json[(index + 2)...(index + 5)].allSatisfy({ $0 == UInt8(ascii: "0") }) {
                return true
            }
            index += 2
        }
        return false
    }

    /// Decodes a JSON request document strictly (see `decode`).
    public static func decodeJSON<T: APIRequestBody>(_ type: T.Type, from body: [UInt8]) throws -> T {
        if let plain = T.plain(body) { return plain }
        return try decodeGeneral(T.self, from: body)
    }

    /// `decodeJSON` without the fast path for plain bodies.
    static func decodeGeneral<T: APIRequestBody>(_ type: T.Type, from body: [UInt8]) throws -> T {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) else {
            throw APIError.badRequest("body is not valid JSON")
        }
        guard let fields = object as? [String: Any] else { throw APIError.badRequest("body must be a JSON object") }
        guard !Self.containsNUL(body) else {
            throw APIError.badRequest("strings must not contain the NUL character (\\u0000)")
        }
        if let unknown = fields.keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw APIError.badRequest("unknown field \(unknown) (known: \(T.fields.sorted().joined(separator: ", ")))", field: unknown)
        }
        try T.checkNestedFields(fields)
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw Self.describe(error)
        }
    }

    /// A query parameter (percent-decoded, `+` as space), or nil.
    public func query(_ name: String) -> String? {
        guard let query = request.head.query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.first.map({ String($0).removingPercentEncodingASCII }) == name else { continue }
            guard parts.count == 2 else { return "" }
            // `+` as space on the bytes: Foundation's replacingOccurrences is a locale-aware search.
            let value = parts[1].utf8.contains(UInt8(ascii: "+"))
                ? String(decoding: parts[1].utf8.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
                : String(parts[1])
            return value.removingPercentEncodingASCII
        }
        return nil
    }

    /// An integer query parameter within `range`, or `defaultValue` when absent.
    public func integerQuery(_ name: String, default defaultValue: Int? = nil, range: ClosedRange<Int>) throws -> Int? {
        guard let text = query(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("query parameter \(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got \(text)", field: name)
        }
        return value
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

/// A JSON request document: `fields` lists its members (snake_case) so that unknown ones are refused.
public protocol APIRequestBody: Decodable {
    static var fields: Set<String> { get }
    /// The value, if `body` has the plain shape a fast reader handles (see `PlainJSONReader`);
    /// nil sends it through the general decoder.
    static func plain(_ body: [UInt8]) -> Self?
    /// Refuses unknown fields of nested objects (the top level is checked by the decoder).
    static func checkNestedFields(_ object: [String: Any]) throws
}

extension APIRequestBody {
    public static func plain(_ body: [UInt8]) -> Self? { nil }
    public static func checkNestedFields(_ object: [String: Any]) throws {}
}

/// A JSON response with status `status`; property names become snake_case.
public func jsonResponse<T: Encodable>(_ value: T, status: Int = 200) throws -> HTTPResponse {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let body = try encoder.encode(value)
    return HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: .bytes([UInt8](body)))
}
