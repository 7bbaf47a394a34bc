internal import Glibc
internal import Synchronization

/// A fixed set of threads for handlers that block (database, disk), with a bounded queue.
///
/// Dispatch's global queues on Linux run about one thread per core and do not add threads when
/// those block, so a few slow database calls would stall every other blocking handler. This
/// pool keeps `threads` threads and refuses work when `queueMax` tasks are already waiting.
public final class WorkerPool: Sendable {
    private struct State {
        var tasks: [@Sendable () -> Void] = []
        var head = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let condition = Condition()
    private let queueMax: Int

    /// Starts `threads` threads.
    public init(threads: Int, queueMax: Int) {
        precondition(threads >= 1 && queueMax >= 1)
        self.queueMax = queueMax
        for _ in 0..<threads {
            let box = Unmanaged.passRetained(self)
            var handle = pthread_t()
            let status = pthread_create(&handle, nil, { argument in
                let pool = Unmanaged<WorkerPool>.fromOpaque(argument!).takeRetainedValue()
                pool.work()
                return nil
            }, box.toOpaque())
            precondition(status == 0, "pthread_create failed: \(status)")
            pthread_detach(handle)
        }
    }

    /// Queues `task`; false if the queue is full or the pool stopped (answer 503).
    @discardableResult
    public func submit(_ task: @escaping @Sendable () -> Void) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped, state.tasks.count - state.head < queueMax else { return false }
            state.tasks.append(task)
            return true
        }
        if accepted { condition.signal() }
        return accepted
    }

    /// Tasks waiting for a thread.
    public var queued: Int { state.withLock { $0.tasks.count - $0.head } }

    /// Lets the threads finish queued tasks and exit.
    public func stop() {
        state.withLock { $0.stopped = true }
        condition.broadcast()
    }

    private func work() {
        while true {
            var next: (@Sendable () -> Void)?
            var finished = false
            condition.wait(until: {
                state.withLock { state in
                    if state.head < state.tasks.count {
                        next = state.tasks[state.head]
                        state.head += 1
                        if state.head > 1024 && state.head * 2 > state.tasks.count {
                            state.tasks.removeFirst(state.head)
                            state.head = 0
                        }
                        return true
                    }
                    finished = state.stopped
                    return finished
                }
            })
            if let next { next() } else if finished { return }
        }
    }
}

/// A condition variable over pthreads, for `WorkerPool`.
final class Condition: @unchecked Sendable {
    // The mutex and condition are only used through pthread calls, which are thread-safe.
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    /// Blocks until `ready()` returns true; `ready` runs with the mutex held.
    func wait(until ready: () -> Bool) {
        pthread_mutex_lock(&mutex)
        while !ready() { pthread_cond_wait(&cond, &mutex) }
        pthread_mutex_unlock(&mutex)
    }

    func signal() {
        pthread_mutex_lock(&mutex)
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    func broadcast() {
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
    }
}
