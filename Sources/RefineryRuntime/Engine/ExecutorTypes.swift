// A call ready to make, as the parent loop hands it to a child task: what it is for (the plan),
// the prompt it renders there, and the reviews it shows. The executor's other values have a file each.

import RefineryCompiler

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
    /// What the budget holds for this call while it is in flight: its cost at the output cap its provider
    /// sends (thinking included), else its estimate.
    let reservedCostUSD: Double
    /// The reply size that estimate assumed, `nil` when the request caps it (max tokens).
    let assumedOutputTokens: Int?
    /// The input and answer tokens that estimate priced, priced again for a fallback model.
    let estimatedTokens: (input: Int, answer: Int)
    /// The catalog's price of the model the call was prepared for (`nil`: no price known), and that
    /// model's index in the participant's chain: a reply is priced without looking the model up again.
    let pricing: ModelPricing?
    let pricedModelIndex: Int

    init(
        runID: String, participationChanges: Int, node: GraphNode, nodeIndex: Int, participant: String, round: Int,
        stageIndex: Int,
        promptKind: PromptKind, shown: (label: String, member: String)?, labels: [String: String],
        replyKind: ReplyKind?, draft: String?, estimate: CallEstimate,
        pricing: ModelPricing?, pricedModelIndex: Int
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
        self.estimatedCostUSD = estimate.dollars
        self.reservedCostUSD = estimate.reserved
        self.assumedOutputTokens = estimate.assumedOutput
        self.estimatedTokens = estimate.tokens
    }

    /// This plan for model `index` of the participant's chain, at its price and estimate.
    func moved(to index: Int, pricing: ModelPricing?, estimate: CallEstimate) -> CallPlan {
        CallPlan(
            runID: runID, participationChanges: participationChanges, node: node, nodeIndex: nodeIndex,
            participant: participant, round: round, stageIndex: stageIndex, promptKind: promptKind, shown: shown,
            labels: several, replyKind: replyKind, draft: draft, estimate: estimate, pricing: pricing,
            pricedModelIndex: index)
    }

    /// Label → member id for every answer the prompt shows.
    var labels: [String: String] {
        guard let shown else { return several }
        return [shown.label: shown.member]
    }
}

/// A call ready to start or in flight: everything a child task needs, nothing of the actor's.
///
/// An immutable object: a ticket is handed from the parent loop to a child task and back, and held by
/// every call in flight (in child tasks' async frames and results), so it travels as one reference.
/// What changes between attempts (the rendered request, the attempt number, the model) makes a new
/// ticket; nothing is shared mutably, so no copy-on-write is needed.
final class CallTicket: CallSite {
    /// What the call is for (the same for every attempt and fallback).
    let plan: CallPlan
    /// The request as it will be sent (model, reminder included). Its messages are empty until a
    /// child task renders ``pendingPrompt``.
    let request: ModelRequest
    /// The prompt still to render: rendering runs in the child task, in parallel, not in the parent loop.
    let pendingPrompt: PendingPrompt?
    /// SHA-256 of `request`, filled in by the child task when a resumed run looks up recorded replies
    /// ("" until it is; otherwise the hash is computed when the call is recorded, with the JSON the ledger
    /// stores, so a call in flight does not hold ~2 KB of JSON: Benchmarks/README.md, session 8).
    let requestHash: String
    /// Index into the participant's model chain.
    let modelIndex: Int
    /// Attempt number of this exact request, from 1.
    let attempt: Int
    /// Whether this is the one re-ask after an unreadable reply.
    let reminder: Bool
    /// How long this request has waited, in all, for a server that was still loading the model
    /// (``ProviderError/Code/modelLoading``): bounded by the call's timeout, not by its retries.
    let loadingWait: Duration

    init(
        plan: CallPlan, request: ModelRequest, pendingPrompt: PendingPrompt?, requestHash: String = "",
        modelIndex: Int, attempt: Int = 1, reminder: Bool = false, loadingWait: Duration = .zero
    ) {
        self.plan = plan
        self.request = request
        self.pendingPrompt = pendingPrompt
        self.requestHash = requestHash
        self.modelIndex = modelIndex
        self.attempt = attempt
        self.reminder = reminder
        self.loadingWait = loadingWait
    }

    /// The same request as attempt `number`.
    func attempt(_ number: Int) -> CallTicket {
        CallTicket(
            plan: plan, request: request, pendingPrompt: pendingPrompt, requestHash: requestHash,
            modelIndex: modelIndex, attempt: number, reminder: reminder, loadingWait: loadingWait)
    }

    /// The same request, the same attempt, asked again after `delay` more of waiting for the model to load.
    func waitingForModel(_ delay: Duration) -> CallTicket {
        CallTicket(
            plan: plan, request: request, pendingPrompt: pendingPrompt, requestHash: requestHash,
            modelIndex: modelIndex, attempt: attempt, reminder: reminder, loadingWait: loadingWait + delay)
    }

    /// A new request for the same plan (or `plan`, the call moved to another model), as a first attempt: model
    /// `modelIndex` of the chain, or the format reminder added. Its hash is computed again when it is sent.
    func resending(_ request: ModelRequest, modelIndex: Int, reminder: Bool, plan: CallPlan? = nil) -> CallTicket {
        CallTicket(
            plan: plan ?? self.plan, request: request, pendingPrompt: pendingPrompt, modelIndex: modelIndex,
            reminder: reminder)
    }

    /// The ticket ready to send: its prompt rendered into the request and, with `hashing` (a resumed run
    /// looks for the call's recorded reply), the request hashed. Throws when the prompt's template fails.
    func rendered(hashing: Bool) throws -> CallTicket {
        let hashes = hashing && requestHash.isEmpty
        guard pendingPrompt != nil || hashes else { return self }
        var request = request
        try pendingPrompt?.render(into: &request)
        return CallTicket(
            plan: plan, request: request, pendingPrompt: nil,
            requestHash: hashes ? RequestHash.of(request) : requestHash, modelIndex: modelIndex, attempt: attempt,
            reminder: reminder, loadingWait: loadingWait)
    }

    var node: GraphNode { plan.node }
    var ledgerNode: String { plan.node.id }
    var participant: String { plan.participant }
    var round: Int { plan.round }
    var stageIndex: Int { plan.stageIndex }
    var promptKind: PromptKind { plan.promptKind }
    var labels: [String: String] { plan.labels }
    var replyKind: ReplyKind? { plan.replyKind }
    var draft: String? { plan.draft }
    var estimatedCostUSD: Double { plan.estimatedCostUSD }
    var reservedCostUSD: Double { plan.reservedCostUSD }
}

/// What the ledger records a call under: its round, node and participant, the request sent and the attempt.
/// A model call's ``CallTicket``, or an embedding request of the semantic strategy (``EmbeddingCall``).
protocol CallSite: Sendable {
    var round: Int { get }
    /// The ledger's node key: the graph node's id (`s2.close.embed` for an embedding request).
    var ledgerNode: String { get }
    var participant: String { get }
    var request: ModelRequest { get }
    var attempt: Int { get }
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
        let rendered: RenderedPrompt
        if let reviews {
            var context = context
            context.reviewsReceived = reviews.labelled()
            rendered = try renderer.render(kind, context)
        } else {
            // Rendered from the stored context: copying it was ~800 instructions of retains and releases a call.
            rendered = try renderer.render(kind, context)
        }
        if let system = rendered.system { request.system = system }
        request.messages = [ChatMessage(role: .user, content: rendered.user)]
    }

    /// Rough size of what the prompt shows beside the user prompt, for the budget estimate before rendering.
    var readingBytes: Int { context.approximateReadingBytes + (reviews?.approximateBytes ?? 0) }
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

/// How the budget check prices one call (``RunExecutor/estimateCost(_:node:stage:prompt:pricing:)``).
struct CallEstimate: Sendable {
    /// The estimate's price of the call: a call the run cannot afford even at this is not made.
    var dollars: Double
    /// The most the call can be billed (its output at the cap its provider sends), held against the
    /// budget while it is in flight; its estimate when the cap is unknown.
    var reserved: Double
    /// The reply size the estimate assumed, `nil` when the request caps it (max tokens).
    var assumedOutput: Int?
    /// The tokens priced whatever the model: the input, and the answer before any thinking its model adds.
    var tokens: (input: Int, answer: Int)
}
