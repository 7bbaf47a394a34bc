// openapi/openapi.yaml is the contract with clients: the router serves exactly its paths and
// methods, with the security it declares, and the document is valid OpenAPI 3.1.
import API
import Foundation
import HanseTesting
import Logging
import Node
import PostgresStorage
import XCTest

final class OpenAPITests: XCTestCase {
    private func python(_ arguments: [String]) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    private func specification() throws -> [String: Any] {
        let (status, output) = try python(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
                                           Repository.path("openapi/openapi.yaml").path])
        XCTAssertEqual(status, 0, String(decoding: output, as: UTF8.self))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: output) as? [String: Any])
    }

    /// The routes `hanse serve` registers.
    private func routes() throws -> [Route] {
        let pool = PostgresPool(configuration: PostgresPoolConfiguration(conninfo: "host=/nonexistent"))
        let platform = Platform(pool: pool, vault: try KeyVault(masterKey: [UInt8](repeating: 1, count: 32)), chainMigrations: [])
        return HealthRoutes.routes(checkDatabase: { nil }, status: { PlatformStatus(version: "", uptimeSeconds: 0, openConnections: 0,
                                                                                     requestsServed: 0, refusedConnections: 0,
                                                                                     databaseConnectionsOpen: 0, databaseConnectionsIdle: 0) })
            + PlatformRoutes.routes(platform) + PlatformRoutes.eventRoutes(platform)
    }

    func testRouterServesExactlyTheDocumentedOperations() throws {
        let paths = try XCTUnwrap(try specification()["paths"] as? [String: [String: Any]])
        var documented: [String: [String: Any]] = [:]
        for (path, operations) in paths {
            for (method, operation) in operations where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented["\(method.uppercased()) \(path)"] = operation as? [String: Any]
            }
        }
        let served = Dictionary(uniqueKeysWithValues: try routes().map { ("\($0.method) \($0.pattern)", $0) })
        XCTAssertEqual(Set(served.keys).subtracting(documented.keys).sorted(), [], "served but not in openapi.yaml")
        XCTAssertEqual(Set(documented.keys).subtracting(served.keys).sorted(), [], "in openapi.yaml but not served")

        for (key, route) in served {
            guard let operation = documented[key] else { continue }
            let security = operation["security"] as? [[String: Any]]
            switch route.access {
            case .open:
                XCTAssertEqual(security?.count, 0, "\(key) is open")
            case .operator:
                XCTAssertEqual(security?.first?.keys.first, "operatorToken", key)
            case .tenant(let scope):
                XCTAssertEqual(security?.first?.keys.first, "apiKey", key)
                XCTAssertEqual(operation["x-hanse-scope"] as? String, scope.rawValue, key)
            }
            XCTAssertNotNil(operation["operationId"], key)
            let responses = try XCTUnwrap(operation["responses"] as? [String: Any], key)
            if route.access != .open { XCTAssertNotNil(responses["401"], "\(key) documents 401") }
        }
    }

    func testDocumentIsValidOpenAPI() throws {
        let (available, _) = try python(["-c", "import openapi_spec_validator"])
        try XCTSkipIf(available != 0, "openapi-spec-validator is not installed (.ci/run installs it)")
        let (status, output) = try python(["-m", "openapi_spec_validator", Repository.path("openapi/openapi.yaml").path])
        XCTAssertEqual(status, 0, String(decoding: output, as: UTF8.self))
    }
}
