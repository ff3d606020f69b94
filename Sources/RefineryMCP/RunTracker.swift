// The progress of a run as MCP notifications: calls done of the estimated total, cost so far, the
// stage and round, for a client that sent a progress token.

import Foundation
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
    private let stream: AsyncStream<(Double, String)>
    private let continuation: AsyncStream<(Double, String)>.Continuation

    init(totalCalls: Int?, progress: ProgressSink?) {
        self.totalCalls = totalCalls
        self.progress = progress
        (stream, continuation) = AsyncStream<(Double, String)>.makeStream()
    }

    /// Sends the notifications, in the order the events happened, until ``finish()``; the caller runs
    /// it next to the run (`async let`), so no task outlives the tool call.
    func send() async {
        let total = totalCalls.map { Double($0) }
        for await (done, message) in stream { await progress?.send(done, total, message) }
    }

    /// What the finished calls have cost so far, the ones served from the ledger included.
    var cost: Double { state.withLock { $0.cost } }

    /// What the calls served from the ledger cost when they were made (booked then, not again).
    var replayedCost: Double { state.withLock { $0.replayedCost } }

    /// The engine's event callback.
    func record(_ event: RunEvent) {
        let update: (Double, String)? = state.withLock { state in
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
            let total = totalCalls.map { "/\($0)" } ?? ""
            return (
                Double(state.calls),
                "round \(state.round), stage \(state.stage): \(state.calls)\(total) calls, "
                    + String(format: "$%.4f", state.cost)
            )
        }
        if let update, progress != nil { continuation.yield(update) }
    }

    /// Ends ``send()`` once the notifications already recorded are sent.
    func finish() {
        continuation.finish()
    }
}
