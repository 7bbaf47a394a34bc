internal import Synchronization
internal import Dispatch

/// Answers "is this id in the set?" for many concurrent callers with few queries: callers that
/// arrive while a query runs wait and are answered together by the next one (group lookup, in the
/// way group commit batches log writes). One caller alone gets its own query at once, so nothing
/// waits for a timer; under load, one query serves every submission that arrived meanwhile.
/// Used for the committed-id check of every submission.
final class BatchedLookup: Sendable {
    private final class Waiter: @unchecked Sendable {
        // Written before `done` is signalled and read after: the semaphore orders them.
        let id: [UInt8]
        let done = DispatchSemaphore(value: 0)
        var result: Result<Bool, any Error> = .success(false)
        var lead = false
        init(id: [UInt8]) { self.id = id }
    }

    private struct State: ~Copyable {
        var pending: [Waiter] = []
        var running = false
    }

    private let state = Mutex(State())
    private let batchMax: Int
    private let query: @Sendable ([[UInt8]]) throws -> Set<[UInt8]>
    /// Queries run, for tests and metrics.
    private let queries = Atomic<Int>(0)

    /// `query` returns which of the given ids are in the set.
    init(batchMax: Int = 512, query: @escaping @Sendable ([[UInt8]]) throws -> Set<[UInt8]>) {
        self.batchMax = max(1, batchMax)
        self.query = query
    }

    var queryCount: Int { queries.load(ordering: .relaxed) }

    func contains(_ id: [UInt8]) throws -> Bool {
        let me = Waiter(id: id)
        let leads = state.withLock { state in
            state.pending.append(me)
            if state.running { return false }
            state.running = true
            return true
        }
        if !leads {
            me.done.wait()
            guard me.lead else { return try me.result.get() }
        }
        // The leader runs one batch, answers it, and hands the lead to a caller still waiting.
        let batch = state.withLock { state in
            let batch = Array(state.pending.prefix(batchMax))
            state.pending.removeFirst(batch.count)
            return batch
        }
        queries.add(1, ordering: .relaxed)
        let outcome = Result { try query(batch.map(\.id)) }
        // The first caller still waiting leads the next batch (which starts with itself);
        // `running` stays true until a leader finds nobody waiting.
        let next = state.withLock { state -> Waiter? in
            if state.pending.isEmpty { state.running = false }
            return state.pending.first
        }
        if let next {
            next.lead = true
            next.done.signal()
        }
        for waiter in batch {
            waiter.result = outcome.map { $0.contains(waiter.id) }
            if waiter !== me { waiter.done.signal() }
        }
        return try me.result.get()
    }
}
