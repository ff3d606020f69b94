// Computing the estimate: a dry simulation of the run over the graph that tracks how big each
// member's answer, history and reviews are, then sums tokens and dollars per call. The fewest
// figures are the cheapest run the engine can make, the most the dearest (see ``WorkflowEstimate``).

extension WorkflowEstimate {
    /// Estimates calls, tokens and dollars of `workflow`: `min` for its cheapest run (fewest
    /// rounds, every skippable call skipped), `max` for its dearest (most rounds, every call made).
    ///
    /// - Parameters:
    ///   - workflow: the checked workflow.
    ///   - graph: its execution graph (``ExecutionGraph/init(workflow:)``).
    ///   - catalog: prices (``ModelCatalog/pricing(for:)``); a model without one is reported in
    ///     ``unpricedModels``, never priced at $0.
    ///   - promptTokens: the user prompt's size, e.g. ``EstimateAssumptions/tokens(for:)`` of the
    ///     prompt and attached files.
    ///   - assumptions: the token model.
    public static func estimate(
        workflow: Workflow, graph: ExecutionGraph, catalog: ModelCatalog, promptTokens: Int,
        assumptions: EstimateAssumptions = EstimateAssumptions()
    ) -> WorkflowEstimate {
        let pricer = CallPricer(
            workflow: workflow, catalog: catalog, promptTokens: promptTokens, assumptions: assumptions)
        let rounds = roundRange(workflow: workflow, graph: graph)
        let short = EstimateSimulation.run(graph: graph, rounds: rounds.min, pricer: pricer, fewestCalls: true)
        // The dearest run may make any call on a fallback, which a run's budget check then holds at its price.
        var dearest = pricer
        dearest.pricesFallbacks = true
        let long = EstimateSimulation.run(graph: graph, rounds: rounds.max, pricer: dearest)

        func range<V>(_ value: (SimulationTotals) -> V) -> EstimateRange<V> {
            EstimateRange(min: value(short), max: value(long))
        }
        let perRound = (0..<rounds.max).map { offset in
            let calls = long.byRound[offset + 1] ?? CallTotals()
            return RoundEstimate(
                round: offset + 1, calls: calls.count, inputTokens: calls.input, outputTokens: calls.output,
                costUSD: calls.dollars)
        }
        let stages = graph.sections.flatMap { kind, section in
            section.stages.map { stage in
                let pick = { (totals: SimulationTotals) in totals.byStage[stage.index] ?? CallTotals() }
                let embeds = pricer.embeddingModel != nil && stage.nodes.contains { $0.kind == .close }
                return StageEstimate(
                    index: stage.index, stage: stage.stage.keyword, section: kind,
                    callsPerPass: stage.callCount + (embeds ? 1 : 0),
                    calls: range { pick($0).count }, inputTokens: range { pick($0).input },
                    outputTokens: range { pick($0).output }, costUSD: range { pick($0).dollars })
            }
        }
        return WorkflowEstimate(
            workflow: workflow.name, rounds: rounds, calls: range(\.all.count),
            tokens: TokenTotals(input: range(\.all.input), output: range(\.all.output)),
            costUSD: range(\.all.dollars),
            unpricedModels: long.unpricedModels.union(unpricedFallbacks(of: workflow, catalog: catalog)).sorted(),
            unpricedCalls: range(\.all.unpriced), promptTokens: promptTokens,
            perRound: perRound, stages: stages, maxPricedAtFallback: long.pricedAtFallback.sorted())
    }

    /// The fallback models without a price: the estimate counts no call of theirs, but a run may make them, and a
    /// budget (the MCP server's cap too) counts them as $0, so they are unpriced models of the run.
    static func unpricedFallbacks(of workflow: Workflow, catalog: ModelCatalog) -> Set<String> {
        Set(workflow.fallbackModels.filter { catalog.pricing(for: $0) == nil }.map(\.description))
    }

    /// Builds the graph and estimates in one step.
    public static func estimate(
        workflow: Workflow, catalog: ModelCatalog, promptTokens: Int,
        assumptions: EstimateAssumptions = EstimateAssumptions()
    ) -> WorkflowEstimate {
        estimate(
            workflow: workflow, graph: ExecutionGraph(workflow: workflow), catalog: catalog,
            promptTokens: promptTokens, assumptions: assumptions)
    }
}

/// One simulated call.
struct CallCost {
    var stageIndex: Int
    /// 0 for the prelude and the epilogue, the round number in the repeat block.
    var round: Int
    var model: String
    var input: Int
    var output: Int
    /// `nil` when the model has no price.
    var dollars: Double?
    /// `model → fallback` when the call is priced at a dearer fallback of its model.
    var pricedAtFallback: String? = nil
}

/// Calls, tokens and dollars of a set of calls, summed in the order the calls were added.
struct CallTotals {
    var count = 0
    var input = 0
    var output = 0
    var dollars = 0.0
    /// Calls whose model has no price.
    var unpriced = 0

    mutating func add(_ call: CallCost) {
        count += 1
        // Saturating: 64 members x 1,000 rounds of long answers can pass `Int.max` tokens in all,
        // and an estimate must answer rather than trap.
        input = Self.sum(input, call.input)
        output = Self.sum(output, call.output)
        dollars += call.dollars ?? 0
        if call.dollars == nil { unpriced += 1 }
    }

    /// Adds a whole set of calls (a stage of a round computed in closed form).
    mutating func add(_ other: CallTotals) {
        count = Self.sum(count, other.count)
        input = Self.sum(input, other.input)
        output = Self.sum(output, other.output)
        dollars += other.dollars
        unpriced = Self.sum(unpriced, other.unpriced)
    }

    /// The totals of the pass `steps` passes after `self`, when every pass adds to each figure
    /// what `next` (the pass right after `self`) added: the figures are affine in the pass number.
    func extrapolated(toward next: CallTotals, steps: Int) -> CallTotals {
        func line(_ first: Int, _ second: Int) -> Int {
            let (scaled, overflow) = (second - first).multipliedReportingOverflow(by: steps)
            return overflow ? Int.max : Self.sum(first, scaled)
        }
        return CallTotals(
            count: line(count, next.count), input: line(input, next.input), output: line(output, next.output),
            dollars: dollars + (next.dollars - dollars) * Double(steps), unpriced: line(unpriced, next.unpriced))
    }

    /// `a + b`, held at `Int.max`: an absurd workflow (huge `max_tokens` over 1,000 rounds) gets a
    /// huge estimate, never a trap.
    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : total
    }
}

/// What an estimate needs from a simulated run: totals overall, per round and per stage.
struct SimulationTotals {
    var all = CallTotals()
    /// By round number (0 = prelude and epilogue).
    var byRound: [Int: CallTotals] = [:]
    var byStage: [Int: CallTotals] = [:]
    var unpricedModels: Set<String> = []
    var pricedAtFallback: Set<String> = []

    mutating func add(_ call: CallCost) {
        all.add(call)
        byRound[call.round, default: CallTotals()].add(call)
        byStage[call.stageIndex, default: CallTotals()].add(call)
        if call.dollars == nil { unpricedModels.insert(call.model) }
        if let fallback = call.pricedAtFallback { pricedAtFallback.insert(fallback) }
    }

    /// Adds the calls of stage `stage` in round `round`, summed.
    mutating func add(_ calls: CallTotals, round: Int, stage: Int) {
        all.add(calls)
        byRound[round, default: CallTotals()].add(calls)
        byStage[stage, default: CallTotals()].add(calls)
    }
}

/// Who makes a call, with which model, system prompt and parameters; and what it costs.
struct CallPricer {
    let workflow: Workflow
    let catalog: ModelCatalog
    let promptTokens: Int
    let assumptions: EstimateAssumptions
    private let members: [String: Member]
    /// System prompt tokens and prices per participant, computed once: a long system prompt is
    /// not recounted for each of thousands of calls.
    private let systemTokens: [String: Int]
    private let arbiterSystemTokens: Int
    private let pricing: [String: ModelPricing?]
    private let arbiterPricing: ModelPricing?
    /// Each participant's priced fallbacks (the arbiter's under ``ExecutionGraph/arbiterParticipant``), in order.
    private let fallbackPricing: [String: [(model: ModelRef, pricing: ModelPricing)]]
    /// Price each call at the dearest of its model and its fallbacks (the dearest run), not at its model.
    var pricesFallbacks = false
    /// The semantic strategy's embedding model and its price: each `close` pass may make one request.
    let embeddingModel: ModelRef?
    private let embeddingPricing: ModelPricing?

    init(workflow: Workflow, catalog: ModelCatalog, promptTokens: Int, assumptions: EstimateAssumptions) {
        self.workflow = workflow
        self.catalog = catalog
        self.promptTokens = min(max(promptTokens, 0), ModelParams.maxTokensLimit)
        self.assumptions = assumptions
        members = Dictionary(workflow.members.map { ($0.id, $0) }) { first, _ in first }
        let workflowSystem = workflow.system.map(EstimateAssumptions.tokens(for:)) ?? 0
        systemTokens = members.mapValues { $0.system.map(EstimateAssumptions.tokens(for:)) ?? workflowSystem }
        arbiterSystemTokens =
            (workflow.arbiter?.system ?? workflow.system).map(EstimateAssumptions.tokens(for:)) ?? 0
        pricing = members.mapValues { catalog.pricing(for: $0.model) }
        arbiterPricing = workflow.arbiter.flatMap { catalog.pricing(for: $0.model) }
        func priced(_ models: [ModelRef]) -> [(model: ModelRef, pricing: ModelPricing)] {
            models.compactMap { model in catalog.pricing(for: model).map { (model, $0) } }
        }
        var fallbacks = members.mapValues { priced($0.fallback) }
        fallbacks[ExecutionGraph.arbiterParticipant] = priced(workflow.arbiter?.fallback ?? [])
        fallbackPricing = fallbacks
        embeddingModel =
            if case .semantic(let options) = workflow.convergence.strategy { options.embeddingModel } else { nil }
        embeddingPricing = embeddingModel.flatMap { catalog.pricing(for: $0) }
    }

    /// The embedding request a `close` pass of the semantic strategy makes at most (`nil` without an embedding
    /// model): the two drafts it compares, `input` tokens, embedded in one request when no cheaper scorer
    /// decides and its cache holds neither. Embeddings bill input only.
    func embeddingCost(stageIndex: Int, round: Int, input: Int) -> CallCost? {
        guard let model = embeddingModel else { return nil }
        return CallCost(
            stageIndex: stageIndex, round: round, model: model.description, input: input, output: 0,
            dollars: embeddingPricing?.cost(inputTokens: input, outputTokens: 0))
    }

    private func profile(_ participant: String) -> (model: ModelRef?, system: String?, params: ModelParams) {
        if let member = members[participant] {
            return (member.model, member.system ?? workflow.system, member.params)
        }
        if let arbiter = workflow.arbiter {
            return (arbiter.model, arbiter.system ?? workflow.system, arbiter.params)
        }
        return (nil, workflow.system, ModelParams())
    }

    /// Input tokens of a call of `kind` by `participant` that reads `reading` tokens beside the prompt, the
    /// system prompt and the stage's text (``EstimateAssumptions/templateTokens(of:)``).
    func input(_ participant: String, kind: NodeKind, template: EstimateAssumptions.StageText, reading: Int) -> Int {
        assumptions.inputTokens(
            for: kind, promptTokens: promptTokens, systemTokens: systemTokens[participant] ?? arbiterSystemTokens,
            template: template, reading: reading)
    }

    /// Output tokens of a call's answer: `max_tokens` (stage params over the participant's) or `default`.
    func output(_ participant: String, stage: Stage, default value: Int) -> Int {
        let params = profile(participant).params.merged(with: stage.common?.params ?? ModelParams())
        // Clamped for library callers that build a workflow without the compiler's range check.
        return min(max(params.maxTokens ?? value, 0), ModelParams.maxTokensLimit)
    }

    /// Output tokens a call whose answer is `answer` tokens is billed: a call capped by `max_tokens` may also be
    /// billed the thinking its provider adds to the cap, which no later call reads
    /// (``ThinkingAllowance/billedOutput(answer:capped:model:reasoningEffort:)``, as the engine's budget check).
    func billedOutput(_ participant: String, stage: Stage, answer: Int) -> Int {
        let profile = profile(participant)
        let params = profile.params.merged(with: stage.common?.params ?? ModelParams())
        guard let model = profile.model else { return answer }
        return ThinkingAllowance.billedOutput(
            answer: answer, capped: params.maxTokens != nil, model: model, reasoningEffort: params.reasoningEffort)
    }

    func cost(
        _ participant: String, stageIndex: Int, round: Int, input: Int, output: Int
    ) -> CallCost {
        let model = profile(participant).model
        let isMember = members[participant] != nil
        let price = isMember ? pricing[participant] ?? nil : arbiterPricing
        var dollars = price?.cost(inputTokens: input, outputTokens: output)
        var pricedAtFallback: String?
        // An unpriced model stays unpriced (reported, never $0 nor a fallback's price).
        if pricesFallbacks, let own = dollars, let model {
            var dearest = own
            for fallback in fallbackPricing[isMember ? participant : ExecutionGraph.arbiterParticipant] ?? [] {
                let cost = fallback.pricing.cost(inputTokens: input, outputTokens: output)
                if cost > dearest {
                    dearest = cost
                    pricedAtFallback = "\(model) → \(fallback.model)"
                }
            }
            dollars = dearest
        }
        return CallCost(
            stageIndex: stageIndex, round: round, model: model?.description ?? "\(participant) (no model)",
            input: input, output: output, dollars: dollars, pricedAtFallback: pricedAtFallback)
    }
}
