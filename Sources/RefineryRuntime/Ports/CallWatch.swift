// How a provider takes part in the one timeout mechanism of model calls (``CallDeadlines``): it
// arms no timer of its own. A call runs under a `CallWatch`, bound as a task-local: the engine binds
// one per call, watched by the run's one timer; a provider called outside the engine gets one for the
// call from ``CallWatch/bounding(timeout:expired:_:)``. Through it the provider
//
// - pauses the deadline while the call waits in its own queue (a per-endpoint concurrency gate, a
//   rate budget): a call's timeout measures the call, not its wait, and starts afresh, in full, when
//   the call is admitted, so a serial server behind `max_concurrent: 1` serves a queue of calls
//   without any of them timing out while it waits its turn;
// - starts an idle limit once a streamed reply begins, and reports each piece that arrives, so a
//   stalled stream fails in seconds while one that keeps arriving runs up to the call's deadline.
//
// When the deadline or the idle limit passes, the call's task is cancelled: a provider only has to
// honour cancellation (close its connection, kill its process).

/// The deadline watch of the call the current task makes.
package struct CallWatch: Sendable {
    let deadlines: CallDeadlines
    let id: Int
    /// The call's timeout, restarted in full when a queue wait ends.
    let limit: Duration

    init(deadlines: CallDeadlines, id: Int, limit: Duration) {
        self.deadlines = deadlines
        self.id = id
        self.limit = limit
    }

    /// The watch of the call the current task makes; `nil` outside a bounded call.
    @TaskLocal package static var current: CallWatch?

    /// Runs `wait` (a queue wait before the call is sent) with the call's deadline paused; the
    /// deadline starts again in full when it returns or throws.
    package static func queued<T: Sendable>(_ wait: () async throws -> T) async throws -> T {
        guard let watch = current else { return try await wait() }
        watch.deadlines.pause(watch.id)
        defer { watch.deadlines.restart(watch.id, deadline: watch.deadlines.clock.elapsed() + watch.limit) }
        return try await wait()
    }

    /// From now on the call also fails, with `error`, once `limit` passes without ``touch()``.
    package func watchIdle(limit: Duration, error: ProviderError) {
        deadlines.watchIdle(id, limit: limit, error: error)
    }

    /// The reply's answer is whole, and only its protocol's last events may still come: the idle limit no
    /// longer fails the call (the provider bounds that tail itself, and takes the answer when it passes).
    package func endIdleWatch() {
        deadlines.unwatchIdle(id)
    }

    /// A piece of the reply arrived: the idle limit starts again.
    package func touch() {
        deadlines.touch(id)
    }

    /// Runs `body` as one bounded call. Under a watch already bound (the engine's), `body` runs as
    /// it is: the engine's deadline is the call's. Otherwise `body` runs in a child task under its
    /// own watch, and when its deadline passes it is cancelled and `expired` thrown (or the error
    /// given to ``watchIdle(limit:error:)`` when the idle limit passed first).
    package static func bounding<T: Sendable>(
        timeout: Duration, expired: @autoclosure @escaping @Sendable () -> ProviderError,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        if current != nil { return try await body() }
        let deadlines = CallDeadlines(clock: EngineClock(ContinuousClock()))
        return try await withThrowingTaskGroup(of: Bounded<T>.self) { group in
            group.addTask {
                await deadlines.watch()
                return .timerStopped
            }
            group.addTask {
                let id = deadlines.register(deadline: deadlines.clock.elapsed() + timeout)
                let watch = CallWatch(deadlines: deadlines, id: id, limit: timeout)
                let result: Result<T, any Error>
                do {
                    result = .success(try await $current.withValue(watch) { try await body() })
                } catch {
                    result = .failure(error)
                }
                switch deadlines.finish(id) {
                case .deadline?: throw expired()
                case .idle(let error)?: throw error
                case nil: return .finished(try result.get())
                }
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if case .finished(let value) = next { return value }
            }
            throw CancellationError()
        }
    }

    private enum Bounded<T: Sendable>: Sendable {
        case finished(T)
        case timerStopped
    }
}
