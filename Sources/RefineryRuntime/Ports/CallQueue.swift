// A call's timeout measures the call, not its wait in a queue. A provider that holds calls back
// (a per-endpoint concurrency gate, a rate budget) runs that wait through `CallQueue.waiting`: the
// engine pauses the call's deadline meanwhile and starts it afresh, in full, when the call is
// admitted. A serial server behind `max_concurrent: 1` then serves a queue of calls without any
// of them timing out while it waits its turn.

/// The engine's hooks around a provider's queue wait, bound as a task-local for each call.
package struct CallQueue: Sendable {
    /// Called when the call starts waiting in the provider's queue.
    package var waiting: @Sendable () -> Void
    /// Called when the wait is over (admitted, refused or cancelled).
    package var admitted: @Sendable () -> Void

    package init(waiting: @escaping @Sendable () -> Void, admitted: @escaping @Sendable () -> Void) {
        self.waiting = waiting
        self.admitted = admitted
    }

    /// The hooks of the call the current task makes; `nil` outside the engine.
    @TaskLocal package static var current: CallQueue?

    /// Runs `wait` (a queue wait before the call is sent) with the call's deadline paused.
    package static func wait<T: Sendable>(_ wait: () async throws -> T) async throws -> T {
        guard let queue = current else { return try await wait() }
        queue.waiting()
        defer { queue.admitted() }
        return try await wait()
    }
}
