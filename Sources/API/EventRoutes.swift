public import HTTPServer
internal import HTTP1
internal import Foundation

// Events beyond the cursor list: the live stream (Server-Sent Events) and webhook subscriptions
// with their deliveries (docs/events.md).

/// Which events a consumer wants: any of the three may be nil (no restriction).
public struct EventFilter: Sendable, Equatable {
    public var contract: String?
    public var topic: String?
    /// `contract` or `block`.
    public var kind: String?
    public init(contract: String? = nil, topic: String? = nil, kind: String? = nil) {
        self.contract = contract
        self.topic = topic
        self.kind = kind
    }
}

/// Where a live stream starts: after a sequence number (`Last-Event-ID`, or `from_seq` - 1), at
/// the first event of a height, or (neither) after the newest event.
public struct EventStreamRequest: Sendable, Equatable {
    public var filter: EventFilter
    public var afterSeq: Int64?
    public var fromHeight: UInt64?
    public init(filter: EventFilter, afterSeq: Int64?, fromHeight: UInt64?) {
        self.filter = filter
        self.afterSeq = afterSeq
        self.fromHeight = fromHeight
    }
}

public struct CreateWebhookRequest: APIRequestBody, Sendable {
    public var url: String
    public var description: String?
    public var contract: String?
    public var topic: String?
    public var kind: String?
    /// The signing secret; generated when absent (returned once either way).
    public var secret: String?
    public var maxAttempts: Int?
    public var maxAgeSeconds: Int?
    public static let fields: Set<String> = ["url", "description", "contract", "topic", "kind", "secret", "max_attempts", "max_age_seconds"]
}

public struct UpdateWebhookRequest: APIRequestBody, Sendable {
    public var url: String?
    public var description: String?
    /// `active` or `paused`.
    public var state: String?
    public var maxAttempts: Int?
    public var maxAgeSeconds: Int?
    public static let fields: Set<String> = ["url", "description", "state", "max_attempts", "max_age_seconds"]
}

public struct WebhookCounts: Codable, Sendable, Equatable {
    public var pending: Int64
    public var delivered: Int64
    public var dead: Int64
    public init(pending: Int64, delivered: Int64, dead: Int64) {
        self.pending = pending
        self.delivered = delivered
        self.dead = dead
    }
}

public struct WebhookView: Codable, Sendable, Equatable {
    public var id: String
    public var chain: String
    public var url: String
    public var description: String
    public var contract: String?
    public var topic: String?
    public var kind: String?
    public var state: String
    public var maxAttempts: Int
    public var maxAgeSeconds: Int
    public var createdAt: String
    public var deliveries: WebhookCounts
    public init(id: String, chain: String, url: String, description: String, filter: EventFilter, state: String, maxAttempts: Int,
                maxAgeSeconds: Int, createdAt: String, deliveries: WebhookCounts) {
        self.id = id
        self.chain = chain
        self.url = url
        self.description = description
        self.contract = filter.contract
        self.topic = filter.topic
        self.kind = filter.kind
        self.state = state
        self.maxAttempts = maxAttempts
        self.maxAgeSeconds = maxAgeSeconds
        self.createdAt = createdAt
        self.deliveries = deliveries
    }
}

/// A new subscription and its signing secret, shown this once.
public struct CreatedWebhook: Encodable, Sendable {
    public var webhook: WebhookView
    public var secret: String
    public init(webhook: WebhookView, secret: String) {
        self.webhook = webhook
        self.secret = secret
    }
}

public struct DeliveryAttemptView: Codable, Sendable, Equatable {
    public var attempt: Int
    public var at: String
    public var durationMs: Int
    /// The receiver's HTTP status, when it answered.
    public var status: Int?
    public var error: String?
    public init(attempt: Int, at: String, durationMs: Int, status: Int?, error: String?) {
        self.attempt = attempt
        self.at = at
        self.durationMs = durationMs
        self.status = status
        self.error = error
    }
}

/// One event's delivery to one subscription: pending (with the time of its next attempt),
/// delivered, or dead (given up; `redrive` makes it pending again).
public struct DeliveryView: Codable, Sendable, Equatable {
    public var id: String
    public var eventId: String
    public var eventSeq: Int64
    public var eventHeight: UInt64
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: String?
    public var lastStatus: Int?
    public var lastError: String?
    public var finishedAt: String?
    /// Every attempt, oldest first (only on the single-delivery route).
    public var log: [DeliveryAttemptView]?
    public init(id: String, eventId: String, eventSeq: Int64, eventHeight: UInt64, status: String, attempts: Int, nextAttemptAt: String?,
                lastStatus: Int?, lastError: String?, finishedAt: String?, log: [DeliveryAttemptView]? = nil) {
        self.id = id
        self.eventId = eventId
        self.eventSeq = eventSeq
        self.eventHeight = eventHeight
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.finishedAt = finishedAt
        self.log = log
    }
}

public struct RedriveView: Codable, Sendable, Equatable {
    /// Dead deliveries made pending again.
    public var redriven: Int
    public init(redriven: Int) { self.redriven = redriven }
}

/// What the event routes need from the node.
public protocol EventService: Sendable {
    /// Checks the chain and the tenant's stream limit, and returns the body's producer: it is
    /// called with the response's writer and streams until the client goes away.
    func openEventStream(tenant: String, chain: String, _ request: EventStreamRequest) throws -> @Sendable (any HTTPStreamWriter) -> Void

    func createWebhook(tenant: String, chain: String, _ request: CreateWebhookRequest) throws -> CreatedWebhook
    func listWebhooks(tenant: String, chain: String, _ page: PageRequest) throws -> Page<WebhookView>
    func webhook(tenant: String, chain: String, id: String) throws -> WebhookView
    func updateWebhook(tenant: String, chain: String, id: String, _ request: UpdateWebhookRequest) throws -> WebhookView
    func deleteWebhook(tenant: String, chain: String, id: String) throws
    func deliveries(tenant: String, chain: String, webhook: String, status: String?, _ page: PageRequest) throws -> Page<DeliveryView>
    func delivery(tenant: String, chain: String, webhook: String, id: String) throws -> DeliveryView
    /// Makes one dead delivery (`delivery`) or all of the subscription's dead deliveries pending again.
    func redrive(tenant: String, chain: String, webhook: String, delivery: String?) throws -> RedriveView
}

extension PlatformRoutes {
    /// The live stream and webhook routes.
    public static func eventRoutes(_ service: any EventService) -> [Route] {
        let s = service
        return [
            Route("GET", "/v1/chains/{chain}/events/stream", access: .tenant(.read)) { c in
                let producer = try s.openEventStream(tenant: c.tenantID, chain: c.parameter("chain"), streamRequest(c))
                return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/event-stream"), ("Cache-Control", "no-store"),
                                                                       ("X-Accel-Buffering", "no")]),
                                    body: .stream(producer))
            },
            Route("POST", "/v1/chains/{chain}/webhooks", access: .tenant(.admin)) { c in
                try jsonResponse(s.createWebhook(tenant: c.tenantID, chain: c.parameter("chain"), c.decode(CreateWebhookRequest.self)), status: 201)
            },
            Route("GET", "/v1/chains/{chain}/webhooks", access: .tenant(.read)) { c in
                try jsonResponse(s.listWebhooks(tenant: c.tenantID, chain: c.parameter("chain"), page(c)))
            },
            Route("GET", "/v1/chains/{chain}/webhooks/{webhook}", access: .tenant(.read)) { c in
                try jsonResponse(s.webhook(tenant: c.tenantID, chain: c.parameter("chain"), id: c.parameter("webhook")))
            },
            Route("PATCH", "/v1/chains/{chain}/webhooks/{webhook}", access: .tenant(.admin)) { c in
                try jsonResponse(s.updateWebhook(tenant: c.tenantID, chain: c.parameter("chain"), id: c.parameter("webhook"),
                                                 c.decode(UpdateWebhookRequest.self)))
            },
            Route("DELETE", "/v1/chains/{chain}/webhooks/{webhook}", access: .tenant(.admin)) { c in
                try s.deleteWebhook(tenant: c.tenantID, chain: c.parameter("chain"), id: c.parameter("webhook"))
                return HTTPResponse(status: 204)
            },
            Route("POST", "/v1/chains/{chain}/webhooks/{webhook}/redrive", access: .tenant(.admin)) { c in
                try jsonResponse(s.redrive(tenant: c.tenantID, chain: c.parameter("chain"), webhook: c.parameter("webhook"), delivery: nil))
            },
            Route("GET", "/v1/chains/{chain}/webhooks/{webhook}/deliveries", access: .tenant(.read)) { c in
                let status = c.query("status")
                if let status, !["pending", "delivered", "dead"].contains(status) {
                    throw APIError.badRequest("status must be pending, delivered or dead", field: "status")
                }
                return try jsonResponse(s.deliveries(tenant: c.tenantID, chain: c.parameter("chain"), webhook: c.parameter("webhook"),
                                                     status: status, page(c)))
            },
            Route("GET", "/v1/chains/{chain}/webhooks/{webhook}/deliveries/{delivery}", access: .tenant(.read)) { c in
                try jsonResponse(s.delivery(tenant: c.tenantID, chain: c.parameter("chain"), webhook: c.parameter("webhook"),
                                            id: c.parameter("delivery")))
            },
            Route("POST", "/v1/chains/{chain}/webhooks/{webhook}/deliveries/{delivery}/redrive", access: .tenant(.admin)) { c in
                try jsonResponse(s.redrive(tenant: c.tenantID, chain: c.parameter("chain"), webhook: c.parameter("webhook"),
                                           delivery: c.parameter("delivery")))
            },
        ]
    }

    /// `?contract=`, `?topic=`, `?kind=` (contract or block).
    static func eventFilter(_ context: RequestContext) throws -> EventFilter {
        let kind = context.query("kind")
        if let kind, kind != "contract" && kind != "block" { throw APIError.badRequest("kind must be contract or block", field: "kind") }
        for name in ["contract", "topic"] {
            if let value = context.query(name), value.isEmpty || value.utf8.count > 128 {
                throw APIError.badRequest("\(name) must be 1 to 128 characters", field: name)
            }
        }
        return EventFilter(contract: context.query("contract"), topic: context.query("topic"), kind: kind)
    }

    /// The stream's start: `Last-Event-ID` (a sequence number) wins over `from_seq`, which wins over `from_height`.
    static func streamRequest(_ context: RequestContext) throws -> EventStreamRequest {
        let filter = try eventFilter(context)
        if let last = context.request.head.headers["Last-Event-ID"] {
            guard let seq = Int64(last.trimmingCharacters(in: .whitespaces)), seq >= 0 else {
                throw APIError.badRequest("Last-Event-ID must be the seq of an event this stream sent (an integer >= 0)", field: "Last-Event-ID")
            }
            return EventStreamRequest(filter: filter, afterSeq: seq, fromHeight: nil)
        }
        if let from = try context.integerQuery("from_seq", range: 0...Int.max) {
            return EventStreamRequest(filter: filter, afterSeq: Int64(from) - 1, fromHeight: nil)
        }
        let height = try context.integerQuery("from_height", range: 0...Int.max).map(UInt64.init)
        return EventStreamRequest(filter: filter, afterSeq: nil, fromHeight: height)
    }
}
