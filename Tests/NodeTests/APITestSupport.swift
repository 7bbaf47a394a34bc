// What the API tests share: a node (platform, API, server on a socket, its own database), a
// tenant with an admin key, provisioning, and a key-value contract.
import API
import Crypto
import Foundation
import HanseCore
import HanseTesting
import HTTPServer
import Logging
import Node
import PostgresStorage
import Storage
import XCTest

/// A node: the platform, the API and the server, on a database of its own.
final class APITestNode {
    static let operatorToken = "operator-token-for-tests-0123456789abcdef"

    static let kv = """
    (module
      (import "hanse" "args" (func $args (param i32 i32) (result i32)))
      (import "hanse" "state_set" (func $set (param i32 i32 i32 i32)))
      (import "hanse" "state_get" (func $get (param i32 i32 i32 i32) (result i32)))
      (import "hanse" "return_value" (func $ret (param i32 i32)))
      (import "hanse" "emit" (func $emit (param i32 i32 i32 i32)))
      (memory (export "memory") 1 1)
      (data (i32.const 2048) "k")
      (data (i32.const 2064) "put")
      (func (export "put")
        (local $n i32)
        (local.set $n (call $args (i32.const 0) (i32.const 1024)))
        (call $set (i32.const 2048) (i32.const 1) (i32.const 0) (local.get $n))
        (call $emit (i32.const 2064) (i32.const 3) (i32.const 0) (local.get $n)))
      (func (export "get")
        (local $n i32)
        (local.set $n (call $get (i32.const 2048) (i32.const 1) (i32.const 0) (i32.const 1024)))
        (call $ret (i32.const 0) (local.get $n))))
    """

    let platform: Platform
    let server: HTTPServer
    let pool: PostgresPool
    let router: Router
    var port: Int { server.port }

    init(_ label: String, pool existing: PostgresPool? = nil, masterKey: [UInt8], webhooks: WebhookSettings = WebhookSettings(),
         streams: EventStreams.Settings = EventStreams.Settings(), clock: any HanseClock = SystemClock()) throws {
        pool = try existing ?? TestCluster.shared.makeMigratedDatabase(label, platform: true).pool
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let chainMigrations = try MigrationCatalog.load(directory: Repository.path("Migrations/chain"))
        platform = Platform(pool: pool, vault: try KeyVault(masterKey: masterKey), chainMigrations: chainMigrations, logger: logger,
                            streams: streams, webhooks: webhooks, clock: clock)
        try platform.start()
        let tokenHash = SHA256.hash(utf8: APITestNode.operatorToken)
        let platform = self.platform
        let configuration = APIConfiguration(
            verifyOperatorToken: { constantTimeEquals(SHA256.hash(utf8: $0), tokenHash) },
            authenticateAPIKey: { platform.authenticate(apiKey: $0) },
            audit: { platform.audit($0, status: $1) },
            idempotency: platform)
        router = try Router(PlatformRoutes.routes(platform) + PlatformRoutes.eventRoutes(platform))
        server = try HTTPServer(address: "127.0.0.1", port: 0, handler: APIApplication(router: router, configuration: configuration, logger: logger),
                                loopCount: 1)
    }

    func stop() {
        server.shutdown()
        platform.stop()
    }
}

struct APITenant {
    let id: String
    let client: APIClient
}

extension XCTestCase {
    func makeTenant(_ node: APITestNode, _ name: String) throws -> APITenant {
        let operatorClient = APIClient(port: node.port, token: APITestNode.operatorToken)
        let tenant = try operatorClient.send("POST", "/v1/tenants", json: ["name": name])
        XCTAssertEqual(tenant.status, 201, tenant.text)
        let id = try XCTUnwrap(tenant.string("id"))
        let key = try operatorClient.send("POST", "/v1/tenants/\(id)/api-keys", json: ["name": "admin", "scopes": ["admin"]])
        XCTAssertEqual(key.status, 201, key.text)
        return APITenant(id: id, client: APIClient(port: node.port, token: try XCTUnwrap(key.string("secret"))))
    }

    /// Provisions a chain and waits for its operation to finish.
    func provision(_ tenant: APITenant, _ name: String, consensus: String, access: String? = nil) throws -> String {
        var request: [String: Any] = ["name": name, "consensus": consensus]
        if let access { request["access"] = access }
        let accepted = try tenant.client.send("POST", "/v1/chains", json: request)
        XCTAssertEqual(accepted.status, 202, accepted.text)
        XCTAssertEqual(accepted.headers["location"], "/v1/operations/\(accepted.string("id") ?? "")")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let operation = try tenant.client.get("/v1/operations/\(try XCTUnwrap(accepted.string("id")))")
            switch operation.string("status") {
            case "succeeded": return try XCTUnwrap(operation.string("target_id"))
            case "failed": throw APIClient.Failure(description: "provisioning failed: \(operation.text)")
            default: usleep(50_000)
            }
        }
        throw APIClient.Failure(description: "provisioning did not finish")
    }

    func deployKV(_ tenant: APITenant, chain: String) throws -> APIClient.Reply {
        try tenant.client.send("POST", "/v1/chains/\(chain)/contracts?wait=commit", json: ["name": "kv", "version": "1", "wat": APITestNode.kv])
    }
}
