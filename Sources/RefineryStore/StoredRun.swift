// The run-level values the store keeps: what `refinery runs list|show|export` print and what
// `resume` needs to rerun a workflow exactly as it first ran.

public import Foundation
public import RefineryCompiler
public import RefineryRuntime

/// One run as recorded in the store.
public struct StoredRun: Sendable, Hashable, Codable {
    /// Run id (a UUID string unless the caller chose one).
    public var id: String
    /// The workflow's name.
    public var workflowName: String
    /// `running` until the run ends, then the outcome status (`converged`, `max_rounds`, ...).
    public var status: String
    /// The prompt the run was given, as assembled (files included).
    public var prompt: String
    /// SHA-256 (hex) of ``prompt``.
    public var promptHash: String
    /// The checked workflow that ran, after CLI overrides: `resume` reruns exactly this.
    public var workflow: Workflow
    /// Where the workflow came from (path, content hash, git commit and dirty flag, revision, extends chain).
    public var provenance: Provenance
    /// Seed of the run's random choices (label shuffles, anonymization).
    public var seed: UInt64
    /// Mustache variables given with `--var`.
    public var variables: [String: String]
    /// Anonymization map (reviewer → label → member), once the engine reports it.
    public var anonymization: [String: [String: String]]
    /// The outcome as JSON text (the CLI's JSON output), once the run ended.
    public var outcomeJSON: String?
    /// Total cost in US dollars.
    @Dollars public var costUSD: Double
    /// Total input tokens.
    public var inputTokens: Int
    /// Total output tokens.
    public var outputTokens: Int
    /// The process exit code the run ended with.
    public var exitCode: Int?
    /// When the run started.
    public var startedAt: Date
    /// When the run ended.
    public var finishedAt: Date?

    /// Creates a run record.
    public init(
        id: String, workflowName: String, status: String = "running", prompt: String, promptHash: String,
        workflow: Workflow, provenance: Provenance, seed: UInt64, variables: [String: String] = [:],
        anonymization: [String: [String: String]] = [:], outcomeJSON: String? = nil, costUSD: Double = 0,
        inputTokens: Int = 0, outputTokens: Int = 0, exitCode: Int? = nil, startedAt: Date, finishedAt: Date? = nil
    ) {
        self.id = id
        self.workflowName = workflowName
        self.status = status
        self.prompt = prompt
        self.promptHash = promptHash
        self.workflow = workflow
        self.provenance = provenance
        self.seed = seed
        self.variables = variables
        self.anonymization = anonymization
        self.outcomeJSON = outcomeJSON
        self.costUSD = costUSD
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.exitCode = exitCode
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, status, prompt, workflow, provenance, seed, variables, anonymization
        case workflowName = "workflow_name"
        case promptHash = "prompt_hash"
        case outcomeJSON = "outcome_json"
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case exitCode = "exit_code"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// `provider/model` of every member, then the arbiter's as `arbiter`, as recorded.
    public var resolvedModels: [String: String] {
        var models: [String: String] = [:]
        for member in workflow.members { models[member.id] = member.model.description }
        if let arbiter = workflow.arbiter { models["arbiter"] = arbiter.model.description }
        return models
    }
}

/// How a run ended, written when it finishes.
public struct RunCompletion: Sendable, Hashable {
    /// Final status (`converged`, `max_rounds`, `quorum_failed`, `failed`, `cancelled`).
    public var status: String
    /// The outcome as JSON text.
    public var outcomeJSON: String?
    /// Total cost in US dollars.
    public var costUSD: Double
    /// Total input tokens.
    public var inputTokens: Int
    /// Total output tokens.
    public var outputTokens: Int
    /// The process exit code.
    public var exitCode: Int
    /// When the run ended.
    public var finishedAt: Date
    /// Anonymization map, if the engine reported one.
    public var anonymization: [String: [String: String]]

    /// Creates a completion.
    public init(
        status: String, outcomeJSON: String?, costUSD: Double, inputTokens: Int, outputTokens: Int, exitCode: Int,
        finishedAt: Date, anonymization: [String: [String: String]] = [:]
    ) {
        self.status = status
        self.outcomeJSON = outcomeJSON
        self.costUSD = costUSD
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.exitCode = exitCode
        self.finishedAt = finishedAt
        self.anonymization = anonymization
    }
}

/// A line of `refinery runs list`.
public struct RunSummary: Sendable, Hashable, Codable {
    /// Run id.
    public var id: String
    /// Workflow name.
    public var workflow: String
    /// Status.
    public var status: String
    /// When the run started.
    public var startedAt: Date
    /// When it ended.
    public var finishedAt: Date?
    /// Cost in US dollars.
    @Dollars public var costUSD: Double
    /// Calls made, as the run's `total_calls` counts them (``CallStatus/isCall``): replays, billed retried
    /// attempts and abandoned calls excluded.
    public var calls: Int
    /// Git commit of the workflow's repository, when known.
    public var gitCommit: String?

    /// Creates a summary.
    public init(
        id: String, workflow: String, status: String, startedAt: Date, finishedAt: Date?, costUSD: Double,
        calls: Int, gitCommit: String?
    ) {
        self.id = id
        self.workflow = workflow
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.costUSD = costUSD
        self.calls = calls
        self.gitCommit = gitCommit
    }

    enum CodingKeys: String, CodingKey {
        case id, workflow, status, calls
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case costUSD = "cost_usd"
        case gitCommit = "git_commit"
    }
}

/// The close decision of one round.
public struct RoundRecord: Sendable, Hashable, Codable {
    /// Round number (from 1).
    public var round: Int
    /// The decision as JSON text.
    public var decisionJSON: String
    /// When it was recorded.
    public var recordedAt: Date

    /// Creates a round record.
    public init(round: Int, decisionJSON: String, recordedAt: Date) {
        self.round = round
        self.decisionJSON = decisionJSON
        self.recordedAt = recordedAt
    }

    enum CodingKeys: String, CodingKey {
        case round
        case decisionJSON = "decision_json"
        case recordedAt = "recorded_at"
    }
}

/// Everything the store holds about one run (`refinery runs export`).
public struct RunExport: Sendable, Hashable, Codable {
    /// The run.
    public var run: StoredRun
    /// Its rounds, in order.
    public var rounds: [RoundRecord]
    /// Its calls, in recording order.
    public var calls: [CallRecord]
    /// `STAGE:SHA256` of every prompt template override the workflow used, as recorded with the run.
    public var templateHashes: [String]

    /// Creates an export.
    public init(run: StoredRun, rounds: [RoundRecord], calls: [CallRecord], templateHashes: [String] = []) {
        self.run = run
        self.rounds = rounds
        self.calls = calls
        self.templateHashes = templateHashes
    }

    enum CodingKeys: String, CodingKey {
        case run, rounds, calls
        case templateHashes = "template_hashes"
    }
}
