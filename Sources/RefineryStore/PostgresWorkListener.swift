// Waking idle workers: `LISTEN refinery_work` on a connection of its own (a listening connection
// cannot run the worker's statements in between). `--detach` notifies when its jobs commit, a
// stopping worker when it hands jobs back, the worker that records a batch's last job when it is
// done. A notification is only a hint to look again: nobody notifies when a worker dies, so the
// worker also wakes at a timer (the next lease's end), and a lost listening connection costs only
// that timer's delay until it is opened again.

import Foundation
import PostgresNIO
import Synchronization

/// The `LISTEN` side of the worker queue.
package actor PostgresWorkListener {
    private let store: PostgresRunStore
    private var connection: PostgresConnection?
    private let signal = WakeSignal()

    package init(store: PostgresRunStore) { self.store = store }

    /// Opens the listening connection (again, after a lost one). Best effort: without it the worker
    /// still wakes at its timer.
    package func start() async throws {
        if let connection, !connection.isClosed { return }
        let connection = try await store.connect(until: .now + store.reconnectWindow)
        let signal = signal
        connection.addListener(channel: PostgresRunStore.workChannel) { _, _ in signal.signal() }
        self.connection = connection
        // Listening starts here: work enqueued between the worker's last claim and now would be missed, so
        // the caller looks once more.
        signal.signal()
    }

    /// Returns when a notification arrived since the last wait, or after `seconds`, or when cancelled.
    package func wait(seconds: Double) async {
        if connection.map({ $0.isClosed }) ?? true { try? await start() }
        await signal.wait(seconds: seconds)
    }

    /// Closes the listening connection.
    package func stop() async {
        if let connection { try? await connection.close() }
        connection = nil
    }
}

/// A wake-up that is not lost when it comes before the wait: a flag and at most one waiter.
final class WakeSignal: Sendable {
    private let state = Mutex<(signaled: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.signaled = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(seconds: Double) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                if !Task.isCancelled { self.signal() }
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Bool in
                        if state.signaled {
                            state.signaled = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                self.signal()
            }
            group.cancelAll()
        }
    }
}
