// Per-call timeouts with one timer task per drive instead of a two-task race per call. A call
// registers its deadline (fixed when the attempt starts, on the injected clock) and its task; the
// timer sleeps until the earliest deadline, cancels the calls whose deadline has come and marks
// them expired, so the call reports a timeout rather than a cancellation. A new deadline earlier
// than the one the timer sleeps until re-arms it.

import Synchronization

/// Deadlines of the calls in flight, watched by ``watch(clock:)``.
final class CallDeadlines: Sendable {
    /// `UnsafeCurrentTask` may only be used while its task runs. A call's handle is stored between
    /// its own `register` and `finish`, and the timer's between the start and end of its sleep;
    /// handles are only used under the lock while stored, so their task is alive when cancelled.
    private struct TaskHandle: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private struct Entry {
        var deadline: Duration
        var task: TaskHandle
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        /// Calls waiting in a provider's queue: no deadline runs until they are admitted.
        var paused: [Int: TaskHandle] = [:]
        var expired: Set<Int> = []
        var nextID = 0
        /// The deadline the timer sleeps until, and its sleeping task.
        var armed: (deadline: Duration, sleeper: TaskHandle)?
        /// The timer waiting for a first deadline.
        var idle: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    private let state = Mutex(State())

    /// Registers the current task's call until `deadline` (time since the clock was opened).
    /// Returns the id to pass to ``finish(_:)``.
    func register(deadline: Duration) -> Int {
        withUnsafeCurrentTask { task -> Int in
            let (id, wake) = state.withLock { state -> (Int, CheckedContinuation<Void, Never>?) in
                state.nextID += 1
                guard let task else { return (state.nextID, nil) }
                let id = state.nextID
                return (id, Self.arm(&state, id: id, deadline: deadline, task: TaskHandle(task: task)))
            }
            wake?.resume()
            return id
        }
    }

    /// Stops call `id`'s clock while it waits in a provider's queue (see ``CallQueue``).
    func pause(_ id: Int) {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return }
            state.paused[id] = entry.task
        }
    }

    /// Starts call `id`'s clock again, with a new `deadline`, once the provider admitted it.
    func restart(_ id: Int, deadline: Duration) {
        let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let task = state.paused.removeValue(forKey: id) else { return nil }
            return Self.arm(&state, id: id, deadline: deadline, task: task)
        }
        wake?.resume()
    }

    /// Watches `id` until `deadline`: re-arms the timer when it sleeps until later, and returns the
    /// idle timer to wake.
    private static func arm(
        _ state: inout State, id: Int, deadline: Duration, task: TaskHandle
    ) -> CheckedContinuation<Void, Never>? {
        state.entries[id] = Entry(deadline: deadline, task: task)
        if let armed = state.armed, deadline < armed.deadline {
            armed.sleeper.task.cancel()
            state.armed = nil
        }
        defer { state.idle = nil }
        return state.idle
    }

    /// Ends the watch of call `id`; `true` when its deadline passed first (the call timed out).
    func finish(_ id: Int) -> Bool {
        state.withLock { state in
            state.entries[id] = nil
            state.paused[id] = nil
            return state.expired.remove(id) != nil
        }
    }

    /// Cancels calls as their deadlines pass, until the current task is cancelled.
    func watch(clock: EngineClock) async {
        while !Task.isCancelled {
            guard let next = state.withLock({ $0.entries.values.lazy.map(\.deadline).min() }) else {
                await waitForFirstDeadline()
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.sleep(until: next, clock: clock) }
            }
            let now = clock.elapsed()
            state.withLock { state in
                for (id, entry) in state.entries where entry.deadline <= now {
                    state.expired.insert(id)
                    state.entries[id] = nil
                    entry.task.task.cancel()
                }
            }
        }
    }

    private func sleep(until deadline: Duration, clock: EngineClock) async {
        let armed = withUnsafeCurrentTask { task -> Bool in
            state.withLock { state in
                // A call registered an earlier deadline since the timer looked: look again.
                guard let task, state.entries.values.allSatisfy({ $0.deadline >= deadline }) else { return false }
                state.armed = (deadline, TaskHandle(task: task))
                return true
            }
        }
        guard armed else { return }
        try? await clock.sleepUntil(deadline)
        state.withLock { $0.armed = nil }
    }

    private func waitForFirstDeadline() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wakeNow = state.withLock { state -> Bool in
                    if state.stopped || !state.entries.isEmpty { return true }
                    state.idle = continuation
                    return false
                }
                if wakeNow { continuation.resume() }
            }
        } onCancel: {
            let idle = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.stopped = true
                defer { state.idle = nil }
                return state.idle
            }
            idle?.resume()
        }
    }
}
