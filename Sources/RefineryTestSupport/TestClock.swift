// A clock whose time only moves when a test says so, so timeout and backoff tests never wait.

import Synchronization

/// A manually advanced clock. Sleepers wake when ``advance(by:)`` moves time past their deadline.
///
/// Tests wait until the engine is asleep with ``waitForSleepers(_:)``, check ``pendingDeadlines``
/// (e.g. that a retry waits exactly the server's Retry-After) and advance.
package final class TestClock: Clock, Sendable {
    /// A point on the test clock's time line.
    package struct Instant: InstantProtocol, Sendable, Hashable, Comparable {
        /// Time since the clock was created.
        package var offset: Duration

        package init(offset: Duration) { self.offset = offset }

        package func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        package func duration(to other: Instant) -> Duration { other.offset - offset }
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Waiter {
        var predicate: @Sendable ([Duration]) -> Bool
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Sleeper] = []
        var cancelledBeforeRegistration: Set<Int> = []
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    /// Creates a clock at offset zero.
    package init() {}

    package var now: Instant { state.withLock { $0.now } }
    package var minimumResolution: Duration { .zero }

    /// Deadlines of the tasks asleep right now, earliest first, as offsets from the clock's start.
    package var pendingDeadlines: [Duration] {
        state.withLock { $0.sleepers.map(\.deadline.offset).sorted() }
    }

    package func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = state.withLock { locked in
            locked.nextID += 1
            return locked.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                register(id: id, deadline: deadline, continuation: continuation)
            }
        } onCancel: {
            cancel(id: id)
        }
    }

    private enum Registration {
        case cancelled, due, asleep([Waiter])
    }

    private func register(id: Int, deadline: Instant, continuation: CheckedContinuation<Void, any Error>) {
        let registration = state.withLock { locked -> Registration in
            if locked.cancelledBeforeRegistration.remove(id) != nil { return .cancelled }
            if deadline <= locked.now { return .due }
            locked.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
            let deadlines = locked.sleepers.map { $0.deadline.offset }.sorted()
            let ready = locked.waiters.filter { $0.predicate(deadlines) }
            locked.waiters.removeAll { $0.predicate(deadlines) }
            return .asleep(ready)
        }
        switch registration {
        case .cancelled: continuation.resume(throwing: CancellationError())
        case .due: continuation.resume()
        case .asleep(let waiters): for waiter in waiters { waiter.continuation.resume() }
        }
    }

    private func cancel(id: Int) {
        let sleeper = state.withLock { locked -> Sleeper? in
            if let index = locked.sleepers.firstIndex(where: { $0.id == id }) {
                return locked.sleepers.remove(at: index)
            }
            locked.cancelledBeforeRegistration.insert(id)
            return nil
        }
        sleeper?.continuation.resume(throwing: CancellationError())
    }

    /// Moves time forward and wakes every sleeper whose deadline has passed, earliest first.
    package func advance(by duration: Duration) {
        let due = state.withLock { locked -> [Sleeper] in
            locked.now = locked.now.advanced(by: duration)
            let now = locked.now
            let due = locked.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            locked.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves time to the earliest pending deadline (if any) and wakes its sleepers.
    package func advanceToNextDeadline() {
        let next = state.withLock { locked in locked.sleepers.map(\.deadline).min().map { locked.now.duration(to: $0) }
        }
        if let next { advance(by: next) }
    }

    /// Returns once at least `count` tasks are asleep on this clock.
    package func waitForSleepers(_ count: Int = 1) async {
        await waitUntil { $0.count >= count }
    }

    /// Returns once the pending deadlines (offsets from the clock's start, earliest first) satisfy
    /// `predicate`, e.g. `{ $0.contains(.seconds(7)) }`.
    package func waitUntil(_ predicate: @escaping @Sendable ([Duration]) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { locked -> Bool in
                if predicate(locked.sleepers.map(\.deadline.offset).sorted()) { return true }
                locked.waiters.append(Waiter(predicate: predicate, continuation: continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
