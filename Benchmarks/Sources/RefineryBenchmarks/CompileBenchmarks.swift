// The `compile` section: the dry-run path of `refinery estimate NAME` — find a built-in, build its
// execution graph and estimate it. Budget: < 30 ms per workflow in release.

import RefineryCompiler

enum CompileBenchmarks {
    static let section = BenchmarkSection(
        name: "compile", summary: "locate a built-in, build its graph, estimate it (budget 30 ms)"
    ) { iterations in
        let library = WorkflowLibrary(folders: [], currentDirectory: "/")
        let compiler = library.compiler()
        let names = ["consensus", "consensus-classic", "consortium", "self-refine", "verify", "debate", "moa"]
        return try names.map { name in
            Benchmark(
                name: "\(name): locate + compile + graph + estimate", iterations: iterations, budgetMilliseconds: 30
            ) {
                let located = try library.locate(name: name)
                guard let workflow = compiler.compile(located.source).workflow else {
                    throw CompileFailed(name: name)
                }
                let graph = ExecutionGraph(workflow: workflow)
                let estimate = WorkflowEstimate.estimate(
                    workflow: workflow, graph: graph, catalog: .builtin, promptTokens: 500)
                precondition(estimate.calls.max > 0)
            }
        } + [wideAndLong(library: library, compiler: compiler, iterations: iterations)]
    }

    /// The largest workflow the format allows, 64 members × 1,000 rounds of consensus: the estimate's
    /// closed form (three rounds simulated, the rest computed) keeps it in milliseconds, not seconds.
    static func wideAndLong(library: WorkflowLibrary, compiler: WorkflowCompiler, iterations: Int) throws -> Benchmark {
        guard var workflow = compiler.compile(try library.locate(name: "consensus").source).workflow else {
            throw CompileFailed(name: "consensus")
        }
        let model = ModelRef(provider: "anthropic", model: "claude-opus-4-6")
        workflow.members = (1...64).map { Member(id: "m\($0)", model: model) }
        workflow.iterations = Iterations(min: 1, max: 1_000)
        let wide = workflow
        return Benchmark(
            name: "consensus, 64 members × 1,000 rounds: graph + estimate", iterations: max(iterations / 10, 1),
            budgetMilliseconds: 100
        ) {
            let estimate = WorkflowEstimate.estimate(
                workflow: wide, graph: ExecutionGraph(workflow: wide), catalog: .builtin, promptTokens: 500)
            precondition(estimate.calls.max == 64 * 64 * 1_000)
        }
    }

    struct CompileFailed: Error {
        var name: String
    }
}
