public import Foundation

/// A small JSON client for end-to-end tests of the REST API: one connection per request, the
/// bearer token of the caller, the body as given.
public struct APIClient: Sendable {
    public let port: Int
    public var token: String?

    public init(port: Int, token: String? = nil) {
        self.port = port
        self.token = token
    }

    /// A response with its body parsed as a JSON object (empty when it is not one).
    public struct Reply: @unchecked Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
        public var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
        public var text: String { String(decoding: body, as: UTF8.self) }
        public subscript(key: String) -> Any? { json[key] }
        public func string(_ key: String) -> String? { json[key] as? String }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public func request(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
                        headers: [String: String] = [:], timeout: Duration = .seconds(60)) throws -> Reply {
        let client = try TestClient(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n" }
        guard client.send(Array((head + "\r\n").utf8) + (body ?? [])) else { throw Failure(description: "\(method) \(path): the server closed the connection") }
        guard let response = client.readResponse(timeout: timeout, headRequest: method == "HEAD") else {
            throw Failure(description: "\(method) \(path): no response")
        }
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    /// A request with a JSON object body.
    public func send(_ method: String, _ path: String, json: [String: Any], headers: [String: String] = [:]) throws -> Reply {
        try request(method, path, body: Array(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])), headers: headers)
    }

    public func get(_ path: String) throws -> Reply { try request("GET", path) }

    public func with(token: String?) -> APIClient { APIClient(port: port, token: token) }
}
