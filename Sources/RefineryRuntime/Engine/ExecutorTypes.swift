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

/// Who produced a text the run may select (a member or `arbiter`), and with which model of its chain.
struct AnswerSource: Sendable, Hashable {
    var participant: String
    var model: ModelRef
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

/// What a call is for, fixed when its node is prepared: shared by every copy and attempt of the ticket.
/// A class: tickets travel from the parent loop into child tasks and back, and each copy of these
/// fields (strings, a dictionary, a graph node) cost a dozen retains and made every child task's frames larger.
final class CallPlan: Sendable {
    let node: GraphNode
    /// The node's position in its step (``SectionRun/nodes``).
    let nodeIndex: Int
    /// Member id or `arbiter`.
    let participant: String
    let round: Int
    let stageIndex: Int
    let promptKind: PromptKind
    /// The run, for the provider's call context.
    let runID: String
    /// The executor's count of drops and model moves when this call was prepared (see `current`).
    let participationChanges: Int
    /// The one answer shown under a label (pairwise evaluate): kept apart from `labels` so the
    /// N² pairwise calls of a round do not each build a dictionary.
    let shown: (label: String, member: String)?
    /// Label → member id for the answers shown when there are several (batched evaluate, synthesize).
    private let several: [String: String]
    /// Which reply shape to parse, if structured.
    let replyKind: ReplyKind?
    /// The draft shown (critique-revise, verification plan).
    let draft: String?
    /// Budget estimate of this call, in dollars.
    let estimatedCostUSD: Double
    /// The catalog's price of the model the call was prepared for (`nil`: no price known), and that
    /// model's index in the participant's chain: a reply is priced without looking the model up again.
    let pricing: ModelPricing?
    let pricedModelIndex: Int

    init(
        runID: String, participationChanges: Int, node: GraphNode, nodeIndex: Int, participant: String, round: Int,
        stageIndex: Int,
        promptKind: PromptKind, shown: (label: String, member: String)?, labels: [String: String],
        replyKind: ReplyKind?, draft: String?, estimatedCostUSD: Double, pricing: ModelPricing?,
        pricedModelIndex: Int
    ) {
        self.pricing = pricing
        self.pricedModelIndex = pricedModelIndex
        self.runID = runID
        self.participationChanges = participationChanges
        self.shown = shown
        self.several = labels
        self.node = node
        self.nodeIndex = nodeIndex
        self.participant = participant
        self.round = round
        self.stageIndex = stageIndex
        self.promptKind = promptKind
        self.replyKind = replyKind
        self.draft = draft
        self.estimatedCostUSD = estimatedCostUSD
    }

    /// Label → member id for every answer the prompt shows.
    var labels: [String: String] {
        guard let shown else { return several }
        return [shown.label: shown.member]
    }
}

/// A call ready to start or in flight: everything a child task needs, nothing of the actor's.
///
/// A value with its fields in one copy-on-write box: tickets are held by every call in flight (in
/// child tasks' async frames and results), and inline they made each of those frames ~250 bytes larger.
struct CallTicket: Sendable {
    private final class Storage: @unchecked Sendable {
        // Mutated only through a uniquely referenced box (see `mutable`), so never while shared.
        let plan: CallPlan
        var request: ModelRequest
        var pendingPrompt: PendingPrompt?
        var requestHash: String
        /// The canonical JSON `requestHash` was computed over (empty with it).
        var requestJSON = ""
        var modelIndex: Int
        var attempt: Int
        var reminder: Bool

        init(
            plan: CallPlan, request: ModelRequest, pendingPrompt: PendingPrompt?, requestHash: String,
            modelIndex: Int, attempt: Int, reminder: Bool
        ) {
            self.plan = plan
            self.request = request
            self.pendingPrompt = pendingPrompt
            self.requestHash = requestHash
            self.modelIndex = modelIndex
            self.attempt = attempt
            self.reminder = reminder
        }

        func copy() -> Storage {
            let copy = Storage(
                plan: plan, request: request, pendingPrompt: pendingPrompt, requestHash: requestHash,
                modelIndex: modelIndex, attempt: attempt, reminder: reminder)
            copy.requestJSON = requestJSON
            return copy
        }
    }

    private var storage: Storage

    init(
        plan: CallPlan, request: ModelRequest, pendingPrompt: PendingPrompt?, requestHash: String, modelIndex: Int,
        attempt: Int, reminder: Bool
    ) {
        storage = Storage(
            plan: plan, request: request, pendingPrompt: pendingPrompt, requestHash: requestHash,
            modelIndex: modelIndex, attempt: attempt, reminder: reminder)
    }

    /// The box, copied first when another ticket shares it.
    private var mutable: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    /// What the call is for (the same for every attempt and fallback).
    var plan: CallPlan { storage.plan }
    /// The request as it will be sent (model, reminder included). Its messages are empty until a
    /// child task renders ``pendingPrompt``.
    var request: ModelRequest {
        get { storage.request }
        set { mutable.request = newValue }
        _modify { yield &mutable.request }
    }
    /// The prompt still to render: rendering runs in the child task, in parallel, not in the parent loop.
    var pendingPrompt: PendingPrompt? {
        get { storage.pendingPrompt }
        set { mutable.pendingPrompt = newValue }
    }
    /// SHA-256 of `request`, filled in by the child task when a ledger is configured. Setting it
    /// (to "" when the request changes) forgets ``requestJSON``.
    var requestHash: String {
        get { storage.requestHash }
        set {
            mutable.requestHash = newValue
            mutable.requestJSON = ""
        }
    }
    /// The canonical JSON ``requestHash`` was computed over ("" until it is).
    var requestJSON: String { storage.requestJSON }

    /// Hashes the request (for the ledger), keeping its canonical JSON for the record.
    mutating func hashRequest() {
        let (json, hash) = RequestHash.canonical(request)
        let storage = mutable
        storage.requestHash = hash
        storage.requestJSON = json
    }
    /// Index into the participant's model chain.
    var modelIndex: Int {
        get { storage.modelIndex }
        set { mutable.modelIndex = newValue }
    }
    /// Attempt number of this exact request, from 1.
    var attempt: Int {
        get { storage.attempt }
        set { mutable.attempt = newValue }
    }
    /// Whether this is the one re-ask after an unreadable reply.
    var reminder: Bool {
        get { storage.reminder }
        set { mutable.reminder = newValue }
    }

    var node: GraphNode { plan.node }
    var participant: String { plan.participant }
    var round: Int { plan.round }
    var stageIndex: Int { plan.stageIndex }
    var promptKind: PromptKind { plan.promptKind }
    var labels: [String: String] { plan.labels }
    var replyKind: ReplyKind? { plan.replyKind }
    var draft: String? { plan.draft }
    var estimatedCostUSD: Double { plan.estimatedCostUSD }
}

/// A prompt to render into a request's system text and user message. A class: tickets are copied
/// between the parent loop and child tasks, and the context is large; a reference keeps each copy small.
final class PendingPrompt: Sendable {
    let renderer: PromptRenderer
    let kind: PromptKind
    let context: PromptContext
    /// The reviews a refine prompt shows, labelled and ordered when the prompt is rendered.
    let reviews: ReceivedReviews?

    init(renderer: PromptRenderer, kind: PromptKind, context: PromptContext, reviews: ReceivedReviews? = nil) {
        self.renderer = renderer
        self.kind = kind
        self.context = context
        self.reviews = reviews
    }

    /// Fills `request`'s messages (and system text, when the template has one).
    func render(into request: inout ModelRequest) throws {
        var context = context
        if let reviews { context.reviewsReceived = reviews.labelled() }
        let rendered = try renderer.render(kind, context)
        if let system = rendered.system { request.system = system }
        request.messages = [ChatMessage(role: .user, content: rendered.user)]
    }

    /// Rough size of what the prompt will show, for the budget estimate before rendering.
    var approximateBytes: Int { 600 + context.approximateContentBytes + (reviews?.approximateBytes ?? 0) }
}

/// The reviews a member's answer received in the current step, turned into the prompt's labelled
/// reviews in the child task that renders the refine prompt, not in the parent loop (N reviews per
/// refine, N refines a round).
struct ReceivedReviews: Sendable {
    /// The reviews, in arrival order.
    let reviews: [Review]
    /// The receiving member's labels for the other members.
    let labels: [String: String]

    /// The reviews under the reviewers' labels, in label order (the same replies always give the
    /// same request, whatever order they arrived in).
    func labelled() -> [LabeledReview] {
        var received: [(count: Int, key: String, review: Review)] = []
        received.reserveCapacity(reviews.count)
        for review in reviews where review.score != nil {
            let key = labels[review.reviewer] ?? review.reviewer
            received.append((key.count, key, review))
        }
        received.sort { ($0.count, $0.key) < ($1.count, $1.key) }
        return received.map { item in
            let review = item.review
            let name = review.reviewer == "arbiter" ? "Arbiter" : "Reviewer \(labels[review.reviewer] ?? "?")"
            return LabeledReview(
                label: name,
                evaluation: Evaluation(
                    strengths: review.strengths, weaknesses: review.weaknesses, suggestions: review.suggestions,
                    rationale: review.rationale, score: review.score ?? 0))
        }
    }

    /// What the reviews add to the prompt, roughly (the budget estimate before rendering).
    var approximateBytes: Int {
        reviews.reduce(0) { total, review in
            guard review.score != nil else { return total }
            return total + review.rationale.utf8.count + review.suggestions.reduce(0) { $0 + $1.utf8.count }
        }
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
    /// The run cannot go on (a prompt that cannot be rendered would fail the same way every time).
    case failed(String)
}

/// A member's answer of an earlier round and the scored reviews it got, kept as positions in that
/// round's reviews (shared, not copied) and described as text only when a prompt shows its history:
/// describing N² reviews at the end of every round cost more than the rest of closing it.
struct PastAnswer: Sendable {
    let round: Int
    let answer: String
    /// The round's reviews, in reviewer order.
    let reviews: [Review]
    /// Positions in `reviews` of the scored reviews of this answer.
    let positions: [Int]

    /// The entry a `proposeWithHistory` prompt shows: reviews as text, without reviewer names.
    var entry: HistoryEntry {
        HistoryEntry(round: round, answer: answer, reviews: positions.map { RunExecutor.describe(reviews[$0]) })
    }
}

/// One provider's calls that are ready to start, in order, and how many of its calls are in flight.
/// A class owned by the executor actor, so the parent loop updates it without hashing the provider's
/// name for every queue and counter it touches.
final class ProviderLane {
    /// Most calls in flight at once (0: no limit).
    let cap: Int
    var inFlight = 0
    private var queue: [CallTicket?] = []
    private var head = 0

    init(cap: Int) { self.cap = cap }

    func enqueue(_ ticket: CallTicket) { queue.append(ticket) }

    /// The next ticket, left queued.
    func peek() -> CallTicket? { head < queue.count ? queue[head] : nil }

    /// Drops the next ticket (its slot is cleared so a started call's state is not kept alive here).
    func dequeue() {
        guard head < queue.count else { return }
        queue[head] = nil
        head += 1
        if head >= 1024, head * 2 >= queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }

    /// Every queued ticket, removed.
    func removeAll() -> [CallTicket] {
        defer {
            queue = []
            head = 0
        }
        return queue[head...].compactMap { $0 }
    }
}
