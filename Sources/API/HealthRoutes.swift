internal import HTTPServer
internal import HanseCore
internal import Foundation

/// What `/v1/operator/status` reports.
public struct PlatformStatus: Codable, Sendable, Equatable {
    public var version: String
    public var uptimeSeconds: Int
    public var openConnections: Int
    public var requestsServed: Int
    public var refusedConnections: Int
    public var databaseConnectionsOpen: Int
    public var databaseConnectionsIdle: Int

    public init(version: String, uptimeSeconds: Int, openConnections: Int, requestsServed: Int, refusedConnections: Int,
                databaseConnectionsOpen: Int, databaseConnectionsIdle: Int) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.openConnections = openConnections
        self.requestsServed = requestsServed
        self.refusedConnections = refusedConnections
        self.databaseConnectionsOpen = databaseConnectionsOpen
        self.databaseConnectionsIdle = databaseConnectionsIdle
    }
}

/// Liveness, readiness and the operator's status route.
public enum HealthRoutes {
    private static let healthBody = HTTPResponse(status: 200, headers: .init([("Content-Type", "application/json")]),
                                                 body: .bytes(Array(#"{"status":"ok"}"#.utf8)))

    /// `GET /healthz` (the process serves; runs on the event loop), `GET /readyz` (the database
    /// answers; `checkDatabase` returns nil when ready, else the reason), and
    /// `GET /v1/operator/status` (operator token).
    public static func routes(checkDatabase: @escaping @Sendable () -> String?,
                              status: @escaping @Sendable () -> PlatformStatus) -> [Route] {
        [
            Route("GET", "/healthz", blocking: false) { _ in healthBody },
            Route("GET", "/readyz") { _ in
                if let reason = checkDatabase() { throw APIError.unavailable("database not ready: \(reason)") }
                return try jsonResponse(["status": "ready"])
            },
            Route("GET", "/v1/operator/status", access: .operator) { _ in try jsonResponse(status()) },
        ]
    }
}
