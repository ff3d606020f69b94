// `refinery bench SYSTEM... --dataset FILE`: every system on every item of a dataset, graded, then
// the comparison table; `refinery bench resume ID` finishes an interrupted bench and prints the same
// table. Benches are batches (`refinery batch list` lists them).

import ArgumentParser
import Foundation
import Refinery
import RefineryCommandSupport
import RefineryStore
import Synchronization

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Compare workflows and baselines on a dataset, graded, at known cost.",
        discussion: """
            refinery bench debate vote single:openai/gpt-4o vote:openai/gpt-4o:5 --dataset datasets/gsm8k-test.jsonl \\
              --models openai/gpt-4o,openai/gpt-4o-mini,openai/o3 --limit 100 --seed 1
            refinery bench resume ID          (finish an interrupted bench; prints the same table)
            """,
        subcommands: [Start.self, Resume.self], defaultSubcommand: Start.self)

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Run a bench (the default: `refinery bench SYSTEM...`).")

        @Argument(help: "Systems: workflows (name, path, NAME@REV) and baselines single:MODEL, vote, vote:MODEL:K.")
        var systems: [String] = []

        @Option(help: "The dataset: .jsonl (one object a line) or .csv (a header row).")
        var dataset: String

        @Option(help: "numeric (default), choice, exact, contains or regex:PATTERN (a row's `grader` field wins).")
        var grader = "numeric"

        @Option(help: "Run only N items: the first N, or a sample of N with --seed.")
        var limit: Int?

        @Option(help: "Seed of the --limit sample and of the runs (recorded).", transform: Seed.parse)
        var seed: UInt64?

        @Option(help: "The field holding the prompt (default: question, prompt or input).")
        var promptField: String?

        @Option(help: "The field holding the reference (default: answer, reference or target).")
        var referenceField: String?

        @OptionGroup var workflowOptions: WorkflowOptions
        @OptionGroup var batchOptions: BatchOptions
        @OptionGroup var storeOptions: StoreOptions

        @Option(
            help: "text, markdown, json (schemas/bench-output.schema.json) or jsonl (one line per item and system).")
        var outputFormat: OutputFormat = .text

        @Flag(help: "Print calls, tokens and dollars of the whole comparison and exit without calling any model.")
        var dryRun = false

        @Flag(
            help:
                "Enqueue the jobs in the shared store (postgres://) and print the bench id; `refinery worker` runs them."
        )
        var detach = false

        func validate() throws {
            try batchOptions.check(
                keeping: [KeptFile(path: dataset, role: "the dataset")]
                    + KeptFile.existing(systems, role: "a workflow") + KeptFile.store(storeOptions.runService()))
            try batchOptions.checkDetach(detach, dryRun: dryRun)
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
        }

        func run() async throws {
            try await withExitCode {
                let service = storeOptions.runService()
                let request = BenchRequest(
                    systems: systems, datasetPath: dataset, grader: grader, limit: limit, seed: seed,
                    promptField: promptField, referenceField: referenceField, overrides: workflowOptions.overrides,
                    concurrency: batchOptions.concurrency ?? BatchRequest.defaultConcurrency,
                    maxBudgetUSD: batchOptions.maxBudget, output: batchOptions.output, debug: batchOptions.debug)
                if dryRun {
                    let estimate = try await service.estimateBench(request)
                    switch outputFormat {
                    case .json, .jsonl: Output.line(try Output.json(estimate))
                    case .text, .markdown: Output.line(BatchDisplay.text(estimate))
                    }
                    return
                }
                if detach {
                    BatchDisplay.print(try await service.detachBench(request), format: outputFormat)
                    return
                }
                let format = outputFormat
                let (outcome, summary) = try await BenchDisplay.run(options: batchOptions, output: batchOptions.output)
                { progress, results in try await service.bench(request, progress: progress, results: results) }
                BenchDisplay.print(summary, format: format)
                throw ExitCode(outcome.exitCode.rawValue)
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume",
            abstract: "Finish an interrupted bench (done runs are not redone) and print its table.")

        @Argument(help: "Bench id (or a unique prefix).", transform: RecordID.bench)
        var id: String

        @OptionGroup var batchOptions: BatchOptions
        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "text, markdown, json or jsonl.")
        var outputFormat: OutputFormat = .text

        func validate() throws { try batchOptions.check(keeping: KeptFile.store(storeOptions.runService())) }

        func run() async throws {
            try await withExitCode {
                let service = storeOptions.runService()
                let (id, options, format) = (id, batchOptions, outputFormat)
                let output = try await options.resumedOutput(ofBatch: id, service: service)
                let (outcome, summary) = try await BenchDisplay.run(options: options, output: output) {
                    progress, results in
                    try await service.resumeBench(
                        id: id, concurrency: options.concurrency, maxBudgetUSD: options.maxBudget,
                        debug: options.debug, progress: progress, results: results)
                }
                BenchDisplay.print(summary, format: format)
                throw ExitCode(outcome.exitCode.rawValue)
            }
        }
    }
}

/// `bench`'s display: `BatchDisplay`'s progress and summary, per-item JSONL to `--output`, and the table.
enum BenchDisplay {
    static func run(
        options: BatchOptions, output: String?,
        _ body:
            @escaping @Sendable (
                _ progress: @escaping (BatchProgress) -> Void, _ results: (BenchItemResult) throws -> Void
            ) async throws -> (outcome: BatchOutcome, summary: BenchSummary)
    ) async throws -> (outcome: BatchOutcome, summary: BenchSummary) {
        let summary = Mutex<BenchSummary?>(nil)
        // The per-item lines go to --output only: stdout holds the table.
        let outcome = try await BatchDisplay.run(options: options, output: output, stdout: false, unit: "runs") {
            progress, write in
            let (outcome, table) = try await body(progress) { result in try write(result.jsonLine) }
            summary.withLock { $0 = table }
            return outcome
        }
        guard let table = summary.withLock({ $0 }) else { throw CancellationError() }
        return (outcome, table)
    }

    static func print(_ summary: BenchSummary, format: OutputFormat) {
        let rendered: BenchOutputFormat =
            switch format {
            case .text: .text
            case .markdown: .markdown
            case .json: .json
            case .jsonl: .jsonl
            }
        Output.write(summary.rendered(rendered))
    }
}
