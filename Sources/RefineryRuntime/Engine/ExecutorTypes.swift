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
    /// The request as it will be sent (model, reminder included). Its messages are empty until a
    /// child task renders ``pendingPrompt``.
    var request: ModelRequest
    /// The prompt still to render: rendering runs in the child task, in parallel, not in the parent loop.
    var pendingPrompt: PendingPrompt?
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

/// A prompt to render into a request's system text and user message. A class: tickets are copied
/// between the parent loop and child tasks, and the context is large; a reference keeps each copy small.
final class PendingPrompt: Sendable {
    let renderer: PromptRenderer
    let kind: PromptKind
    let context: PromptContext

    init(renderer: PromptRenderer, kind: PromptKind, context: PromptContext) {
        self.renderer = renderer
        self.kind = kind
        self.context = context
    }

    /// Fills `request`'s messages (and system text, when the template has one).
    func render(into request: inout ModelRequest) throws {
        let rendered = try renderer.render(kind, context)
        if let system = rendered.system { request.system = system }
        request.messages = [ChatMessage(role: .user, content: rendered.user)]
    }

    /// Rough size of what the prompt will show, for the budget estimate before rendering.
    var approximateBytes: Int {
        let c = context
        func bytes(_ text: String?) -> Int { text?.utf8.count ?? 0 }
        func bytes(_ texts: [String]) -> Int { texts.reduce(0) { $0 + $1.utf8.count } }
        // The template's own text.
        var total = 600
        total += bytes(c.prompt) + bytes(c.extraContext) + bytes(c.ownAnswer) + bytes(c.draft) + bytes(c.question)
        total += bytes(c.rubric)
        for entry in c.ownHistory { total += bytes(entry.answer) + bytes(entry.reviews) }
        for peer in c.peers { total += bytes(peer.text) }
        for answer in c.answersToScore { total += bytes(answer.text) }
        total += bytes(c.answerUnderReview?.text)
        for review in c.reviewsReceived {
            total += bytes(review.evaluation.rationale) + bytes(review.evaluation.suggestions)
        }
        total += bytes(c.questions)
        for item in c.verificationAnswers { total += bytes(item.question) + bytes(item.answer) }
        if let synthesis = c.synthesis { total += bytes(synthesis.synthesis) + bytes(synthesis.refinementAreas) }
        return total
    }
}

/// How one attempt of a call ended, as a child task reports it.
enum AttemptResult: Sendable {
    /// `evaluation` is a pairwise review's reply already parsed in the child task, off the parent loop.
    case replied(ModelReply, replayed: Bool, evaluation: Result<Evaluation, ReplyParseError>?)
    case failed(ProviderError)
    /// The prompt template failed to render: no call was made.
    case unrenderable(String)
}

/// What a child task returns to the parent loop. Children never decide what runs next.
enum ChildResult: Sendable {
    /// An attempt finished.
    case attempt(CallTicket, AttemptResult, latency: Duration, startedAt: Duration)
    /// A retry's backoff elapsed; the ticket may start again.
    case backoffElapsed(CallTicket)
    /// The run was cancelled while the child ran.
    case cancelled(CallTicket, wasCall: Bool)
    /// The drive's deadline timer ended (the drive is over or the run was cancelled).
    case deadlineTimerStopped
}

/// Why a run stops before its chain is done.
enum StopReason: Sendable {
    case budget(String)
    case cancelled
    case quorum(String)
}
