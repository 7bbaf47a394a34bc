// The REST framework end to end on a real server and socket: problem+json for every error with
// a stable type, request ids, CORS preflight and headers, the operator group, body decoding
// errors that name the field, per-route body limits, rate limiting, and no leak of internals.
import API
import Foundation
import HTTP1
import HTTPServer
import HanseCore
import HanseTesting
import Logging
import XCTest

final class APIApplicationTests: XCTestCase {
    private struct Transfer: APIRequestBody {
        struct Party: Decodable { let name: String }
        let amount: Int
        let to: Party
        static let fields: Set<String> = ["amount", "to"]
    }

    private static let operatorToken = "op-token-0123456789-0123456789-0123"

    private func startServer(rateLimiter: (any RateLimiter)? = nil) throws -> HTTPServer {
        let routes = HealthRoutes.routes(checkDatabase: { nil }, status: {
            PlatformStatus(version: "test", uptimeSeconds: 1, openConnections: 1, requestsServed: 1, refusedConnections: 0,
                           databaseConnectionsOpen: 0, databaseConnectionsIdle: 0)
        }) + [
            Route("POST", "/v1/transfers", bodyLimit: 64) { context in
                let transfer = try context.decode(Transfer.self)
                return try jsonResponse(["amount": transfer.amount], status: 201)
            },
            Route("GET", "/v1/boom") { _ in
                struct Secret: Error { let connectionString = "host=db password=hunter2" }
                throw Secret()
            },
            Route("GET", "/v1/items/{item}") { context in try jsonResponse(["item": try context.parameter("item")]) },
            Route("GET", "/v1/echo") { context in
                try jsonResponse(["q": context.query("q") ?? "(none)", "flag": context.query("flag") ?? "(none)", "other": context.query("other") ?? "(none)"])
            },
        ]
        let configuration = APIConfiguration(cors: CORSConfiguration(allowedOrigins: ["https://app.example"]),
                                             verifyOperatorToken: { $0 == Self.operatorToken }, rateLimiter: rateLimiter)
        var logger = Logger(label: "test.api")
        logger.logLevel = .critical
        let application = APIApplication(router: try Router(routes), configuration: configuration, logger: logger)
        return try HTTPServer(address: "127.0.0.1", port: 0, handler: application, loopCount: 1)
    }

    private func request(_ server: HTTPServer, _ text: String) throws -> TestResponse {
        let client = try TestClient(port: server.port)
        _ = client.send(text)
        return try XCTUnwrap(client.readResponse(headRequest: text.hasPrefix("HEAD ")))
    }

    private func problem(_ response: TestResponse) throws -> [String: Any] {
        XCTAssertEqual(response.headers["content-type"], "application/problem+json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func testHealthAndReadiness() throws {
        let server = try startServer()
        defer { server.shutdown(grace: .seconds(1)) }
        let health = try request(server, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(String(decoding: health.body, as: UTF8.self), #"{"status":"ok"}"#)
        XCTAssertEqual(try request(server, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n").status, 200)
        let head = try request(server, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], "15")
    }

    func testErrorsAreProblemDocumentsWithStableTypes() throws {
        let server = try startServer()
        defer { server.shutdown(grace: .seconds(1)) }
        let missing = try request(server, "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(try problem(missing)["type"] as? String, "urn:hanse:problem:not-found")
        let wrongMethod = try request(server, "DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.headers["allow"], "GET, HEAD, OPTIONS")
        XCTAssertEqual(try problem(wrongMethod)["status"] as? Int, 405)
        let malformed = try request(server, "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n")
        XCTAssertEqual(malformed.status, 400)
        XCTAssertEqual(try problem(malformed)["type"] as? String, "urn:hanse:problem:malformed-request")
    }

    func testUnexpectedErrorIs500WithRequestIDAndNoInternals() throws {
        let server = try startServer()
        defer { server.shutdown(grace: .seconds(1)) }
        let response = try request(server, "GET /v1/boom HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-42\r\n\r\n")
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.headers["x-request-id"], "trace-42")
        let body = String(decoding: response.body, as: UTF8.self)
        XCTAssertFalse(body.contains("hunter2") || body.contains("Secret"), body)
        XCTAssertEqual(try problem(response)["request_id"] as? String, "trace-42")
    }

    func testBodyDecodingErrorsNameTheField() throws {
        let server = try startServer()
        defer { server.shutdown(grace: .seconds(1)) }
        func post(_ json: String, contentType: String = "application/json") throws -> TestResponse {
            try request(server, "POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Type: \(contentType)\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)")
        }
        XCTAssertEqual(try post(#"{"amount":5,"to":{"name":"b"}}"#).status, 201)
        let wrongType = try post(#"{"amount":"5","to":{"name":"b"}}"#)
        XCTAssertEqual(wrongType.status, 400)
        XCTAssertEqual(try problem(wrongType)["field"] as? String, "amount")
        XCTAssertEqual(try problem(wrongType)["detail"] as? String, "field amount: want an integer")
        let missing = try post(#"{"amount":5,"to":{}}"#)
        XCTAssertEqual(try problem(missing)["detail"] as? String, "missing field to.name")
        XCTAssertEqual(try post("{not json").status, 400)
        XCTAssertEqual(try post("{}", contentType: "text/plain").status, 415)
        let tooLarge = try post("{\"amount\":5,\"to\":{\"name\":\"" + String(repeating: "x", count: 64) + "\"}}")
        XCTAssertEqual(tooLarge.status, 413, "the route allows 64 bytes")
    }

    func testQueryAndPathParametersAreDecoded() throws {
        let server = try startServer()
        defer { server.shutdown(grace: .seconds(1)) }
        func echo(_ target: String) throws -> [String: String] {
            let response = try request(server, "GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(response.status, 200, target)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
        }
        XCTAssertEqual(try echo("/v1/echo?q=a+b%2Bc%20d&flag"), ["q": "a b+c d", "flag": "", "other": "(none)"])
        XCTAssertEqual(try echo("/v1/echo?%71=first&q=second"), ["q": "first", "flag": "(none)", "other": "(none)"], "the first match wins, names are decoded")
        XCTAssertEqual(try echo("/v1/echo?q=%E4%B8%AD%zz"), ["q": "%E4%B8%AD%zz", "flag": "(none)", "other": "(none)"], "a malformed escape leaves the text as it was")
        XCTAssertEqual(try echo("/v1/echo?q=%E4%B8%AD"), ["q": "中", "flag": "(none)", "other": "(none)"])
        let item = try request(server, "GET /v1/items/a%2Fb+c HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try XCTUnwrap(JSONSerialization.jsonObject(with: Data(item.body)) as? [String: String])["item"], "a/b+c", "+ is literal in a path")
    }

    func testOperatorRoutesNeedTheOperatorToken() throws {
        let server = try startServer()
        defer { server.shutdown(grace: .seconds(1)) }
        let anonymous = try request(server, "GET /v1/operator/status HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.headers["www-authenticate"], "Bearer")
        XCTAssertEqual(try request(server, "GET /v1/operator/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n").status, 401)
        let allowed = try request(server, "GET /v1/operator/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.operatorToken)\r\n\r\n")
        XCTAssertEqual(allowed.status, 200)
        let status = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(allowed.body)) as? [String: Any])
        XCTAssertEqual(status["version"] as? String, "test")
    }

    func testCORSPreflightAndResponseHeaders() throws {
        let server = try startServer()
        defer { server.shutdown(grace: .seconds(1)) }
        let preflight = try request(server, "OPTIONS /v1/transfers HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n\r\n")
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.headers["access-control-allow-origin"], "https://app.example")
        XCTAssertTrue(preflight.headers["access-control-allow-methods"]?.contains("POST") == true)
        XCTAssertTrue(preflight.headers["access-control-allow-headers"]?.contains("Authorization") == true)
        let foreign = try request(server, "OPTIONS /v1/transfers HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n")
        XCTAssertEqual(foreign.status, 403)
        XCTAssertNil(foreign.headers["access-control-allow-origin"])
        let simple = try request(server, "GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n")
        XCTAssertEqual(simple.headers["access-control-allow-origin"], "https://app.example")
        XCTAssertEqual(simple.headers["access-control-expose-headers"], "X-Request-Id, Location, Retry-After")
    }

    func testRequestIDsAreEchoedOrGenerated() throws {
        let server = try startServer()
        defer { server.shutdown(grace: .seconds(1)) }
        XCTAssertEqual(try request(server, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-1.2_3\r\n\r\n").headers["x-request-id"], "abc-1.2_3")
        let generated = try request(server, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: bad id!\r\n\r\n").headers["x-request-id"]
        XCTAssertEqual(generated?.count, 24)
        XCTAssertNotEqual(generated, "bad id!")
        let item = try request(server, "GET /v1/items/a%20b HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(String(decoding: item.body, as: UTF8.self), #"{"item":"a b"}"#)
    }

    func testRateLimiterAnswers429WithRetryAfter() throws {
        let clock = FakeSeconds()
        let server = try startServer(rateLimiter: TokenBucketRateLimiter(ratePerSecond: 1, burst: 2, now: { clock.value }))
        defer { server.shutdown(grace: .seconds(1)) }
        let statuses = try (0..<3).map { _ in try request(server, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n") }
        XCTAssertEqual(statuses.map(\.status), [200, 200, 429])
        XCTAssertEqual(statuses[2].headers["retry-after"], "1")
        clock.value += 1
        XCTAssertEqual(try request(server, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n").status, 200)
    }
}

/// Seconds moved by hand, for the rate limiter.
final class FakeSeconds: @unchecked Sendable {
    var value = 1000.0
}
