// `refinery batch WORKFLOW --input FILE`, `refinery batch resume ID`, `refinery batch list`: one run
// per item of a JSONL or CSV file, results streamed as JSON lines (to --output, else stdout), progress
// on a terminal, and the summary on stderr.

import ArgumentParser
import Foundation
import Refinery
import RefineryCommandSupport
import RefineryStore

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Run a workflow once per item of a JSONL or CSV file.",
        discussion: """
            refinery batch review-loop --input questions.jsonl --output results.jsonl --concurrency 8
            refinery batch resume ID          (finish an interrupted batch; done items are not run again)
            refinery batch list               (batches and benches, newest first)
            refinery batch status ID          (progress, cost, budget and workers, from any machine)
            refinery batch WORKFLOW --input FILE --store postgres://... --detach   (enqueue for `refinery worker`)
            """,
        subcommands: [Start.self, Resume.self, List.self, Status.self], defaultSubcommand: Start.self)

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Run a workflow once per item (the default: `refinery batch WORKFLOW`).")

        @Argument(help: "The workflow: a name, NAME@REV or a path.")
        var workflow: String

        @Option(help: "The items: a .jsonl file (one object a line) or a .csv file (a header row).")
        var input: String

        @Option(help: "The field holding the prompt (default: question, prompt or input).")
        var field: String?

        @OptionGroup var workflowOptions: WorkflowOptions
        @OptionGroup var batchOptions: BatchOptions
        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "Seed of the items' runs (recorded).", transform: Seed.parse)
        var seed: UInt64?

        @Flag(help: "Print the cost of the whole batch and exit without calling any model.")
        var dryRun = false

        @Flag(
            help:
                "Enqueue the items in the shared store (postgres://) and print the batch id; `refinery worker` runs them."
        )
        var detach = false

        @Option(help: "text or json (the --dry-run estimate, the --detach batch id).")
        var outputFormat: OutputFormat = .text

        func validate() throws {
            try batchOptions.check(
                keeping: [KeptFile(path: input, role: "the input file")]
                    + KeptFile.existing([workflow], role: "the workflow") + KeptFile.store(storeOptions.runService()))
            try batchOptions.checkDetach(detach, dryRun: dryRun)
        }

        func run() async throws {
            try await withExitCode {
                let service = storeOptions.runService()
                let request = BatchRequest(
                    target: workflow, inputPath: input, field: field, overrides: workflowOptions.overrides,
                    concurrency: batchOptions.concurrency ?? BatchRequest.defaultConcurrency,
                    maxBudgetUSD: batchOptions.maxBudget, seed: seed, output: batchOptions.output,
                    debug: batchOptions.debug)
                if dryRun {
                    let estimate = try await service.estimateBatch(request)
                    switch outputFormat {
                    case .json, .jsonl: Output.line(try Output.json(estimate))
                    case .text, .markdown: Output.line(BatchDisplay.text(estimate))
                    }
                    return
                }
                if detach {
                    BatchDisplay.print(try await service.detachBatch(request), format: outputFormat)
                    return
                }
                let outcome = try await BatchDisplay.run(options: batchOptions, output: batchOptions.output) {
                    progress, write in
                    try await service.batch(request, progress: progress) { try write(try Output.jsonLine($0)) }
                }
                throw ExitCode(outcome.exitCode.rawValue)
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume",
            abstract: "Finish an interrupted batch: done items are not run again, no finished call is paid twice.")

        @Argument(help: "Batch id (or a unique prefix).", transform: RecordID.batch)
        var id: String

        @OptionGroup var batchOptions: BatchOptions
        @OptionGroup var storeOptions: StoreOptions

        func validate() throws { try batchOptions.check(keeping: KeptFile.store(storeOptions.runService())) }

        func run() async throws {
            try await withExitCode {
                let service = storeOptions.runService()
                let (id, options) = (id, batchOptions)
                let output = try await options.resumedOutput(ofBatch: id, service: service)
                let outcome = try await BatchDisplay.run(options: options, output: output) { progress, write in
                    try await service.resumeBatch(
                        id: id, concurrency: options.concurrency, maxBudgetUSD: options.maxBudget,
                        debug: options.debug, progress: progress
                    ) { try write(try Output.jsonLine($0)) }
                }
                throw ExitCode(outcome.exitCode.rawValue)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List batches and benches, newest first.")

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "How many to list.") var limit = 20
        @Option(help: "text or json.") var outputFormat: OutputFormat = .text

        func validate() throws {
            if limit < 1 { throw ValidationError("--limit must be at least 1.") }
        }

        func run() async throws {
            try await withExitCode {
                let batches = try await RunService.current(storePath: storeOptions.store).listBatches(limit: limit)
                if outputFormat == .json || outputFormat == .jsonl {
                    Output.line(try Output.json(batches))
                    return
                }
                if batches.isEmpty {
                    Output.line("No batches recorded yet.")
                    return
                }
                for batch in batches {
                    Output.line(
                        "\(batch.id)  \(TextFormat.date(batch.createdAt))  \(batch.kind)  \(batch.workflow)  "
                            + "\(batch.status)  \(batch.done)/\(batch.total)  \(TextFormat.dollars(batch.costUSD))")
                    if batch.status == RunService.interruptedStatus {
                        Output.line(BatchDisplay.interruptedHint(kind: batch.kind, id: batch.id))
                    }
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "How far a batch is: items done, failed and in flight, cost, budget and workers.")

        @Argument(help: "Batch id (or a unique prefix).", transform: RecordID.batch)
        var id: String

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "text or json.") var outputFormat: OutputFormat = .text

        func run() async throws {
            try await withExitCode {
                let status = try await RunService.current(storePath: storeOptions.store).batchStatus(id: id)
                if outputFormat == .json || outputFormat == .jsonl {
                    Output.line(try Output.json(status))
                    return
                }
                Output.line(BatchDisplay.text(status))
            }
        }
    }
}

/// Flags of `batch` and `batch resume`.
struct BatchOptions: ParsableArguments {
    @Option(help: "Write the results (one JSON object per item) to this file instead of stdout.")
    var output: String?

    @Option(help: "Items run at once (default \(BatchRequest.defaultConcurrency)); provider limits apply across them.")
    var concurrency: Int?

    @Option(help: "The most the whole batch may spend, in US dollars.")
    var maxBudget: Double?

    @Flag(name: .shortAndLong, help: "No progress display.")
    var quiet = false

    @Flag(help: "Log provider requests and replies (credentials redacted) to stderr.")
    var debug = false

    /// `--detach` enqueues: the workers' results stay in the ledger, nothing runs here.
    func checkDetach(_ detach: Bool, dryRun: Bool) throws {
        guard detach else { return }
        if dryRun { throw ValidationError("--detach and --dry-run do not go together: --dry-run enqueues nothing.") }
        if output != nil {
            throw ValidationError(
                "--output is not used with --detach: workers record the results in the ledger; "
                    + "`refinery batch status ID` shows how far they are.")
        }
    }

    /// The flags' values, and `--output` is none of `kept` (the input, the workflow, the ledger).
    func check(keeping kept: [KeptFile]) throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1.") }
        if let maxBudget, !(maxBudget > 0) || !maxBudget.isFinite {
            throw ValidationError("--max-budget must be a positive number of dollars.")
        }
        if let output, let problem = OutputOptions.unwritable(output, keeping: kept) {
            throw ValidationError("--output \(output): \(problem)")
        }
    }

    /// Where `batch resume` and `bench resume` write the results: `--output`, else where the batch wrote
    /// them; refused (exit 4) when that is the batch's input file, which the resume reads again.
    func resumedOutput(ofBatch id: String, service: RunService) async throws -> String? {
        let files = try await service.recordedFiles(ofBatch: id)
        guard let output = output ?? files.output else { return nil }
        if let problem = OutputOptions.unwritable(
            output, keeping: [KeptFile(path: files.input, role: "the input file")] + KeptFile.store(service))
        {
            throw InputError(code: .invalidOption, message: "--output \(output): \(problem)")
        }
        return output
    }
}
