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
        iterations: Iterations = Iterations(min: 1, max: 5), convergence: ConvergenceStrategy? = nil
    ) -> Workflow {
        Workflow(
            name: "t", members: members, arbiter: arbiter, iterations: iterations,
            convergence: convergence.map(Convergence.init(strategy:)) ?? Convergence(), stages: stages)
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

extension GraphFixtures {
    /// The built-ins of `workflows/` as IR, with their default members. `WorkflowCompileTests`
    /// checks that the YAML compiles to the same graph.
    static func builtin(_ name: String) -> Workflow {
        let members = [
            member("claude"), member("codex", "gpt-5.4", provider: "openai"),
            member("gemini", "gemini-3.1-pro-preview", provider: "gemini"),
        ]
        let solo = [member("claude")]
        func iterations(_ min: Int, _ max: Int) -> Iterations { Iterations(min: min, max: max) }
        switch name {
        case "consensus":
            return workflow(
                [.repeat([.propose(ProposeStage(context: .ownHistory)), evaluate, close])], members: members)
        case "consensus-classic":
            return workflow([.repeat([propose, evaluate, refine, close])], members: members)
        case "consortium":
            return workflow(
                [.repeat([.propose(ProposeStage(context: .synthesis)), synthesize, close])], members: members,
                iterations: iterations(1, 3), convergence: .confidence(threshold: 0.8))
        case "self-refine":
            return workflow(
                [propose, .repeat([.refine(RefineStage(refineProtocol: .critiqueRevise, minBytes: 200)), close])],
                members: solo, iterations: iterations(1, 3), convergence: .semantic(SemanticOptions()))
        case "verify":
            return workflow([propose, .verify(VerifyStage(common: StageCommon(by: .members)))], members: solo)
        case "debate":
            return workflow(
                [
                    .propose(ProposeStage(context: .none)), .repeat([.propose(ProposeStage(context: .peers)), close]),
                    .vote(VoteStage()),
                ], members: members, iterations: iterations(2, 2), convergence: ConvergenceStrategy.none)
        case "self-consistency":
            let samples = (1...5).map { member("claude#\($0)") }
            return workflow(
                [
                    .repeat([
                        .propose(
                            ProposeStage(
                                common: StageCommon(params: ModelParams(temperature: 0.8)), context: .none)),
                        .vote(VoteStage(over: .all)), close,
                    ])
                ], members: samples, iterations: iterations(1, 3), convergence: .agreement(threshold: 0.6))
        case "vote":
            return workflow([.propose(ProposeStage(context: .none)), .vote(VoteStage())], members: members)
        default:  // moa
            return workflow(
                [
                    .propose(ProposeStage(context: .none)), .repeat([.propose(ProposeStage(context: .peers)), close]),
                    synthesize,
                ], members: members, iterations: iterations(2, 2), convergence: ConvergenceStrategy.none)
        }
    }
}
