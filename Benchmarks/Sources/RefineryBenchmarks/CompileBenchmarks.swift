// The `compile` section: the dry-run path of `refinery estimate NAME` — find a built-in, build its
// execution graph and estimate it. Budget: < 30 ms per workflow in release.

import RefineryCompiler

enum CompileBenchmarks {
    static let section = BenchmarkSection(
        name: "compile", summary: "locate a built-in, build its graph, estimate it (budget 30 ms)"
    ) { iterations in
        let library = WorkflowLibrary(folders: [], currentDirectory: "/")
        return try ["consensus", "consensus-classic", "consortium", "moa"].map { name in
            let workflow = try workflowIR(name)
            return Benchmark(name: "\(name): locate + graph + estimate", iterations: iterations, budgetMilliseconds: 30)
            {
                _ = try library.locate(name: name)
                let graph = ExecutionGraph(workflow: workflow)
                let estimate = WorkflowEstimate.estimate(
                    workflow: workflow, graph: graph, catalog: .builtin, promptTokens: 500)
                precondition(estimate.calls.max > 0)
            }
        }
    }

    /// The built-ins as IR, until the YAML front end is on main (then: compile the located source).
    static func workflowIR(_ name: String) throws -> Workflow {
        func member(_ alias: String) throws -> Member {
            guard let resolved = ModelCatalog.builtin.resolve(alias) else { throw UnknownModel(alias: alias) }
            return Member(id: alias, model: resolved.target, params: resolved.params)
        }
        let members = try ["claude", "codex", "gemini"].map(member)
        let arbiter = Arbiter(model: try member("claude").model)
        let stages: [Stage] =
            switch name {
            case "consensus":
                [.repeat([.propose(ProposeStage()), .evaluate(EvaluateStage()), .close(CloseStage())])]
            case "consensus-classic":
                [
                    .repeat([
                        .propose(ProposeStage()), .evaluate(EvaluateStage()), .refine(RefineStage()),
                        .close(CloseStage()),
                    ])
                ]
            case "consortium":
                [
                    .repeat([
                        .propose(ProposeStage(context: .synthesis)), .synthesize(SynthesizeStage()),
                        .close(CloseStage()),
                    ])
                ]
            default:
                [
                    .propose(ProposeStage(context: .none)),
                    .repeat([.propose(ProposeStage(context: .peers)), .close(CloseStage())]),
                    .synthesize(SynthesizeStage()),
                ]
            }
        return Workflow(name: name, members: members, arbiter: arbiter, stages: stages)
    }

    struct UnknownModel: Error {
        var alias: String
    }
}
