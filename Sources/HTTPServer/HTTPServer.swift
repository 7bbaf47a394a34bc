public import HanseCore
internal import Glibc
internal import Synchronization
internal import Dispatch
internal import HTTP1

/// State shared by the event loops of one server.
final class ServerShared: Sendable {
    let limits: Limits
    let handler: any HTTPHandler
    let clock: any HanseClock
    let openConnections = Atomic<Int>(0)
    let refusedConnections = Atomic<Int>(0)
    let requestsServed = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)

    init(limits: Limits, handler: any HTTPHandler, clock: any HanseClock) {
        self.limits = limits
        self.handler = handler
        self.clock = clock
    }

    func reserveConnectionSlot() -> Bool {
        let after = openConnections.add(1, ordering: .relaxed).newValue
        if after > limits.httpConnectionsMax {
            openConnections.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseConnectionSlot() { openConnections.subtract(1, ordering: .relaxed) }

    var isShuttingDown: Bool { shuttingDown.load(ordering: .acquiring) }
    func markShuttingDown() { shuttingDown.store(true, ordering: .releasing) }
}

/// The system clock: monotonic time from `CLOCK_MONOTONIC`, wall time from `CLOCK_REALTIME`.
public struct SystemClock: HanseClock {
    public init() {}

    public var now: Duration {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    public var wallMilliseconds: Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec / 1_000_000)
    }
}

/// The HTTP/1.1 server: several epoll event loops on their own threads sharing one listening
/// socket (EPOLLEXCLUSIVE) and a connection cap.
public final class HTTPServer: Sendable {
    /// Counters for metrics and tests.
    public struct Statistics: Sendable {
        public var openConnections: Int
        public var refusedConnections: Int
        public var requestsServed: Int
    }

    private let shared: ServerShared
    private let loops: [EventLoop]
    private let listening: Int32
    /// The port the server listens on (useful with port 0).
    public let port: Int

    /// Event loops when none are configured: half the cores, at least one. The loops only move
    /// bytes; the same cores also run the worker threads (database handlers), consensus, contract
    /// execution and often PostgreSQL, and on a 2-core machine a second loop measured twice the
    /// p99 latency for 25% more throughput (docs/benchmarks.md).
    public static var defaultLoopCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) / 2) }

    /// Binds `address:port` and starts `loopCount` event loops (default: `defaultLoopCount`).
    public init(address: String, port: Int, handler: any HTTPHandler, limits: Limits = Limits(),
                clock: any HanseClock = SystemClock(), loopCount: Int? = nil) throws {
        signal(SIGPIPE, SIG_IGN)
        shared = ServerShared(limits: limits, handler: handler, clock: clock)
        let count = max(1, loopCount ?? Self.defaultLoopCount)
        var loops: [EventLoop] = []
        let listening = try SocketCalls.listen(address: address, port: port)
        do {
            for _ in 0..<count { loops.append(try EventLoop(server: shared)) }
        } catch {
            close(listening)
            throw error
        }
        self.port = SocketCalls.localPort(listening)
        self.listening = listening
        self.loops = loops
        for loop in loops { loop.start(listening: listening) }
    }

    /// Current counters.
    public var statistics: Statistics {
        Statistics(openConnections: shared.openConnections.load(ordering: .relaxed),
                   refusedConnections: shared.refusedConnections.load(ordering: .relaxed),
                   requestsServed: shared.requestsServed.load(ordering: .relaxed))
    }

    /// Stops accepting, lets every request already received complete (up to `grace`), closes
    /// idle connections, then stops the loops. Blocks until done.
    public func shutdown(grace: Duration? = nil) {
        let grace = grace ?? shared.limits.httpShutdownGrace
        shared.markShuttingDown()
        for loop in loops { loop.execute { loop.beginShutdown() } }
        // Once no loop watches it any more; closing it refuses new connections at the kernel.
        for loop in loops {
            let stopped = DispatchSemaphore(value: 0)
            loop.execute { stopped.signal() }
            stopped.wait()
        }
        close(listening)
        let deadline = shared.clock.now + grace
        while shared.clock.now < deadline && shared.openConnections.load(ordering: .relaxed) > 0 {
            usleep(10_000)
        }
        for loop in loops { loop.execute { loop.stop() } }
        for loop in loops { loop.finished.wait() }
    }
}

/// Delivers a handler's response to its connection on the connection's loop.
struct ConnectionResponder: HTTPResponder {
    let connection: Connection
    let loop: EventLoop

    func respond(_ response: HTTPResponse) {
        // Handlers that answer on the loop thread (the common, cheap case) skip the wake-up.
        loop.run { [connection, loop] in
            guard connection.fd >= 0 else { return }
            let now = loop.serverNow
            loop.perform(connection.machine.respond(response, date: loop.date(), now: now), on: connection)
            if case .stream(let producer) = response.body, connection.machine.isStreaming {
                let writer = StreamWriter(connection: connection, loop: loop)
                DispatchQueue.global().async { producer(writer) }
            }
        }
    }
}

/// Writes a streamed body from any thread, through the connection's loop.
final class StreamWriter: HTTPStreamWriter, @unchecked Sendable {
    // `connection` is only touched on the loop thread; `finished` and `queued` are atomics.
    private let connection: Connection
    private let loop: EventLoop
    private let finished = Atomic<Bool>(false)
    private let queued = Atomic<Int>(0)

    init(connection: Connection, loop: EventLoop) {
        self.connection = connection
        self.loop = loop
    }

    func write(_ bytes: [UInt8]) -> Bool {
        guard !finished.load(ordering: .relaxed) else { return false }
        let limit = loop.pendingWriteLimit
        guard queued.add(bytes.count, ordering: .relaxed).newValue <= limit else {
            queued.subtract(bytes.count, ordering: .relaxed)
            return false
        }
        loop.execute { [self] in
            queued.subtract(bytes.count, ordering: .relaxed)
            guard connection.fd >= 0 else { finished.store(true, ordering: .relaxed); return }
            guard connection.output.count - connection.outputOffset <= limit else {
                // The client is not reading: drop it rather than buffer without bound.
                finished.store(true, ordering: .relaxed)
                loop.closeConnection(connection)
                return
            }
            loop.perform(connection.machine.streamChunk(bytes), on: connection)
        }
        return true
    }

    var unsentBytes: Int { queued.load(ordering: .relaxed) + connection.unsent.load(ordering: .relaxed) }

    func finish() { finish(with: []) }

    func finish(with last: [UInt8]) {
        guard !finished.exchange(true, ordering: .relaxed) else { return }
        loop.execute { [connection, loop] in
            guard connection.fd >= 0 else { return }
            if !last.isEmpty { loop.perform(connection.machine.streamChunk(last), on: connection) }
            guard connection.fd >= 0 else { return }
            loop.perform(connection.machine.streamEnded(now: loop.serverNow), on: connection)
        }
    }
}

extension EventLoop {
    var serverNow: Duration { serverClock.now }
}
