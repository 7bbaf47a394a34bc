internal import Glibc
internal import CSystem
internal import HTTP1
internal import HanseCore
internal import Synchronization
internal import Dispatch

/// One thread running epoll over its own listening socket (SO_REUSEPORT spreads accepted
/// connections across loops) and the connections it accepted. Other threads talk to it only
/// through `execute`, which queues a closure and wakes the loop through an eventfd.
final class EventLoop: @unchecked Sendable {
    // Everything except `tasks` is touched only on the loop's own thread.
    let epoll: Int32
    private let wakeFD: Int32
    private var listenFD: Int32 = -1
    private let tasks = Mutex<[@Sendable () -> Void]>([])
    private var connections: [Int32: Connection] = [:]
    private let server: ServerShared
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var running = true
    private var dateCache: (second: Int64, text: String) = (0, "")
    private var thread: pthread_t?
    let finished = DispatchSemaphore(value: 0)

    init(server: ServerShared) throws {
        self.server = server
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw SocketCalls.Failure(call: "epoll_create1", code: errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw SocketCalls.Failure(call: "eventfd", code: errno) }
        register(wakeFD, events: EPOLLIN.rawValue)
    }

    /// Starts the loop's thread with its own listening socket.
    func start(listening fd: Int32) {
        listenFD = fd
        // Every loop watches the one listening socket; EPOLLEXCLUSIVE wakes one waiting loop per
        // connection, so an idle loop takes new connections before a busy one does.
        register(fd, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
        let box = Unmanaged.passRetained(self)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        var handle = pthread_t()
        let status = pthread_create(&handle, &attributes, { argument in
            let loop = Unmanaged<EventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, box.toOpaque())
        precondition(status == 0, "pthread_create failed: \(status)")
        thread = handle
    }

    /// Whether the caller runs on this loop's thread.
    var inLoopThread: Bool {
        guard let thread else { return false }
        return pthread_equal(pthread_self(), thread) != 0
    }

    /// Runs `task` now if called on the loop's thread, else queues it there.
    func run(_ task: @escaping @Sendable () -> Void) {
        if inLoopThread { task() } else { execute(task) }
    }

    /// Runs `task` on the loop's thread.
    func execute(_ task: @escaping @Sendable () -> Void) {
        tasks.withLock { $0.append(task) }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    // MARK: - Loop

    private func run() {
        var readyFDs = [Int32](repeating: 0, count: 256)
        var readyEvents = [UInt32](repeating: 0, count: 256)
        var lastTick = server.clock.now
        while running {
            let count = hanse_epoll_wait(epoll, &readyFDs, &readyEvents, 256, 250)
            if count < 0 && errno != EINTR { break }
            for index in 0..<max(0, Int(count)) {
                let fd = readyFDs[index]
                let flags = readyEvents[index]
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                } else if fd == listenFD {
                    acceptAll()
                } else if let connection = connections[fd] {
                    if connection.lingerUntil != nil {
                        discardInput(connection)
                        continue
                    }
                    if flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 { readable(connection) }
                    if flags & EPOLLOUT.rawValue != 0, connection.fd >= 0 { flush(connection) }
                    // Both directions are gone (or the socket failed): nothing can be answered, and
                    // epoll would keep reporting it, so close now.
                    if flags & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0, connection.fd >= 0 { closeConnection(connection) }
                }
            }
            runTasks()
            let now = server.clock.now
            resumeAcceptingIfDue(now: now)
            if now - lastTick >= .milliseconds(200) {
                lastTick = now
                for connection in Array(connections.values) {
                    if let until = connection.lingerUntil {
                        if now >= until { closeConnection(connection) }
                    } else {
                        perform(connection.machine.tick(now: now), on: connection)
                    }
                }
            }
        }
        for connection in Array(connections.values) { closeConnection(connection) }
        close(epoll)
        close(wakeFD)
        finished.signal()
    }

    private func runTasks() {
        let pending = tasks.withLock { tasks -> [@Sendable () -> Void] in
            defer { tasks.removeAll(keepingCapacity: true) }
            return tasks
        }
        for task in pending { task() }
    }

    // MARK: - Accept

    private func acceptAll() {
        // A few per wake-up, so that connections arriving together spread over the loops.
        for _ in 0..<8 {
            let fd = hanse_accept_nonblocking(listenFD)
            if fd < 0 {
                // Out of descriptors: the listening socket stays readable, so stop watching it for
                // a moment instead of spinning; the tick resumes accepting.
                if errno == EMFILE || errno == ENFILE { pauseAccepting() }
                return
            }
            guard server.reserveConnectionSlot() else {
                refuseOverload(fd)
                continue
            }
            SocketCalls.setNoDelay(fd)
            let now = server.clock.now
            let handler = server.handler
            let machine = ConnectionStateMachine(
                limits: server.limits, now: now,
                bodyLimit: { handler.bodyLimit(for: $0) },
                errorResponse: { handler.errorResponse(status: $0, detail: $1) })
            let connection = Connection(fd: fd, machine: machine, remoteAddress: SocketCalls.peerAddress(fd), loop: self)
            connections[fd] = connection
            register(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
            if server.isShuttingDown { perform(connection.machine.shutdown(now: now), on: connection) }
        }
    }

    /// Over the connection cap: a best-effort 503 and close, without reading the request.
    private func refuseOverload(_ fd: Int32) {
        var response = server.handler.errorResponse(status: 503, detail: "too many connections; retry later")
        response.headers.set("Retry-After", "1")
        let output = ConnectionStateMachine.encodeFinal(response)
        server.refusedConnections.add(1, ordering: .relaxed)
        _ = send(fd, output, output.count, Int32(MSG_NOSIGNAL))
        shutdown(fd, Int32(SHUT_WR))
        close(fd)
    }

    // MARK: - IO

    private func readable(_ connection: Connection) {
        while connection.fd >= 0 && connection.machine.wantsToRead {
            let count = readBuffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                perform(connection.machine.bytesReceived(readBuffer[0..<count], now: server.clock.now), on: connection)
                if count < readBuffer.count { return }
            } else if count == 0 {
                perform(connection.machine.readEOF(now: server.clock.now), on: connection)
                updateInterest(connection)
                return
            } else {
                if errno == EAGAIN || errno == EINTR { return }
                closeConnection(connection)
                return
            }
        }
        updateInterest(connection)
    }

    /// Carries out the state machine's actions.
    func perform(_ actions: [ConnectionStateMachine.Action], on connection: Connection) {
        for action in actions {
            guard connection.fd >= 0, connection.lingerUntil == nil else { return }
            switch action {
            case .write(let bytes):
                connection.output.append(contentsOf: bytes)
                flush(connection)
            case .deliver(let head, let body):
                let request = HTTPRequest(head: head, body: body, remoteAddress: connection.remoteAddress)
                server.requestsServed.add(1, ordering: .relaxed)
                server.handler.handle(request, responder: ConnectionResponder(connection: connection, loop: self))
            case .close:
                connection.closeWhenFlushed = true
                flush(connection)
            case .abort:
                closeConnection(connection)
            }
        }
        if connection.fd >= 0 { updateInterest(connection) }
    }

    private func flush(_ connection: Connection) {
        while connection.outputOffset < connection.output.count {
            let sent = connection.output.withUnsafeBytes { buffer in
                send(connection.fd, buffer.baseAddress! + connection.outputOffset, buffer.count - connection.outputOffset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                connection.outputOffset += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EINTR) {
                connection.unsent.store(connection.output.count - connection.outputOffset, ordering: .relaxed)
                connection.machine.outputBlocked(now: server.clock.now)
                updateInterest(connection)
                return
            } else {
                closeConnection(connection)
                return
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
        connection.outputOffset = 0
        connection.unsent.store(0, ordering: .relaxed)
        connection.machine.outputDrained()
        if connection.closeWhenFlushed { lingeringClose(connection) }
    }

    /// Closes after a complete response: FIN first, then input is read and dropped until the peer
    /// closes too (or `lingerTime` passes, or `lingerBytesMax` arrive). Closing a socket with
    /// unread input makes the kernel send a reset, which can destroy the response on its way to
    /// a client that was still sending (a refused upload, a slow client cut off at a timeout).
    private func lingeringClose(_ connection: Connection) {
        guard connection.fd >= 0, connection.lingerUntil == nil else { return }
        shutdown(connection.fd, Int32(SHUT_WR))
        connection.lingerUntil = server.clock.now + Self.lingerTime
        connection.lingerBytes = 0
        discardInput(connection)
    }

    static let lingerTime: Duration = .seconds(2)
    static let lingerBytesMax = 1 << 20

    private func discardInput(_ connection: Connection) {
        while connection.fd >= 0 {
            let count = readBuffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                connection.lingerBytes += count
                if connection.lingerBytes > Self.lingerBytesMax { return closeConnection(connection) }
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                if connection.interest != EPOLLIN.rawValue | EPOLLRDHUP.rawValue {
                    connection.interest = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
                    hanse_epoll_ctl(epoll, EPOLL_CTL_MOD, connection.fd, connection.interest)
                }
                return
            } else {
                return closeConnection(connection)  // the peer closed (0) or the socket failed
            }
        }
    }

    private func updateInterest(_ connection: Connection) {
        guard connection.fd >= 0, connection.lingerUntil == nil else { return }
        // Read interest (and the peer's half-close, which stays reported once it happened) only
        // while the machine wants input; otherwise epoll would wake the loop for nothing.
        var events: UInt32 = 0
        if connection.machine.wantsToRead { events |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if connection.outputOffset < connection.output.count { events |= EPOLLOUT.rawValue }
        guard events != connection.interest else { return }
        connection.interest = events
        hanse_epoll_ctl(epoll, EPOLL_CTL_MOD, connection.fd, events)
    }

    func closeConnection(_ connection: Connection) {
        guard connection.fd >= 0 else { return }
        hanse_epoll_ctl(epoll, EPOLL_CTL_DEL, connection.fd, 0)
        connections[connection.fd] = nil
        close(connection.fd)
        connection.fd = -1
        server.releaseConnectionSlot()
    }

    private func register(_ fd: Int32, events: UInt32) {
        hanse_epoll_ctl(epoll, EPOLL_CTL_ADD, fd, events)
    }

    // MARK: - Called through execute

    /// The current `Date` header value, computed once a second.
    func date() -> String {
        let seconds = server.clock.wallMilliseconds / 1000
        if seconds != dateCache.second { dateCache = (seconds, httpDate(unixSeconds: seconds)) }
        return dateCache.text
    }

    /// When accepting resumes after running out of descriptors.
    private var acceptPausedUntil: Duration?

    private func pauseAccepting() {
        guard listenFD >= 0, acceptPausedUntil == nil else { return }
        hanse_epoll_ctl(epoll, EPOLL_CTL_DEL, listenFD, 0)
        acceptPausedUntil = server.clock.now + .milliseconds(100)
    }

    private func resumeAcceptingIfDue(now: Duration) {
        guard let until = acceptPausedUntil, now >= until else { return }
        acceptPausedUntil = nil
        if listenFD >= 0 { register(listenFD, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue) }
    }

    /// Stops watching the shared listening socket (the server closes it once every loop stopped).
    func stopListening() {
        guard listenFD >= 0 else { return }
        if acceptPausedUntil == nil { hanse_epoll_ctl(epoll, EPOLL_CTL_DEL, listenFD, 0) }
        acceptPausedUntil = nil
        listenFD = -1
    }

    func beginShutdown() {
        stopListening()
        let now = server.clock.now
        for connection in Array(connections.values) where connection.lingerUntil == nil {
            perform(connection.machine.shutdown(now: now), on: connection)
        }
    }

    var connectionCount: Int { connections.count }

    var serverClock: any HanseClock { server.clock }
    var pendingWriteLimit: Int { server.limits.httpPendingWriteBytesMax }

    func stop() { running = false }
}

/// One accepted connection: its socket, state machine and unsent output. Loop thread only.
final class Connection: @unchecked Sendable {
    var fd: Int32
    var machine: ConnectionStateMachine
    let remoteAddress: String
    var output: [UInt8] = []
    var outputOffset = 0
    /// Output the socket has not taken yet, as of the last write; read by stream producers on other threads.
    let unsent = Atomic<Int>(0)
    var closeWhenFlushed = false
    /// Set once the response is out and the connection only drains input before closing.
    var lingerUntil: Duration?
    var lingerBytes = 0
    var interest: UInt32 = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
    unowned let loop: EventLoop

    init(fd: Int32, machine: ConnectionStateMachine, remoteAddress: String, loop: EventLoop) {
        self.fd = fd
        self.machine = machine
        self.remoteAddress = remoteAddress
        self.loop = loop
    }
}
