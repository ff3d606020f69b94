// Computing the estimate: a dry simulation of the run over the graph that tracks how big each
// member's answer, history and reviews are, then sums tokens and dollars per call.

extension WorkflowEstimate {
    /// Estimates calls, tokens and dollars of `workflow` for its fewest and most rounds.
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
        let rounds =
            graph.round == nil
            ? EstimateRange(min: 0, max: 0)
            : EstimateRange(min: max(workflow.iterations.min, 0), max: max(workflow.iterations.max, 0))
        let short = EstimateSimulation.run(graph: graph, rounds: rounds.min, pricer: pricer)
        let long = EstimateSimulation.run(graph: graph, rounds: rounds.max, pricer: pricer)

        func range<V>(_ value: ([CallCost]) -> V) -> EstimateRange<V> {
            EstimateRange(min: value(short), max: value(long))
        }
        let perRound = (0..<rounds.max).map { offset in
            let calls = long.filter { $0.round == offset + 1 }
            return RoundEstimate(
                round: offset + 1, calls: calls.count, inputTokens: calls.sum(\.input),
                outputTokens: calls.sum(\.output), costUSD: calls.dollars)
        }
        let stages = graph.sections.flatMap { kind, section in
            section.stages.map { stage in
                let pick = { (calls: [CallCost]) in calls.filter { $0.stageIndex == stage.index } }
                return StageEstimate(
                    index: stage.index, stage: stage.stage.keyword, section: kind, callsPerPass: stage.callCount,
                    calls: range { pick($0).count }, inputTokens: range { pick($0).sum(\.input) },
                    outputTokens: range { pick($0).sum(\.output) }, costUSD: range { pick($0).dollars })
            }
        }
        let unpriced = Set(long.filter { $0.dollars == nil }.map(\.model))
        return WorkflowEstimate(
            workflow: workflow.name, rounds: rounds, calls: range(\.count),
            tokens: TokenTotals(input: range { $0.sum(\.input) }, output: range { $0.sum(\.output) }),
            costUSD: range(\.dollars), unpricedModels: unpriced.sorted(),
            unpricedCalls: range { $0.count { $0.dollars == nil } }, promptTokens: promptTokens,
            perRound: perRound, stages: stages)
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
}

extension [CallCost] {
    func sum(_ field: KeyPath<CallCost, Int>) -> Int { reduce(0) { $0 + $1[keyPath: field] } }
    var dollars: Double { reduce(0) { $0 + ($1.dollars ?? 0) } }
}

/// Who makes a call, with which model, system prompt and parameters; and what it costs.
struct CallPricer {
    let workflow: Workflow
    let catalog: ModelCatalog
    let promptTokens: Int
    let assumptions: EstimateAssumptions
    private let members: [String: Member]

    init(workflow: Workflow, catalog: ModelCatalog, promptTokens: Int, assumptions: EstimateAssumptions) {
        self.workflow = workflow
        self.catalog = catalog
        self.promptTokens = max(promptTokens, 0)
        self.assumptions = assumptions
        members = Dictionary(workflow.members.map { ($0.id, $0) }) { first, _ in first }
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

    /// Input tokens every call of `stage` by `participant` pays before what it reads.
    func baseInput(_ participant: String, stage: Stage, overhead: Int, includesPrompt: Bool = true) -> Int {
        let system = profile(participant).system.map(EstimateAssumptions.tokens(for:)) ?? 0
        var template = overhead
        if let prompt = stage.common?.prompt, prompt.system != nil || prompt.user != nil {
            template = EstimateAssumptions.tokens(for: (prompt.system ?? "") + (prompt.user ?? ""))
        }
        return (includesPrompt ? promptTokens : 0) + system + template
    }

    /// Output tokens of a call: `max_tokens` (stage params over the participant's) or `default`.
    func output(_ participant: String, stage: Stage, default value: Int) -> Int {
        let params = profile(participant).params.merged(with: stage.common?.params ?? ModelParams())
        return params.maxTokens ?? value
    }

    func cost(
        _ participant: String, stageIndex: Int, round: Int, input: Int, output: Int
    ) -> CallCost {
        let model = profile(participant).model
        let dollars = model.flatMap(catalog.pricing(for:))?.cost(inputTokens: input, outputTokens: output)
        return CallCost(
            stageIndex: stageIndex, round: round, model: model?.description ?? "\(participant) (no model)",
            input: input, output: output, dollars: dollars)
    }
}
