// RefineryBenchmarks: `swift run -c release RefineryBenchmarks [SECTION...] [--iterations N]`.
// Sections: `compile` (this layer); runtime sections are added by the engine. Exit status 1 when a
// benchmark's median exceeds its budget.

let sections: [BenchmarkSection] = [CompileBenchmarks.section]

var arguments = Array(CommandLine.arguments.dropFirst())
var iterations = 200
if let flag = arguments.firstIndex(of: "--iterations"), flag + 1 < arguments.count,
    let value = Int(arguments[flag + 1]), value > 0
{
    iterations = value
    arguments.removeSubrange(flag...(flag + 1))
}
if arguments.contains("--help") || arguments.contains("-h") {
    print("usage: RefineryBenchmarks [SECTION...] [--iterations N]")
    for section in sections { print("  \(section.name): \(section.summary)") }
    exit(status: 0)
}
let unknown = arguments.filter { name in !sections.contains { $0.name == name } }
if !unknown.isEmpty {
    print(
        "unknown section(s): \(unknown.joined(separator: ", ")); known: \(sections.map(\.name).joined(separator: ", "))"
    )
    exit(status: 64)
}
let selected = arguments.isEmpty ? sections : sections.filter { arguments.contains($0.name) }
var overBudget = false
for section in selected {
    print("[\(section.name)] \(iterations) iterations each")
    do {
        for benchmark in try section.benchmarks(iterations) {
            let samples = try benchmark.measure()
            let median = percentile(samples, 0.5)
            let p95 = percentile(samples, 0.95)
            var line = "  \(benchmark.name): median \(formatMilliseconds(median)), p95 \(formatMilliseconds(p95))"
            if let budget = benchmark.budgetMilliseconds {
                let ok = median < budget
                overBudget = overBudget || !ok
                line += ok ? " (budget \(Int(budget)) ms: ok)" : " (OVER the \(Int(budget)) ms budget)"
            }
            print(line)
        }
    } catch {
        print("  failed: \(error)")
        overBudget = true
    }
}
exit(status: overBudget ? 1 : 0)
