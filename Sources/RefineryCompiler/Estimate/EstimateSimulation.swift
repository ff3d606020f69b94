// A dry run of the graph that only tracks sizes: how long each member's answer, history and
// received reviews are, the latest synthesis and draft. See ``EstimateAssumptions`` for the model.
//
// The first rounds (at least 3, as many as ~10,000 calls allow) are run call by call; every later
// round is computed in closed form from rounds 2 and 3. Why that is exact: every size a call
// writes (an answer, a review, a synthesis, a draft) is its output, which the stage and the caller
// fix — never what the call read. So from round 2 on every round starts from the same sizes,
// except the histories, which grow by the same amount each round; a call reads a sum of sizes, so
// each stage's calls and output tokens are the same every round and its input tokens grow by a
// constant (dollars too, up to the order of a floating-point sum). 64 members × 1,000 rounds is
// then three rounds of calls, not four million.

struct EstimateSimulation {
    /// Rounds run call by call before the closed form takes over (round 1 starts from the
    /// prelude's sizes, rounds 2 and 3 give the per-round growth).
    static let closedFormAfter = 3
    /// Calls run one by one before the closed form takes over. Below it the dollars are summed
    /// call by call in execution order, bit for bit as always; the closed form agrees to ~1e-12.
    static let callByCallBudget = 10_000

    private let pricer: CallPricer
    private let answerers: [String]
    /// The cheapest run: every `refine` that `min_bytes` can skip is skipped, every verification
    /// plan lists no question.
    private let fewestCalls: Bool
    private var answer: [String: Int] = [:]
    private var history: [String: Int] = [:]
    private var reviews: [String: Int] = [:]
    private var synthesis: Int?
    private var arbiterDraft: Int?
    /// Whether a draft existed when the current round began: the semantic strategy compares a round's draft
    /// with the one before it, so a round 1 with no draft from the stages before the repeat block has nothing
    /// to compare and makes no embedding request.
    private var draftBeforeRound = false
    /// Sums rather than a list of calls: 64 members × 1,000 rounds would be millions of records.
    private var totals = SimulationTotals()
    /// Template tokens per stage index: a prompt file is counted once, not once per call.
    private var templateTokens: [Int: EstimateAssumptions.StageText] = [:]

    private init(graph: ExecutionGraph, pricer: CallPricer, fewestCalls: Bool) {
        self.pricer = pricer
        self.fewestCalls = fewestCalls
        var proposers: Set<String> = []
        for node in graph.allNodes {
            if case .propose(let member) = node.kind { proposers.insert(member) }
        }
        let members = pricer.workflow.members.map(\.id)
        let ordered = members.filter { proposers.contains($0) }
        answerers = ordered.isEmpty ? members : ordered
    }

    /// The totals of every call of a run whose repeat block runs `rounds` times, added in
    /// execution order. `fewestCalls` skips what a run may skip (see ``WorkflowEstimate``);
    /// `exactRounds` (at least 3; by default as many as ``callByCallBudget`` allows) are run call
    /// by call, the rest in closed form.
    static func run(
        graph: ExecutionGraph, rounds: Int, pricer: CallPricer, fewestCalls: Bool = false, exactRounds: Int? = nil
    ) -> SimulationTotals {
        var simulation = EstimateSimulation(graph: graph, pricer: pricer, fewestCalls: fewestCalls)
        simulation.pass(graph.prelude, round: 0)
        if let round = graph.round, rounds > 0 {
            let exact = exactRounds ?? callByCallBudget / max(round.callCount, 1)
            simulation.repeatBlock(round, rounds: rounds, exact: max(exact, closedFormAfter))
        }
        simulation.pass(graph.epilogue, round: 0)
        return simulation.totals
    }

    /// Runs the repeat block `rounds` times: the first rounds call by call, the rest in closed form.
    private mutating func repeatBlock(_ section: GraphSection, rounds: Int, exact: Int) {
        var passes: [[Int: CallTotals]] = []
        var histories: [[String: Int]] = []
        for number in 1...min(rounds, exact) {
            let stages = pass(section, round: number)
            // Only rounds 2 and 3 (and the history after them) feed the closed form.
            if number <= Self.closedFormAfter {
                passes.append(stages)
                histories.append(history)
            }
        }
        guard rounds > exact else { return }
        let (second, third) = (passes[1], passes[2])
        for number in (exact + 1)...rounds {
            for stage in section.stages {
                // A stage that makes no call (a `close`, a skipped refine) adds nothing, as call by call.
                guard let first = second[stage.index], let next = third[stage.index], first.count > 0 else { continue }
                totals.add(first.extrapolated(toward: next, steps: number - 2), round: number, stage: stage.index)
            }
        }
        // The histories after the last round, for an epilogue that reads them.
        let later = rounds - Self.closedFormAfter
        for (member, size) in histories[2] {
            let growth = size - (histories[1][member] ?? 0)
            let (added, overflow) = growth.multipliedReportingOverflow(by: later)
            let (total, overflowed) = size.addingReportingOverflow(added)
            history[member] = overflow || overflowed ? Int.max : total
        }
    }

    private var allAnswers: Int { answerers.reduce(0) { $0 + (answer[$1] ?? 0) } }
    private var draft: Int { arbiterDraft ?? answerers.lazy.compactMap { answer[$0] }.first ?? 0 }

    /// Runs every stage of `section` once; returns each stage's totals, by stage index.
    @discardableResult
    private mutating func pass(_ section: GraphSection, round: Int) -> [Int: CallTotals] {
        var byStage: [Int: CallTotals] = [:]
        if round > 0 { draftBeforeRound = arbiterDraft != nil || answerers.contains { answer[$0] != nil } }
        for stage in section.stages { byStage[stage.index] = run(stage, round: round) }
        return byStage
    }

    /// Whether the cheapest run leaves `node` out: a `refine` with `min_bytes` (the draft may be
    /// shorter, then the engine skips it), every verification answer and the revision (a plan may
    /// list fewer than `questions`, or none: then there is nothing to verify and the draft stands).
    private func skips(_ node: GraphNode, of stage: Stage) -> Bool {
        guard fewestCalls else { return false }
        switch node.kind {
        case .refine:
            guard case .refine(let options) = stage else { return false }
            return options.minBytes > 0
        case .verifyAnswer, .verifyRevise: return true
        case .propose, .evaluate, .evaluateBatch, .synthesize, .verifyPlan, .vote, .close: return false
        }
    }

    /// Prices every node of `stage` from the state before the stage, then applies its outputs.
    /// Returns the stage's totals.
    private mutating func run(_ stage: GraphStage, round: Int) -> CallTotals {
        let a = pricer.assumptions
        let options = stage.stage
        var newAnswers: [(String, Int)] = []
        var newReviews: [String: Int] = [:]
        var planOut = 0
        var verifyAnswersOut = 0
        let template = templateTokens[stage.index] ?? EstimateAssumptions.templateTokens(of: options)
        templateTokens[stage.index] = template
        var stageTotals = CallTotals()
        for node in stage.nodes where node.isCall && !skips(node, of: options) {
            let who = node.participant
            func base(_ reading: Int) -> Int {
                pricer.input(who, kind: node.kind, template: template, reading: reading)
            }
            // The assumed reply size comes from the mapping the engine's budget check shares.
            guard let assumed = a.outputTokens(for: node.kind, in: options) else { continue }
            let output = pricer.output(who, stage: options, default: assumed)
            var input: Int
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
                input = base(context)
                newAnswers.append((member, output))
            case .evaluate(_, let target):
                input = base(answer[target] ?? 0)
                newReviews[target, default: 0] += output
            case .evaluateBatch(_, let targets):
                input = base(targets.reduce(0) { $0 + (answer[$1] ?? 0) })
                for target in targets { newReviews[target, default: 0] += output / max(targets.count, 1) }
            case .refine(let member):
                let critique: Bool
                if case .refine(let refine) = options {
                    critique = refine.refineProtocol == .critiqueRevise
                } else {
                    critique = false
                }
                if member == ExecutionGraph.arbiterParticipant {
                    input = base(draft)
                } else {
                    input = base((answer[member] ?? 0) + (critique ? 0 : reviews[member] ?? 0))
                }
                let revised = min(output, a.answerTokens)
                if member == ExecutionGraph.arbiterParticipant {
                    arbiterDraft = revised
                } else {
                    newAnswers.append((member, revised))
                }
            case .synthesize:
                input = base(allAnswers)
                if node.id == stage.nodes.first?.id {  // by members: the first synthesis is the draft
                    synthesis = output
                    arbiterDraft = output
                }
            case .verifyPlan(let by):
                input = base(verifiedDraft(by))
                planOut = output
                verifyAnswersOut = 0
            case .verifyAnswer:
                // Its question only: the input pricing leaves the prompt out.
                input = base(a.verifyQuestionTokens)
                verifyAnswersOut += output
            case .verifyRevise(let by):
                input = base(verifiedDraft(by) + planOut + verifyAnswersOut)
                if by == ExecutionGraph.arbiterParticipant {
                    arbiterDraft = output
                } else {
                    newAnswers.append((by, output))
                }
            case .vote, .close:
                continue
            }
            let call = pricer.cost(
                who, stageIndex: stage.index, round: round, input: input,
                output: pricer.billedOutput(who, stage: options, answer: output))
            totals.add(call)
            stageTotals.add(call)
        }
        // The semantic strategy's embedding request: at most one a `close` pass (both drafts) that has an earlier
        // draft to compare with (none in a round 1 whose draft is the run's first); the cheapest run makes none
        // (char similarity or Jaccard decides, or the cache holds both drafts).
        if !fewestCalls, draftBeforeRound, stage.nodes.contains(where: { $0.kind == .close }) {
            let drafts = draft > Int.max / 2 ? Int.max : 2 * draft
            if let call = pricer.embeddingCost(stageIndex: stage.index, round: round, input: drafts) {
                totals.add(call)
                stageTotals.add(call)
            }
        }
        for (member, size) in newAnswers {
            answer[member] = size
            history[member, default: 0] += size
        }
        for (target, size) in newReviews {
            reviews[target] = size
            history[target, default: 0] += size
        }
        return stageTotals
    }

    private func verifiedDraft(_ by: String) -> Int {
        by == ExecutionGraph.arbiterParticipant ? draft : answer[by] ?? 0
    }
}
