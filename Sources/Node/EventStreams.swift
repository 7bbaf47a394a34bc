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
        /// Unsent bytes a stream may have waiting: past it, the stream reads no more events until
        /// the client catches up, and a client that stays behind for `slowConsumerGrace` is dropped.
        public var bufferBytesMax = 256 * 1024
        public var slowConsumerGrace: Duration = .seconds(10)
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
        /// Since when the client has had more than the buffer waiting.
        var behindSince: ContinuousClock.Instant?

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
    /// Pumps run on a few serial queues (by stream id), so streams never hold more than that many
    /// database connections between them, whatever their number.
    private let queues = (0..<4).map { DispatchQueue(label: "hanse.events.streams.\($0)") }
    private let timerQueue = DispatchQueue(label: "hanse.events.heartbeat")
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
        timer = DispatchSource.makeTimerSource(queue: timerQueue)
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
        if start { queues[Int(stream.id % UInt64(queues.count))].async { self.pump(stream) } }
    }

    private func pump(_ stream: Stream) {
        while true {
            guard state.withLock({ $0.streams[stream.id] != nil }) else { return }
            switch behind(stream) {
            case .keepUp: break
            case .wait:
                // Still `pumping`: look again shortly, without holding the queue.
                queues[Int(stream.id % UInt64(queues.count))].asyncAfter(deadline: .now() + .milliseconds(20)) { self.pump(stream) }
                return
            case .drop:
                close(stream, Self.slowConsumer(settings))
                return
            }
            let cursor = state.withLock { _ in stream.cursor }
            let read: (events: [EventView], top: Int64?)
            do {
                read = try self.read(stream, after: cursor)
            } catch {
                close(stream, Self.notice("unavailable", "events could not be read; reconnect with Last-Event-ID"))
                return
            }
            // Frames up to the buffer's size (at least one event); the cursor moves past what was written.
            var frames: [UInt8] = []
            var written = 0
            for event in read.events {
                if written > 0 && frames.count >= settings.bufferBytesMax { break }
                frames += Array("id: \(event.seq ?? 0)\nevent: \(event.kind)\ndata: ".utf8)
                frames += (try? encoder.encode(event)).map { [UInt8]($0) } ?? []
                frames += [10, 10]
                written += 1
            }
            if written > 0 && !stream.writer.write(frames) {
                close(stream, Self.slowConsumer(settings))
                return
            }
            let more = state.withLock { _ in
                if written > 0, let last = read.events[written - 1].seq { stream.cursor = last }
                // Caught up: nothing after `top` matches the filter, so later reads start there.
                if written == read.events.count, let top = read.top { stream.cursor = max(stream.cursor, top) }
                if written < read.events.count || read.events.count == settings.batch || stream.again {
                    stream.again = false
                    return true
                }
                stream.pumping = false
                return false
            }
            guard more else { return }
        }
    }

    /// The next events after `cursor` that match the stream's filter; when fewer than a batch,
    /// also the newest sequence number seen by the same snapshot.
    private func read(_ stream: Stream, after cursor: Int64) throws -> (events: [EventView], top: Int64?) {
        try pool.transaction(.repeatableRead) { connection in
            let events = try connection.query(sql: """
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
            guard events.count < settings.batch else { return (events, nil) }
            let top = try connection.query(sql: "SELECT coalesce(max(seq), -1) FROM \(stream.schema).events", name: "chain.events.top.\(stream.schema)")
                .first?.decode(Int64.self, column: 0)
            return (events, top)
        }
    }

    enum Pace { case keepUp, wait, drop }

    /// Whether the client reads fast enough: under the buffer, behind (wait for it), or behind
    /// for longer than the grace period (drop it).
    private func behind(_ stream: Stream) -> Pace {
        let over = stream.writer.unsentBytes > settings.bufferBytesMax
        let now = ContinuousClock.now
        return state.withLock { _ in
            guard over else {
                stream.behindSince = nil
                return .keepUp
            }
            let since = stream.behindSince ?? now
            stream.behindSince = since
            return now - since >= settings.slowConsumerGrace ? .drop : .wait
        }
    }

    private func heartbeat() {
        let all = state.withLock { Array($0.streams.values) }
        for stream in all {
            switch behind(stream) {
            case .drop: close(stream, Self.slowConsumer(settings))
            case .wait: continue
            case .keepUp: if !stream.writer.write(Array(": keep-alive\n\n".utf8)) { remove(stream.id) }
            }
        }
    }

    static func slowConsumer(_ settings: Settings) -> [UInt8] {
        notice("slow-consumer", "more than \(settings.bufferBytesMax) bytes of events waited for this client for \(settings.slowConsumerGrace); reconnect with Last-Event-ID")
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
