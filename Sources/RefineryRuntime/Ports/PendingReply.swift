// A call that a provider has sent and whose reply is still to come, held as a small object instead of
// as the suspended async frames of the code that sent it.
//
// A call's task keeps every allocator slab its async frames ever took until the task ends, and with
// ~9,900 calls in flight at once (consensus, N = 100) the frames of the engine, the provider and the
// HTTP exchange were ~9.5 KB of every call (Benchmarks/README.md, session 9). A provider that can
// therefore sends in ``ModelProvider/start(_:)`` (synchronous work and a queue's wait) and hands back a
// `Pending` that the transport completes from its own thread (the reply decoded there, at once); the
// call's task then waits for it in a couple of small frames.

import Synchronization

/// A value a call delivers later: a model's reply (``PendingReply``) or a transport's decoded body.
///
/// Made finished (``init(_:)``), or waiting and then completed once by whoever sent the call
/// (``finish(_:)``, or ``again(_:)`` to have the waiter start the call anew). ``value()`` waits for it;
/// cancelling the waiting task runs the cancellation handler given with ``onCancel(_:)``, so the
/// transport gives up the call (and completes it, with its cancellation error).
public final class Pending<Value: Sendable>: Sendable {
    /// What ``value()`` is given: the value or error, or a call to start anew in its place.
    package enum Outcome: Sendable {
        case finished(Result<Value, any Error>)
        case again(@Sendable () async throws -> Pending<Value>)
    }

    private struct State {
        var outcome: Outcome?
        var waiter: CheckedContinuation<Outcome, Never>?
        var cancel: (@Sendable () -> Void)?
        var isCancelled = false
    }

    private let state: Mutex<State>

    /// A value already there: the call finished while it was started (a provider without a transport of
    /// its own answers so).
    public init(_ value: Value) {
        state = Mutex(State(outcome: .finished(.success(value))))
    }

    /// A value still to come, from ``finish(_:)`` or ``again(_:)``.
    package init() {
        state = Mutex(State())
    }

    /// Completes the call; later completions are ignored. Resumes the waiter, if it waits already.
    package func finish(_ result: Result<Value, any Error>) {
        complete(.finished(result))
    }

    /// Completes the call with a new start in its place: ``value()`` runs `start`, in the waiting task, and
    /// waits for what it returns (a call refused in a mode the endpoint no longer takes is sent again).
    package func again(_ start: @escaping @Sendable () async throws -> Pending<Value>) {
        complete(.again(start))
    }

    private func complete(_ outcome: Outcome) {
        let waiter = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            // The handler belongs to the call just completed: let go of it (it holds the transport's request).
            state.cancel = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: outcome)
    }

    /// The value or error, when the call has completed with one already (not with a new start): a caller
    /// need not wait.
    package func completed() -> Result<Value, any Error>? {
        state.withLock { state in
            if case .finished(let result)? = state.outcome { return result }
            return nil
        }
    }

    /// Runs `cancel` when the waiting task is cancelled (at once if it already was), unless the call has
    /// completed by then.
    package func onCancel(_ cancel: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            guard state.outcome == nil else { return false }
            if state.isCancelled { return true }
            state.cancel = cancel
            return false
        }
        if now { cancel() }
    }

    /// The value, once the call has completed. Cancelling the task asks the sender to give the call up;
    /// the call still completes (with the sender's error, or its value if it came first).
    public func value() async throws -> Value {
        var pending = self
        while true {
            switch await pending.outcome() {
            case .finished(let result): return try result.get()
            case .again(let start): pending = try await start()
            }
        }
    }

    /// The outcome, once there: waited for in the smallest frames the wait allows, since every call in
    /// flight sits here.
    @inline(never)
    private func outcome() async -> Outcome {
        if let outcome = state.withLock({ $0.outcome }) { return outcome }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let ready = state.withLock { state -> Outcome? in
                    if let outcome = state.outcome { return outcome }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let cancel = state.withLock { state -> (@Sendable () -> Void)? in
                state.isCancelled = true
                defer { state.cancel = nil }
                return state.cancel
            }
            cancel?()
        }
    }
}

/// A model call started by ``ModelProvider/start(_:)``, its reply still to come.
public typealias PendingReply = Pending<ModelReply>
