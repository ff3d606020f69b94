// The progress of a run as MCP notifications: calls done of the estimated total, cost so far, the
// stage and round, for a client that sent a progress token.

import Foundation
import RefineryCompiler
import RefineryRuntime
import Synchronization

/// Sends one progress notification to the client that asked for them.
struct ProgressSink: Sendable {
    let send: @Sendable (_ progress: Double, _ total: Double?, _ message: String) async -> Void
}

/// Follows a run's events: the calls done, the cost so far, the stage and round, forwarded in order
/// as progress notifications when the client sent a progress token.
final class RunTracker: Sendable {
    private struct State {
        var calls = 0
        var cost = 0.0
        /// What the calls served from the ledger (a resumed run's earlier calls) cost when they were made.
        var replayedCost = 0.0
        var round = 0
        var stage = "starting"
    }

    private let state = Mutex(State())
    private let totalCalls: Int?
    private let progress: ProgressSink?
    private let stream: AsyncStream<Update>
    private let continuation: AsyncStream<Update>.Continuation

    /// One notification: calls done, the total when it still holds, and the words.
    private struct Update: Sendable {
        var done: Double
        var total: Double?
        var message: String
    }

    init(totalCalls: Int?, progress: ProgressSink?) {
        self.totalCalls = totalCalls
        self.progress = progress
        (stream, continuation) = AsyncStream<Update>.makeStream()
    }

    /// Sends the notifications, in the order the events happened, until ``finish()``; the caller runs
    /// it next to the run (`async let`), so no task outlives the tool call.
    func send() async {
        for await update in stream { await progress?.send(update.done, update.total, update.message) }
    }

    /// What the finished calls have cost so far, the ones served from the ledger included.
    var cost: Double { state.withLock { $0.cost } }

    /// What the calls served from the ledger cost when they were made (booked then, not again).
    var replayedCost: Double { state.withLock { $0.replayedCost } }

    /// The engine's event callback.
    func record(_ event: RunEvent) {
        let update: Update? = state.withLock { state in
            // A notification per finished call: MCP wants each one's progress above the last.
            switch event {
            case .roundStarted(let started):
                state.round = started.round
                return nil
            case .stageStarted(let started):
                state.round = started.round
                state.stage = started.stage
                return nil
            case .callFinished(let call), .callFailed(let call):
                state.calls += 1
                state.cost += call.costUSD ?? 0
                if call.status == .replayed { state.replayedCost += call.costUSD ?? 0 }
            default: return nil
            }
            // A re-ask or a fallback adds a call the estimate's maximum does not count: past it, the
            // total is no longer known (it read "12/9 calls").
            let total = totalCalls.flatMap { state.calls <= $0 ? $0 : nil }
            let calls =
                if let total { "\(state.calls)/\(total) calls" } else if let totalCalls {
                    "\(state.calls) calls (more than the \(totalCalls) estimated: re-asks or fallbacks)"
                } else { "\(state.calls) calls" }
            return Update(
                done: Double(state.calls), total: total.map { Double($0) },
                message: "round \(state.round), stage \(state.stage): \(calls), " + DollarText.text(state.cost))
        }
        if let update, progress != nil { continuation.yield(update) }
    }

    /// Ends ``send()`` once the notifications already recorded are sent.
    func finish() {
        continuation.finish()
    }
}
