public import API
internal import Dispatch
internal import Foundation
public import HTTPServer
public import PostgresStorage
internal import Synchronization

/// Live event streams (Server-Sent Events, docs/events.md). A stream holds no thread: a commit on
/// its chain, or the heartbeat timer, schedules a pump that reads the next events after the
/// stream's cursor from PostgreSQL and writes them. Each event's `id:` is its sequence number, so
/// a client that reconnects with `Last-Event-ID` continues exactly after the last event it got.
/// A client that does not read is disconnected with a reason once `bufferBytesMax` is waiting.
public final class EventStreams: @unchecked Sendable {
    public struct Settings: Sendable {
        /// A comment line is written this often, so proxies keep the connection and a gone client is noticed.
        public var heartbeat: Duration = .seconds(15)
        public var perTenantMax = 100
        public var totalMax = 10_000
        /// Unsent bytes a stream may have waiting before its client counts as too slow.
        public var bufferBytesMax = 256 * 1024
        /// Events read per query.
        public var batch = 256
        public init() {}
    }

    final class Stream: @unchecked Sendable {
        let id: UInt64
        let tenant: String
        let chain: String
        let schema: String
        let filter: EventFilter
        let writer: any HTTPStreamWriter
        // Guarded by the hub's lock.
        var cursor: Int64
        var pumping = false
        var again = false

        init(id: UInt64, tenant: String, chain: String, schema: String, filter: EventFilter, cursor: Int64, writer: any HTTPStreamWriter) {
            self.id = id
            self.tenant = tenant
            self.chain = chain
            self.schema = schema
            self.filter = filter
            self.cursor = cursor
            self.writer = writer
        }
    }

    struct State {
        var streams: [UInt64: Stream] = [:]
        var nextID: UInt64 = 0
    }

    let settings: Settings
    private let pool: PostgresPool
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "hanse.events.streams", attributes: .concurrent)
    private let timer: any DispatchSourceTimer
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public init(pool: PostgresPool, settings: Settings = Settings()) {
        self.pool = pool
        self.settings = settings
        timer = DispatchSource.makeTimerSource(queue: queue)
        let interval = DispatchTimeInterval.milliseconds(Int(settings.heartbeat.wholeMilliseconds))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.heartbeat() }
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Open streams.
    public var count: Int { state.withLock { $0.streams.count } }

    /// Refuses a new stream when the tenant or the node has as many as allowed.
    func checkCapacity(tenant: String) throws {
        let (total, mine) = state.withLock { state in (state.streams.count, state.streams.values.count { $0.tenant == tenant }) }
        guard total < settings.totalMax, mine < settings.perTenantMax else {
            throw APIError.tooManyRequests(retryAfterSeconds: 5)
        }
    }

    /// Starts streaming to `writer` the events after `cursor`.
    func attach(tenant: String, chain: String, schema: String, filter: EventFilter, cursor: Int64, writer: any HTTPStreamWriter) {
        let stream: Stream? = state.withLock { state in
            guard state.streams.count < settings.totalMax, state.streams.values.count(where: { $0.tenant == tenant }) < settings.perTenantMax else {
                return nil
            }
            state.nextID += 1
            let stream = Stream(id: state.nextID, tenant: tenant, chain: chain, schema: schema, filter: filter, cursor: cursor, writer: writer)
            state.streams[stream.id] = stream
            return stream
        }
        guard let stream else {
            writer.finish(with: Self.notice("too-many-streams", "the tenant or the node has as many open streams as allowed; retry later"))
            return
        }
        guard writer.write(Array("retry: 3000\n: events of chain \(chain) after seq \(cursor)\n\n".utf8)) else {
            remove(stream.id)
            return
        }
        schedule(stream)
    }

    /// A block of `chain` was committed: its streams read on.
    public func committed(chain: String) {
        let streams = state.withLock { state in state.streams.values.filter { $0.chain == chain } }
        for stream in streams { schedule(stream) }
    }

    /// Ends every stream (the node stops).
    public func closeAll() {
        timer.cancel()
        let all = state.withLock { state in
            defer { state.streams = [:] }
            return Array(state.streams.values)
        }
        for stream in all { stream.writer.finish(with: Self.notice("shutting-down", "the node is stopping; reconnect with Last-Event-ID")) }
    }

    // MARK: - Pumping

    private func schedule(_ stream: Stream) {
        let start: Bool = state.withLock { _ in
            if stream.pumping {
                stream.again = true
                return false
            }
            stream.pumping = true
            return true
        }
        if start { queue.async { self.pump(stream) } }
    }

    private func pump(_ stream: Stream) {
        while true {
            guard state.withLock({ $0.streams[stream.id] != nil }) else { return }
            if stream.writer.unsentBytes > settings.bufferBytesMax {
                close(stream, Self.notice("slow-consumer", "more than \(settings.bufferBytesMax) bytes of events were waiting for this client; reconnect with Last-Event-ID"))
                return
            }
            let cursor = state.withLock { _ in stream.cursor }
            let events: [EventView]
            do {
                events = try read(stream, after: cursor)
            } catch {
                close(stream, Self.notice("unavailable", "events could not be read; reconnect with Last-Event-ID"))
                return
            }
            if !events.isEmpty {
                var frames: [UInt8] = []
                for event in events {
                    frames += Array("id: \(event.seq ?? 0)\nevent: \(event.kind)\ndata: ".utf8)
                    frames += (try? encoder.encode(event)).map { [UInt8]($0) } ?? []
                    frames += [10, 10]
                }
                guard stream.writer.write(frames) else {
                    close(stream, Self.notice("slow-consumer", "the client is not reading; reconnect with Last-Event-ID"))
                    return
                }
            }
            let more = state.withLock { _ in
                if let last = events.last?.seq { stream.cursor = last }
                if events.count == settings.batch || stream.again {
                    stream.again = false
                    return true
                }
                stream.pumping = false
                return false
            }
            guard more else { return }
        }
    }

    private func read(_ stream: Stream, after cursor: Int64) throws -> [EventView] {
        try pool.withConnection { connection in
            try connection.query(sql: """
                SELECT seq, height, tx_index, event_index, contract, topic, data FROM \(stream.schema).events
                WHERE seq > $1 AND ($2::text IS NULL OR contract = $2) AND ($3::text IS NULL OR topic = $3) AND ($4::text IS NULL OR kind = $4)
                ORDER BY seq LIMIT $5
                """, name: "chain.events.stream.\(stream.schema)",
                [.int(cursor), stream.filter.contract.map { .text($0) } ?? .null, stream.filter.topic.map { .text($0) } ?? .null,
                 stream.filter.kind.map { .text($0) } ?? .null, .int(settings.batch)]).rows.map { row in
                EventView(chain: stream.chain, seq: try row.decode(column: 0), height: UInt64(try row.decode(Int64.self, column: 1)),
                          txIndex: try row.decode(column: 2), eventIndex: try row.decode(column: 3), contract: try row.decode(column: 4),
                          topic: try row.decode(column: 5), bytes: try row.decode(column: 6))
            }
        }
    }

    private func heartbeat() {
        let all = state.withLock { Array($0.streams.values) }
        for stream in all {
            if stream.writer.unsentBytes > settings.bufferBytesMax {
                close(stream, Self.notice("slow-consumer", "more than \(settings.bufferBytesMax) bytes of events were waiting for this client; reconnect with Last-Event-ID"))
            } else if !stream.writer.write(Array(": keep-alive\n\n".utf8)) {
                remove(stream.id)
            }
        }
    }

    private func close(_ stream: Stream, _ notice: [UInt8]) {
        remove(stream.id)
        stream.writer.finish(with: notice)
    }

    private func remove(_ id: UInt64) {
        _ = state.withLock { $0.streams.removeValue(forKey: id) }
    }

    /// The last frame of a stream the server ends: an `error` event with a problem document.
    static func notice(_ type: String, _ detail: String) -> [UInt8] {
        Array("event: error\ndata: {\"type\":\"urn:hanse:problem:\(type)\",\"detail\":\"\(detail)\"}\n\n".utf8)
    }
}
