// How many rounds a run can take: `iterations.max` at most, and at least the first round in which
// the workflow's strategy can stop the repeat block — which is often later than `iterations.min`.
// The engine's rules mirrored here live in the runtime's `ConvergenceJudge` and `RunExecutor`.

extension WorkflowEstimate {
    /// The fewest and the most rounds of the repeat block a run can take (`0...0` without one).
    ///
    /// The fewest is `iterations.min`, raised to the first round in which the strategy can hold:
    /// - `vote-threshold` needs the same leader for `stability` rounds, so never before round
    ///   `stability`;
    /// - `semantic` compares a round's draft with the one before it, so round 1 can only stop when
    ///   the prelude wrote a draft to compare with; otherwise round 2 (never, when nothing writes one);
    /// - `none`, a repeat block without `close`, and a strategy whose signal the block never
    ///   produces (scores without an `evaluate` stage, confidence without a `synthesize` stage,
    ///   agreement without a `vote` stage)
    ///   always run to `iterations.max`.
    static func roundRange(workflow: Workflow, graph: ExecutionGraph) -> EstimateRange<Int> {
        guard let round = graph.round else { return EstimateRange(min: 0, max: 0) }
        let most = max(workflow.iterations.max, 0)
        let earliest = earliestStop(workflow.convergence.strategy, round: round, prelude: graph.prelude) ?? most
        return EstimateRange(min: min(max(workflow.iterations.min, earliest, 0), most), max: most)
    }

    /// The first round in which `strategy` can stop the repeat block, or `nil` when it never can.
    private static func earliestStop(_ strategy: ConvergenceStrategy, round: GraphSection, prelude: GraphSection)
        -> Int?
    {
        let kinds = round.nodes.map(\.kind)
        guard kinds.contains(where: { if case .close = $0 { true } else { false } }) else { return nil }
        let scores = kinds.contains { kind in
            switch kind {
            case .evaluate, .evaluateBatch: true
            case .propose, .refine, .synthesize, .verifyPlan, .verifyAnswer, .verifyRevise, .vote, .close: false
            }
        }
        switch strategy {
        case .voteThreshold(_, let stability):
            return scores ? max(stability, 1) : nil
        case .unanimous:
            return scores ? 1 : nil
        case .confidence:
            return kinds.contains { if case .synthesize = $0 { true } else { false } } ? 1 : nil
        case .agreement:
            return kinds.contains { if case .vote = $0 { true } else { false } } ? 1 : nil
        case .semantic:
            if prelude.nodes.contains(where: { writesDraft($0.kind) }) { return 1 }
            return kinds.contains(where: writesDraft) ? 2 : nil
        case .none:
            return nil
        }
    }

    /// Whether a node's reply becomes a draft (an answer, a revision or a synthesis).
    private static func writesDraft(_ kind: NodeKind) -> Bool {
        switch kind {
        case .propose, .refine, .synthesize, .verifyRevise: true
        case .evaluate, .evaluateBatch, .verifyPlan, .verifyAnswer, .vote, .close: false
        }
    }
}
