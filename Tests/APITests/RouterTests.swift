// The router on its own: parameters, literal segments winning over parameters, 404 versus 405
// with the allowed methods, percent-decoding, and conflicts refused when the router is built.
@testable import API
import HTTPServer
import XCTest

final class RouterTests: XCTestCase {
    private func route(_ method: String, _ pattern: String) -> Route {
        Route(method, pattern) { _ in HTTPResponse(status: 200) }
    }

    func testParametersAndLiteralPriority() throws {
        let router = try Router([route("GET", "/v1/chains/{chain}"), route("GET", "/v1/chains/latest"),
                                 route("POST", "/v1/chains/{chain}/transactions")])
        guard case .found(let byID, let parameters) = router.match(method: "GET", path: "/v1/chains/c%2D1") else { return XCTFail() }
        XCTAssertEqual(byID.pattern, "/v1/chains/{chain}")
        XCTAssertEqual(parameters, ["chain": "c-1"])
        guard case .found(let latest, _) = router.match(method: "GET", path: "/v1/chains/latest") else { return XCTFail() }
        XCTAssertEqual(latest.pattern, "/v1/chains/latest")
        guard case .found(_, let nested) = router.match(method: "POST", path: "/v1/chains/abc/transactions/") else { return XCTFail() }
        XCTAssertEqual(nested, ["chain": "abc"])

        // A literal segment owns its path for every method: GET …/batch is not a transaction named "batch".
        let transactions = try Router([route("GET", "/v1/chains/{chain}/transactions/{tx}"), route("POST", "/v1/chains/{chain}/transactions/batch")])
        guard case .methodNotAllowed(let allowed) = transactions.match(method: "GET", path: "/v1/chains/c/transactions/batch") else { return XCTFail() }
        XCTAssertEqual(allowed, ["OPTIONS", "POST"])
        guard case .found(let byTx, _) = transactions.match(method: "GET", path: "/v1/chains/c/transactions/ab12") else { return XCTFail() }
        XCTAssertEqual(byTx.pattern, "/v1/chains/{chain}/transactions/{tx}")
    }

    func testNotFoundAndMethodNotAllowed() throws {
        let router = try Router([route("GET", "/a"), route("POST", "/a")])
        guard case .notFound = router.match(method: "GET", path: "/b") else { return XCTFail() }
        guard case .methodNotAllowed(let allowed) = router.match(method: "DELETE", path: "/a") else { return XCTFail() }
        XCTAssertEqual(allowed, ["GET", "HEAD", "OPTIONS", "POST"])
        guard case .found(let head, _) = router.match(method: "HEAD", path: "/a") else { return XCTFail("HEAD is served by GET") }
        XCTAssertEqual(head.method, "GET")
    }

    func testConflictingRoutesAreRefusedAtStartUp() {
        XCTAssertThrowsError(try Router([route("GET", "/v1/chains/{id}"), route("GET", "/v1/chains/{chain}")])) { error in
            XCTAssertEqual("\(error)", "routes GET /v1/chains/{id} and GET /v1/chains/{chain} conflict")
        }
        XCTAssertNoThrow(try Router([route("GET", "/v1/chains/{id}"), route("PUT", "/v1/chains/{chain}")]))
        XCTAssertThrowsError(try Router([route("GET", "no-slash")]))
    }
}
