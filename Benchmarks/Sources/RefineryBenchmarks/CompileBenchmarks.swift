// The `compile` section: the dry-run path of `refinery estimate NAME` — find a built-in, build its
// execution graph and estimate it. Budget: < 30 ms per workflow in release.

import RefineryCompiler

enum CompileBenchmarks {
    static let section = BenchmarkSection(
        name: "compile", summary: "locate a built-in, build its graph, estimate it (budget 30 ms)"
    ) { iterations in
        let library = WorkflowLibrary(folders: [], currentDirectory: "/")
        let compiler = library.compiler()
        return ["consensus", "consensus-classic", "consortium", "self-refine", "verify", "debate", "moa"].map { name in
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
        }
    }

    struct CompileFailed: Error {
        var name: String
    }
}
