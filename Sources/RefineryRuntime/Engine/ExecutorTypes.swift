// Values the executor passes between its parent loop and its child tasks.

import RefineryCompiler

/// One member or the arbiter, with the models it may call and how it is doing.
struct ParticipantState: Sendable {
    /// Member id or `arbiter`.
    var id: String
    /// The model first, then its fallbacks, in order.
    var models: [ModelRef]
    /// Index into `models` where new calls start (moves on after a permanent failure).
    var modelIndex: Int
    /// System prompt override.
    var system: String?
    /// Parameters.
    var params: ModelParams
    /// Whether the participant is out for the rest of the run.
    var droppedForRun = false
}

/// What a finished node left for the nodes after it.
struct NodeResult: Sendable {
    /// An answer, revision, draft or verification answer.
    var text: String?
    /// A synthesis.
    var synthesis: Synthesis?
    /// Planned verification questions.
    var questions: [String]?
    /// The model that produced `text`.
    var model: ModelRef?
    /// Why no call was made or why it failed; `nil` when the node did its work.
    var skippedReason: String?

    static func skipped(_ reason: String) -> NodeResult { NodeResult(skippedReason: reason) }
}

/// A call ready to start or in flight: everything a child task needs, nothing of the actor's.
struct CallTicket: Sendable {
    var node: GraphNode
    var participant: String
    var round: Int
    var stageIndex: Int
    var promptKind: PromptKind
    /// The request as it will be sent (model, reminder included).
    var request: ModelRequest
    /// SHA-256 of `request`, filled in by the child task when a ledger is configured.
    var requestHash: String
    /// Index into the participant's model chain.
    var modelIndex: Int
    /// Attempt number of this exact request, from 1.
    var attempt: Int
    /// Whether this is the one re-ask after an unreadable reply.
    var reminder: Bool
    /// Label → member id for the answers shown (evaluate and synthesize).
    var labels: [String: String]
    /// Which reply shape to parse, if structured.
    var replyKind: ReplyKind?
    /// The draft shown (critique-revise, verification plan).
    var draft: String?
    /// Budget estimate of this call, in dollars.
    var estimatedCostUSD: Double
}

/// How one attempt of a call ended, as a child task reports it.
enum AttemptResult: Sendable {
    case replied(ModelReply, replayed: Bool)
    case failed(ProviderError)
}

/// What a child task returns to the parent loop. Children never decide what runs next.
enum ChildResult: Sendable {
    /// An attempt finished.
    case attempt(CallTicket, AttemptResult, latency: Duration, startedAt: Duration)
    /// A retry's backoff elapsed; the ticket may start again.
    case backoffElapsed(CallTicket)
    /// The run was cancelled while the child ran.
    case cancelled(CallTicket, wasCall: Bool)
}

/// Why a run stops before its chain is done.
enum StopReason: Sendable {
    case budget(String)
    case cancelled
    case quorum(String)
}
