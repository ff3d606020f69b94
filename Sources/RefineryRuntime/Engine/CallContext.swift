// Who a provider call is for, bound as a task-local around each call. Test doubles script
// replies by member and node kind from it; real providers may log it. It never reaches a model.

import RefineryCompiler

/// The engine's bookkeeping for the call in progress.
package struct CallContext: Sendable, Hashable {
    /// The run.
    package var runID: String
    /// Round number (0 for the prelude).
    package var round: Int
    /// Execution graph node id.
    package var node: String
    /// Member id or `arbiter`.
    package var participant: String
    /// The prompt kind, e.g. `evaluatePairwise`.
    package var kind: String
    /// Attempt number of this request, from 1.
    package var attempt: Int
    /// Whether the request carries the format reminder after an unreadable reply.
    package var reminder: Bool
    /// Label → member id of the answers the prompt shows (evaluate, synthesize).
    package var labels: [String: String]

    /// Creates a context.
    package init(
        runID: String, round: Int, node: String, participant: String, kind: String, attempt: Int, reminder: Bool,
        labels: [String: String] = [:]
    ) {
        self.runID = runID
        self.round = round
        self.node = node
        self.participant = participant
        self.kind = kind
        self.attempt = attempt
        self.reminder = reminder
        self.labels = labels
    }

    /// The call the current task makes, when the engine made it.
    package static var current: CallContext? { CallTicket.bound?.context }
}

extension CallTicket {
    /// The call the current task makes: the ticket itself is bound (a reference, no allocation per
    /// call), and the ``CallContext`` is built from it only when a provider asks.
    @TaskLocal static var bound: CallTicket?

    var context: CallContext {
        CallContext(
            runID: plan.runID, round: round, node: node.id, participant: participant, kind: promptKind.rawValue,
            attempt: attempt, reminder: reminder, labels: labels)
    }
}
