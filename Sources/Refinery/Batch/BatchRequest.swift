// What `refinery batch` asks for, what it reports while it goes, and how it ended.

import Foundation
public import RefineryCompiler

/// A batch to start: one run of `target` per item of `inputPath`.
public struct BatchRequest: Sendable {
    /// The default number of items run at once.
    public static let defaultConcurrency = 4

    /// Workflow name, `NAME@REV` or path.
    public var target: String
    /// The input: JSONL (one object a line) or CSV (a header row).
    public var inputPath: String
    /// The field holding the prompt; `nil` = the first of `question`, `prompt`, `input`.
    public var field: String?
    /// Command-line overrides (`--models`, `--budget` per item, `--var` ...); a row's other fields are
    /// added to the variables, the row winning.
    public var overrides: WorkflowOverrides
    /// Items run at once (default ``defaultConcurrency``); every provider limit applies across them.
    public var concurrency: Int
    /// The most the whole batch may spend, in US dollars; `nil` = no cap beyond each run's own budget.
    public var maxBudgetUSD: Double?
    /// Seed of the items' runs (item `i` gets a seed derived from it); `nil` picks one. Recorded.
    public var seed: UInt64?
    /// Where the CLI streams results (recorded so `batch resume` writes to the same file by default).
    public var output: String?
    /// Log provider requests and replies (credentials redacted) to stderr.
    public var debug: Bool

    /// Creates a request.
    public init(
        target: String, inputPath: String, field: String? = nil, overrides: WorkflowOverrides = WorkflowOverrides(),
        concurrency: Int = BatchRequest.defaultConcurrency, maxBudgetUSD: Double? = nil, seed: UInt64? = nil,
        output: String? = nil, debug: Bool = false
    ) {
        self.target = target
        self.inputPath = inputPath
        self.field = field
        self.overrides = overrides
        self.concurrency = concurrency
        self.maxBudgetUSD = maxBudgetUSD
        self.seed = seed
        self.output = output
        self.debug = debug
    }
}

/// How far a batch is, after each finished item.
public struct BatchProgress: Sendable, Hashable {
    /// Items done (an outcome recorded), earlier sessions included.
    public var done: Int
    /// Items in all.
    public var total: Int
    /// Dollars spent by the done items.
    public var costUSD: Double
    /// Seconds since this session started.
    public var elapsedSeconds: Double
    /// Seconds left at this session's pace; `nil` until an item finished.
    public var etaSeconds: Double?
}

/// How a batch (or one session of it) ended.
public struct BatchOutcome: Sendable, Hashable, Codable {
    /// The batch id (for `refinery batch resume`).
    public var batchID: String
    /// `batch` or `bench`.
    public var kind: String
    /// `finished`, `cancelled`, `budget_exhausted` or `failed` (an item failed; resume retries it).
    public var status: String
    /// Items done.
    public var done: Int
    /// Items in all.
    public var total: Int
    /// Items whose run failed, was cancelled or lost its quorum (resumable).
    public var unfinished: Int
    /// Dollars spent by the done items.
    @Dollars public var costUSD: Double
    /// Why launching stopped early, e.g. the budget line.
    public var stoppedBy: String?
    /// Where the results went, when the caller said (`--output`).
    public var output: String?
    /// The items this session did not start because launching stopped early (the budget, a cancellation), in
    /// input order: an item's id, with its system for a bench (`q3 (single:openai/gpt-4o)`).
    public var notStarted: [String] = []

    /// The process exit code: 0 when every item is done, else 1 (resume finishes the rest).
    public var exitCode: RunExitCode { status == "finished" ? .success : .failure }

    enum CodingKeys: String, CodingKey {
        case kind, status, done, total, unfinished, output
        case batchID = "batch_id"
        case costUSD = "cost_usd"
        case stoppedBy = "stopped_by"
    }
}

/// The cost of a whole batch before it runs: each item's estimate (its prompt's size), summed.
public struct BatchEstimate: Sendable, Hashable, Codable {
    /// Items of the input (a bench's dataset items, counted once however many systems run them).
    public var items: Int
    /// Full runs the batch makes: one per item, or per item and system for a bench.
    public var runs: Int
    /// Calls for min and max rounds.
    public var calls: EstimateRange<Int>
    /// Tokens for min and max rounds.
    public var tokens: WorkflowEstimate.TokenTotals
    /// Dollars for min and max rounds.
    public var costUSD: EstimateRange<Double>
    /// Models without a price in the catalog (their calls count as $0).
    public var unpricedModels: [String]
    /// A bench's estimate per system, in the order the command named them; `nil` for a batch.
    public var systems: [SystemEstimate]?

    /// One bench system's part of the estimate: its runs (one per item), calls, tokens and dollars.
    public struct SystemEstimate: Sendable, Hashable, Codable {
        /// The system as the command named it (`single:MODEL`, `vote`, a workflow).
        public var system: String
        /// Its runs: one per item.
        public var runs: Int
        /// Calls for min and max rounds.
        public var calls: EstimateRange<Int>
        /// Tokens for min and max rounds.
        public var tokens: WorkflowEstimate.TokenTotals
        /// Dollars for min and max rounds.
        public var costUSD: EstimateRange<Double>

        enum CodingKeys: String, CodingKey {
            case system, runs, calls, tokens
            case costUSD = "cost_usd"
        }
    }

    enum CodingKeys: String, CodingKey {
        case items, runs, calls, tokens, systems
        case costUSD = "cost_usd"
        case unpricedModels = "unpriced_models"
    }
}
