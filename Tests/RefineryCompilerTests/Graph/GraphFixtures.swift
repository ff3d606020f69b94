@testable import RefineryCompiler

/// IR values built in Swift, independent of the YAML front end.
enum GraphFixtures {
    static func member(_ id: String, _ model: String = "claude-opus-4-6", provider: String = "anthropic") -> Member {
        Member(id: id, model: ModelRef(provider: provider, model: model))
    }

    static let abc = [member("a"), member("b"), member("c")]
    static let arbiter = Arbiter(model: ModelRef(provider: "anthropic", model: "claude-opus-4-6"))

    static func workflow(
        _ stages: [Stage], members: [Member] = abc, arbiter: Arbiter? = arbiter,
        iterations: Iterations = Iterations(min: 1, max: 5)
    ) -> Workflow {
        Workflow(name: "t", members: members, arbiter: arbiter, iterations: iterations, stages: stages)
    }

    static let propose = Stage.propose(ProposeStage())
    static let evaluate = Stage.evaluate(EvaluateStage())
    static let refine = Stage.refine(RefineStage())
    static let close = Stage.close(CloseStage())
    static let synthesize = Stage.synthesize(SynthesizeStage())

    /// `repeat: [propose {own-history}, evaluate pairwise, close]`.
    static let consensus = workflow([.repeat([propose, evaluate, close])])
    /// `repeat: [propose, evaluate, refine, close]`.
    static let consensusClassic = workflow([.repeat([propose, evaluate, refine, close])])
}
