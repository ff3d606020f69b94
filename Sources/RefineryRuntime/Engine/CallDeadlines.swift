// The one timeout mechanism of model calls: a table of the deadlines of the calls in flight, watched
// by one timer task. A call registers its deadline (fixed when the attempt starts) and its task; a
// streamed call may add an idle limit, pushed back each time a piece of the reply arrives. The timer
// sleeps until the earliest of them, cancels the calls whose deadline has come and marks why, so the
// call reports a timeout (or its provider's stall error) rather than a cancellation. A deadline
// earlier than the one the timer sleeps until re-arms it; a piece of a stream arriving never does
// (it only moves a deadline later), so a streamed call costs a lock and a clock read per piece.
//
// Under the engine one table and one timer serve a whole run; a provider called outside the engine
// makes its own for the call (``CallWatch/bounding(timeout:expired:_:)``). No call runs a timer task
// of its own: with thousands of calls in flight, each task's allocator slabs were most of a wide
// round's memory (Benchmarks/README.md, real path).

import Synchronization

/// Deadlines of the calls in flight, watched by ``watch()``.
final class CallDeadlines: Sendable {
    /// Why a call's watch ended before the call did.
    enum Expiry: Sendable {
        /// The call's deadline passed.
        case deadline
        /// Its idle limit passed without a piece of the reply; the error its provider gave for that.
        case idle(ProviderError)
    }

    /// A task can only be cancelled from outside through a handle, and the calls are children of one
    /// task group, which has none per child: `UnsafeCurrentTask` is the handle. It may only be used
    /// while its task runs. A call's handle is stored between its own `register` and `finish`, and
    /// the timer's between the start and end of its sleep; handles are only used under the lock while
    /// stored, so their task is alive when cancelled.
    private struct TaskHandle: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    /// A streamed call's idle limit and the error its provider gives when it passes.
    private final class IdleLimit: Sendable {
        let limit: Duration
        let error: ProviderError

        init(limit: Duration, error: ProviderError) {
            self.limit = limit
            self.error = error
        }
    }

    private struct Entry {
        var deadline: Duration
        var task: TaskHandle
        /// The longest silence allowed between two pieces of a streamed reply, once the stream started.
        /// Boxed: a `ProviderError` inline would make every entry (thousands in a wide round) several
        /// times larger, though most calls never start a stream.
        var idle: IdleLimit?
        /// When the last piece arrived (or the idle watch started).
        var lastActivity: Duration = .zero

        /// When the call fails if nothing more happens.
        var due: Duration {
            guard let idle else { return deadline }
            return min(deadline, lastActivity + idle.limit)
        }
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        /// Calls waiting in a provider's queue: no deadline runs until they are admitted.
        var paused: [Int: TaskHandle] = [:]
        var expired: [Int: Expiry] = [:]
        var nextID = 0
        /// The deadline the timer sleeps until, and its sleeping task.
        var armed: (deadline: Duration, sleeper: TaskHandle)?
        /// The timer waiting for a first deadline.
        var idle: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    private let state = Mutex(State())
    /// The clock deadlines are measured on (the run's, which tests replace).
    let clock: EngineClock

    init(clock: EngineClock) {
        self.clock = clock
    }

    /// Registers the current task's call until `deadline` (time since the clock was opened).
    /// Returns the id to pass to ``finish(_:)``.
    func register(deadline: Duration) -> Int {
        withUnsafeCurrentTask { task -> Int in
            let (id, wake) = state.withLock { state -> (Int, CheckedContinuation<Void, Never>?) in
                state.nextID += 1
                guard let task else { return (state.nextID, nil) }
                let id = state.nextID
                state.entries[id] = Entry(deadline: deadline, task: TaskHandle(task: task))
                return (id, Self.arm(&state, due: deadline))
            }
            wake?.resume()
            return id
        }
    }

    /// Stops call `id`'s clock while it waits in a provider's queue (see ``CallWatch/queued(_:)``).
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
            state.entries[id] = Entry(deadline: deadline, task: task)
            return Self.arm(&state, due: deadline)
        }
        wake?.resume()
    }

    /// Fails call `id` with `error` once `limit` passes without a ``touch(_:)``, from now on.
    func watchIdle(_ id: Int, limit: Duration, error: ProviderError) {
        let now = clock.elapsed()
        let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.entries[id] != nil else { return nil }
            state.entries[id]?.idle = IdleLimit(limit: limit, error: error)
            state.entries[id]?.lastActivity = now
            return Self.arm(&state, due: now + limit)
        }
        wake?.resume()
    }

    /// Call `id` no longer has an idle limit, only its deadline (the timer, if it sleeps until the idle
    /// limit, wakes to find nothing due and sleeps again).
    func unwatchIdle(_ id: Int) {
        state.withLock { $0.entries[id]?.idle = nil }
    }

    /// A piece of call `id`'s reply arrived: its idle limit starts again.
    func touch(_ id: Int) {
        let now = clock.elapsed()
        state.withLock { $0.entries[id]?.lastActivity = now }
    }

    /// Makes the timer watch a call now due at `due`: re-arms it when it sleeps until later, and
    /// returns the idle timer to wake.
    private static func arm(_ state: inout State, due: Duration) -> CheckedContinuation<Void, Never>? {
        if let armed = state.armed, due < armed.deadline {
            armed.sleeper.task.cancel()
            state.armed = nil
        }
        defer { state.idle = nil }
        return state.idle
    }

    /// Ends the watch of call `id`; why it expired when its deadline or idle limit passed first.
    func finish(_ id: Int) -> Expiry? {
        state.withLock { state in
            state.entries[id] = nil
            // Most calls never wait in a queue nor expire: an empty table is not looked in (a third of
            // `finish`'s instructions each).
            if !state.paused.isEmpty { state.paused[id] = nil }
            return state.expired.isEmpty ? nil : state.expired.removeValue(forKey: id)
        }
    }

    /// Cancels calls as their deadlines pass, until the current task is cancelled.
    func watch() async {
        while !Task.isCancelled {
            guard let next = state.withLock({ $0.entries.values.lazy.map(\.due).min() }) else {
                await waitForFirstDeadline()
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.sleep(until: next) }
            }
            let now = clock.elapsed()
            state.withLock { state in
                for (id, entry) in state.entries where entry.due <= now {
                    if let idle = entry.idle, entry.deadline > now {
                        state.expired[id] = .idle(idle.error)
                    } else {
                        state.expired[id] = .deadline
                    }
                    state.entries[id] = nil
                    entry.task.task.cancel()
                }
            }
        }
    }

    private func sleep(until deadline: Duration) async {
        let armed = withUnsafeCurrentTask { task -> Bool in
            state.withLock { state in
                // A call registered an earlier deadline since the timer looked: look again.
                guard let task, state.entries.values.allSatisfy({ $0.due >= deadline }) else { return false }
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
