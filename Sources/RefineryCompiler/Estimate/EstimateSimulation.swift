// A dry run of the graph that only tracks sizes: how long each member's answer, history and
// received reviews are, the latest synthesis and draft. See ``EstimateAssumptions`` for the model.

struct EstimateSimulation {
    private let pricer: CallPricer
    private let answerers: [String]
    private var answer: [String: Int] = [:]
    private var history: [String: Int] = [:]
    private var reviews: [String: Int] = [:]
    private var synthesis: Int?
    private var arbiterDraft: Int?
    /// Sums rather than a list of calls: 64 members × 1,000 rounds would be millions of records.
    private var totals = SimulationTotals()
    /// Template tokens per stage index: a prompt file is counted once, not once per call.
    private var templateTokens: [Int: Int?] = [:]

    private init(graph: ExecutionGraph, pricer: CallPricer) {
        self.pricer = pricer
        var proposers: Set<String> = []
        for node in graph.allNodes {
            if case .propose(let member) = node.kind { proposers.insert(member) }
        }
        let members = pricer.workflow.members.map(\.id)
        let ordered = members.filter { proposers.contains($0) }
        answerers = ordered.isEmpty ? members : ordered
    }

    /// The totals of every call of a run whose repeat block runs `rounds` times, added in
    /// execution order.
    static func run(graph: ExecutionGraph, rounds: Int, pricer: CallPricer) -> SimulationTotals {
        var simulation = EstimateSimulation(graph: graph, pricer: pricer)
        simulation.pass(graph.prelude, round: 0)
        if let round = graph.round {
            for number in 0..<rounds { simulation.pass(round, round: number + 1) }
        }
        simulation.pass(graph.epilogue, round: 0)
        return simulation.totals
    }

    private var allAnswers: Int { answerers.reduce(0) { $0 + (answer[$1] ?? 0) } }
    private var draft: Int { arbiterDraft ?? answerers.lazy.compactMap { answer[$0] }.first ?? 0 }

    private mutating func pass(_ section: GraphSection, round: Int) {
        for stage in section.stages { run(stage, round: round) }
    }

    /// Prices every node of `stage` from the state before the stage, then applies its outputs.
    private mutating func run(_ stage: GraphStage, round: Int) {
        let a = pricer.assumptions
        let options = stage.stage
        var newAnswers: [(String, Int)] = []
        var newReviews: [String: Int] = [:]
        var planOut = 0
        var verifyAnswersOut = 0
        if templateTokens[stage.index] == nil { templateTokens[stage.index] = pricer.templateTokens(options) }
        let template = templateTokens[stage.index] ?? nil
        for node in stage.nodes where node.isCall {
            let who = node.participant
            func out(_ value: Int) -> Int { pricer.output(who, stage: options, default: value) }
            func base(_ overhead: Int) -> Int { pricer.baseInput(who, template: template, overhead: overhead) }
            var input: Int
            var output: Int
            switch node.kind {
            case .propose(let member):
                var context = 0
                if case .propose(let propose) = options {
                    switch propose.context {
                    case .none: context = 0
                    case .ownHistory: context = history[member] ?? 0
                    case .peers: context = allAnswers
                    case .synthesis: context = synthesis ?? allAnswers
                    }
                }
                input = base(a.proposeOverhead) + context
                output = out(a.answerTokens)
                newAnswers.append((member, output))
            case .evaluate(_, let target):
                input = base(a.evaluateOverhead) + (answer[target] ?? 0)
                output = out(a.reviewTokens)
                newReviews[target, default: 0] += output
            case .evaluateBatch(_, let targets):
                input = base(a.evaluateOverhead) + targets.reduce(0) { $0 + (answer[$1] ?? 0) }
                output = out(a.reviewTokens * targets.count)
                for target in targets { newReviews[target, default: 0] += output / max(targets.count, 1) }
            case .refine(let member):
                let critique: Bool
                if case .refine(let refine) = options {
                    critique = refine.refineProtocol == .critiqueRevise
                } else {
                    critique = false
                }
                if member == ExecutionGraph.arbiterParticipant {
                    input = base(a.refineOverhead) + draft
                } else {
                    input = base(a.refineOverhead) + (answer[member] ?? 0) + (critique ? 0 : reviews[member] ?? 0)
                }
                output = out(a.answerTokens + (critique ? a.critiqueTokens : 0))
                let revised = min(output, a.answerTokens)
                if member == ExecutionGraph.arbiterParticipant {
                    arbiterDraft = revised
                } else {
                    newAnswers.append((member, revised))
                }
            case .synthesize:
                input = base(a.synthesizeOverhead) + allAnswers
                output = out(a.synthesisTokens)
                if node.id == stage.nodes.first?.id {  // by members: the first synthesis is the draft
                    synthesis = output
                    arbiterDraft = output
                }
            case .verifyPlan(let by):
                input = base(a.verifyOverhead) + verifiedDraft(by)
                output = out(a.verifyPlanTokens)
                planOut = output
                verifyAnswersOut = 0
            case .verifyAnswer:
                input =
                    pricer.baseInput(who, template: template, overhead: a.verifyOverhead, includesPrompt: false)
                    + a.verifyQuestionTokens
                output = out(a.verifyAnswerTokens)
                verifyAnswersOut += output
            case .verifyRevise(let by):
                input = base(a.verifyOverhead) + verifiedDraft(by) + planOut + verifyAnswersOut
                output = out(a.answerTokens)
                if by == ExecutionGraph.arbiterParticipant {
                    arbiterDraft = output
                } else {
                    newAnswers.append((by, output))
                }
            case .vote, .close:
                continue
            }
            totals.add(pricer.cost(who, stageIndex: stage.index, round: round, input: input, output: output))
        }
        for (member, size) in newAnswers {
            answer[member] = size
            history[member, default: 0] += size
        }
        for (target, size) in newReviews {
            reviews[target] = size
            history[target, default: 0] += size
        }
    }

    private func verifiedDraft(_ by: String) -> Int {
        by == ExecutionGraph.arbiterParticipant ? draft : answer[by] ?? 0
    }
}
