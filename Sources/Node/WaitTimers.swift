internal import Dispatch
internal import Synchronization

/// The ends of waits (`?wait=commit`), served by one Dispatch timer. Waits that end in the same
/// 5 ms slot share a wake-up, and starting one costs a lock and an append rather than a Dispatch
/// timer of its own (a batch of 1,000 transactions that waits starts 1,000). A wait never ends
/// early; it may end up to one slot late. With nothing scheduled the timer sleeps.
final class WaitTimers: @unchecked Sendable {
    private struct State {
        var slots: [UInt64: [@Sendable () -> Void]] = [:]
        /// The slots in `slots`, earliest first.
        var order: [UInt64] = []
    }

    private static let slotNanoseconds: UInt64 = 5_000_000
    private let state = Mutex(State())
    private let timer: any DispatchSourceTimer

    init() {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "hanse.wait-timers"))
        timer.setEventHandler { [weak self] in self?.fire() }
        timer.schedule(deadline: .distantFuture)
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Runs `action` on a global queue once `delay` has passed.
    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) {
        let nanoseconds = UInt64(max(0, delay.components.seconds)) * 1_000_000_000 + UInt64(max(0, delay.components.attoseconds) / 1_000_000_000)
        let due = DispatchTime.now().uptimeNanoseconds + nanoseconds
        let slot = (due + Self.slotNanoseconds - 1) / Self.slotNanoseconds
        state.withLock { state in
            if state.slots[slot] != nil {
                state.slots[slot]!.append(action)
                return
            }
            state.slots[slot] = [action]
            // Almost always the latest slot: waits mostly share one timeout.
            var position = state.order.count
            while position > 0, state.order[position - 1] > slot { position -= 1 }
            state.order.insert(slot, at: position)
            // The timer is (re)armed under the lock, so concurrent calls cannot leave it late.
            if position == 0 { arm(slot) }
        }
    }

    /// Waits scheduled and not yet ended.
    var count: Int { state.withLock { $0.slots.values.reduce(0) { $0 + $1.count } } }

    private func arm(_ slot: UInt64) {
        timer.schedule(deadline: DispatchTime(uptimeNanoseconds: slot * Self.slotNanoseconds), leeway: .milliseconds(1))
    }

    private func fire() {
        let now = DispatchTime.now().uptimeNanoseconds / Self.slotNanoseconds
        let due: [[@Sendable () -> Void]] = state.withLock { state in
            var ended = 0
            while ended < state.order.count, state.order[ended] <= now { ended += 1 }
            let due = state.order.prefix(ended).map { state.slots.removeValue(forKey: $0)! }
            state.order.removeFirst(ended)
            if let next = state.order.first { arm(next) } else { timer.schedule(deadline: .distantFuture) }
            return due
        }
        for actions in due {
            DispatchQueue.global().async { for action in actions { action() } }
        }
    }
}
