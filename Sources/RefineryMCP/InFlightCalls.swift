// The tool calls in progress, so that a client that goes away mid-run leaves no run behind as `running`.

import Foundation
import Synchronization

/// The tool calls this server is carrying out. The SDK runs each request in a task of its own and stops
/// waiting for them once stdin closes; the process would then exit with a run half done and recorded
/// `running`. Each call runs here instead, so ``cancelAll()`` can stop them and wait until their runs
/// are recorded `cancelled` (resumable with `resume_run` or `refinery resume`).
final class InFlightCalls: Sendable {
    private struct State {
        var next = 0
        /// How to cancel each call and wait for its end.
        var calls: [Int: (cancel: @Sendable () -> Void, wait: @Sendable () async -> Void)] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Runs `body` as a tracked task; cancelling the caller (a `notifications/cancelled`) cancels it.
    func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let key: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            state.next += 1
            let cancel: @Sendable () -> Void = { task.cancel() }
            let wait: @Sendable () async -> Void = { _ = await task.value }
            state.calls[state.next] = (cancel, wait)
            return state.next
        }
        // A call that arrives after the client left is not started at all.
        if key == nil { task.cancel() }
        let value = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        if let key { _ = state.withLock { $0.calls.removeValue(forKey: key) } }
        return value
    }

    /// Whether no call is in progress.
    var isIdle: Bool { state.withLock { $0.calls.isEmpty } }

    /// Cancels every call in progress and returns once they have all ended.
    func cancelAll() async {
        let calls = state.withLock { state in
            state.closed = true
            return Array(state.calls.values)
        }
        for call in calls { call.cancel() }
        for call in calls { await call.wait() }
    }
}
