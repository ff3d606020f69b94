// The persistence port of `refinery batch` and `refinery bench`: a batch row (what ran over which
// input, how far it got) and one row per job (an item, or an item × system for a bench), written as
// each job finishes. The runner depends on this protocol, not on SQLite, so another store (a shared
// PostgreSQL one for several workers) can hold batches too.

public import Foundation
public import RefineryCompiler

/// A batch (or bench) as recorded: what it runs, over which input, and what `resume` needs.
public struct BatchRecord: Sendable, Hashable, Codable {
    /// The batch id (a lowercase UUID unless the caller chose one).
    public var id: String
    /// `batch` or `bench`.
    public var kind: String
    /// `running`, `finished`, `cancelled`, `budget_exhausted` or `failed`.
    public var status: String
    /// When the batch was created.
    public var createdAt: Date
    /// What runs: the workflow for a batch, the systems (comma-separated) for a bench.
    public var workflow: String
    /// Everything `resume` needs to rebuild the jobs (flags, workflows' revisions), as JSON. Opaque to
    /// the store.
    public var specJSON: String
    /// The input file (dataset) as given.
    public var inputPath: String
    /// SHA-256 (hex) of the input file's bytes: `resume` refuses a file that changed.
    public var inputSHA256: String
    /// Number of jobs.
    public var total: Int

    /// Creates a batch record.
    public init(
        id: String, kind: String, status: String = "running", createdAt: Date, workflow: String, specJSON: String,
        inputPath: String, inputSHA256: String, total: Int
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.createdAt = createdAt
        self.workflow = workflow
        self.specJSON = specJSON
        self.inputPath = inputPath
        self.inputSHA256 = inputSHA256
        self.total = total
    }
}

/// One job of a batch: an input item (for a bench, an item run by one system) and how its run ended.
public struct BatchItemRecord: Sendable, Hashable, Codable {
    /// The batch it belongs to.
    public var batchID: String
    /// The item's id (its `id` field, else its line number).
    public var itemID: String
    /// The system that ran it (bench); empty for a batch.
    public var system: String
    /// The item's position in the input (0-based): results list in this order.
    public var position: Int
    /// The run that answers it.
    public var runID: String
    /// `running` while in flight, then the run's status (`converged`, `max_rounds`, `cancelled`, ...).
    public var status: String
    /// The selected answer, when the run produced one.
    public var answer: String?
    /// The value the grader read from the answer (bench).
    public var extractedAnswer: String?
    /// Whether the answer is correct (bench); `nil` when not graded.
    public var correct: Bool?
    /// Cost in US dollars.
    @Dollars public var costUSD: Double
    /// Model calls made.
    public var calls: Int
    /// Input tokens.
    public var inputTokens: Int
    /// Output tokens.
    public var outputTokens: Int
    /// Wall time of the run, in milliseconds.
    public var latencyMs: Int
    /// Why the run failed, when it did.
    public var error: String?
    /// When the run ended.
    public var finishedAt: Date?
    /// What produced the answer, as the run's result says (`nil` before the run ended, or without an answer).
    public var origin: AnswerOrigin?

    /// Creates an item record.
    public init(
        batchID: String, itemID: String, system: String = "", position: Int, runID: String, status: String,
        answer: String? = nil, extractedAnswer: String? = nil, correct: Bool? = nil, costUSD: Double = 0,
        calls: Int = 0, inputTokens: Int = 0, outputTokens: Int = 0, latencyMs: Int = 0, error: String? = nil,
        finishedAt: Date? = nil, origin: AnswerOrigin? = nil
    ) {
        self.batchID = batchID
        self.itemID = itemID
        self.system = system
        self.position = position
        self.runID = runID
        self.status = status
        self.answer = answer
        self.extractedAnswer = extractedAnswer
        self.correct = correct
        self.costUSD = costUSD
        self.calls = calls
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.latencyMs = latencyMs
        self.error = error
        self.finishedAt = finishedAt
        self.origin = origin
    }

    enum CodingKeys: String, CodingKey {
        case system, position, status, answer, correct, calls, error
        case batchID = "batch_id"
        case itemID = "item_id"
        case runID = "run_id"
        case extractedAnswer = "extracted_answer"
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case latencyMs = "latency_ms"
        case finishedAt = "finished_at"
    }

    /// Decodes a record; `system` absent reads as a batch's (empty), the origin's keys as none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            batchID: try container.decode(String.self, forKey: .batchID),
            itemID: try container.decode(String.self, forKey: .itemID),
            system: try container.decodeIfPresent(String.self, forKey: .system) ?? "",
            position: try container.decode(Int.self, forKey: .position),
            runID: try container.decode(String.self, forKey: .runID),
            status: try container.decode(String.self, forKey: .status),
            answer: try container.decodeIfPresent(String.self, forKey: .answer),
            extractedAnswer: try container.decodeIfPresent(String.self, forKey: .extractedAnswer),
            correct: try container.decodeIfPresent(Bool.self, forKey: .correct),
            costUSD: try container.decode(Double.self, forKey: .costUSD),
            calls: try container.decode(Int.self, forKey: .calls),
            inputTokens: try container.decode(Int.self, forKey: .inputTokens),
            outputTokens: try container.decode(Int.self, forKey: .outputTokens),
            latencyMs: try container.decode(Int.self, forKey: .latencyMs),
            error: try container.decodeIfPresent(String.self, forKey: .error),
            finishedAt: try container.decodeIfPresent(Date.self, forKey: .finishedAt),
            origin: try? AnswerOrigin(from: decoder))
    }

    /// Encodes a result line: `system` only for a bench's job (a batch's is empty), and the origin's keys
    /// beside the others, as a run's own JSON names them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(batchID, forKey: .batchID)
        try container.encode(itemID, forKey: .itemID)
        if !system.isEmpty { try container.encode(system, forKey: .system) }
        try container.encode(position, forKey: .position)
        try container.encode(runID, forKey: .runID)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(answer, forKey: .answer)
        try container.encodeIfPresent(extractedAnswer, forKey: .extractedAnswer)
        try container.encodeIfPresent(correct, forKey: .correct)
        try container.encode(Dollars.rounded(costUSD), forKey: .costUSD)
        try container.encode(calls, forKey: .calls)
        try container.encode(inputTokens, forKey: .inputTokens)
        try container.encode(outputTokens, forKey: .outputTokens)
        try container.encode(latencyMs, forKey: .latencyMs)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(finishedAt, forKey: .finishedAt)
        try origin?.encode(to: encoder)
    }
}

/// What produced a run's answer, as the run's own JSON says (`winner` and `coverage`): the model that wrote it
/// (a fallback model when the configured one failed for good) and whether the run lost members, calls or
/// reviews on the way. Batch and bench result lines carry it beside their own keys, and the ledger keeps it
/// with each item, so a line read back on resume says the same.
public struct AnswerOrigin: Sendable, Hashable, Codable {
    /// `provider/model` that produced the answer (`winner.model_id`).
    public var modelID: String
    /// The member id, or `arbiter` (`winner.member_id`).
    public var memberID: String
    /// The configured `provider/model` that failed, when a fallback produced the answer (`winner.fallback_from`).
    public var fallbackFrom: String?
    /// Whether the answer is only the best so far, or the run lost members, calls or reviews
    /// (`winner.degraded` or `coverage.degraded`).
    public var degraded: Bool
    /// Why it is degraded, one sentence each (`coverage.reasons`); empty when it is not.
    public var degradedReasons: [String]

    /// Creates an origin.
    public init(
        modelID: String, memberID: String, fallbackFrom: String? = nil, degraded: Bool = false,
        degradedReasons: [String] = []
    ) {
        self.modelID = modelID
        self.memberID = memberID
        self.fallbackFrom = fallbackFrom
        self.degraded = degraded
        self.degradedReasons = degradedReasons
    }

    /// Decodes an origin; without `model_id` there is none (a line or row of an item without an answer).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            modelID: try container.decode(String.self, forKey: .modelID),
            memberID: try container.decode(String.self, forKey: .memberID),
            fallbackFrom: try container.decodeIfPresent(String.self, forKey: .fallbackFrom),
            degraded: try container.decodeIfPresent(Bool.self, forKey: .degraded) ?? false,
            degradedReasons: try container.decodeIfPresent([String].self, forKey: .degradedReasons) ?? [])
    }

    /// Encodes `fallback_from` only when a fallback answered and `degraded_reasons` only when there are some.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(modelID, forKey: .modelID)
        try container.encode(memberID, forKey: .memberID)
        try container.encodeIfPresent(fallbackFrom, forKey: .fallbackFrom)
        try container.encode(degraded, forKey: .degraded)
        if !degradedReasons.isEmpty { try container.encode(degradedReasons, forKey: .degradedReasons) }
    }

    /// As JSON (the ledger's `origin` column).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain strings and booleans cannot fail to encode.
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// From the ledger's `origin` column; `nil` for none or an unreadable one.
    public init?(json: String?) {
        guard let json, let origin = try? JSONDecoder().decode(AnswerOrigin.self, from: Data(json.utf8)) else {
            return nil
        }
        self = origin
    }

    enum CodingKeys: String, CodingKey {
        case degraded
        case modelID = "model_id"
        case memberID = "member_id"
        case fallbackFrom = "fallback_from"
        case degradedReasons = "degraded_reasons"
    }
}

/// A line of `refinery batch list`.
public struct BatchSummary: Sendable, Hashable, Codable {
    /// The batch id.
    public var id: String
    /// `batch` or `bench`.
    public var kind: String
    /// The batch's status: as recorded (``BatchRecord/status``), or `interrupted` for one recorded `running`
    /// that no live process owns (`batch resume` finishes it).
    public var status: String
    /// When it was created.
    public var createdAt: Date
    /// The workflow (or the systems of a bench).
    public var workflow: String
    /// The input file.
    public var input: String
    /// Jobs finished (an outcome recorded, not resumable).
    public var done: Int
    /// Jobs in all.
    public var total: Int
    /// Dollars spent by its jobs.
    @Dollars public var costUSD: Double

    /// Creates a summary.
    public init(
        id: String, kind: String, status: String, createdAt: Date, workflow: String, input: String, done: Int,
        total: Int, costUSD: Double
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.createdAt = createdAt
        self.workflow = workflow
        self.input = input
        self.done = done
        self.total = total
        self.costUSD = costUSD
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, status, workflow, input, done, total
        case createdAt = "created_at"
        case costUSD = "cost_usd"
    }
}

/// Where batches and their jobs are recorded. Part of every ``RunStore`` (SQLite and PostgreSQL), next to
/// the runs its jobs record.
public protocol BatchLedger: Sendable {
    /// Inserts a new batch.
    func createBatch(_ batch: BatchRecord) async throws
    /// The batch with this id, or the only batch whose id starts with it.
    func batch(id: String) async throws -> BatchRecord
    /// Sets a batch's status.
    func setBatchStatus(id: String, status: String) async throws
    /// Inserts or replaces the row of one job (keyed on batch, system and item).
    func recordItem(_ item: BatchItemRecord) async throws
    /// The jobs recorded for a batch, in input order (then by system). A job whose status is in `unfinished`
    /// has no result yet (in flight, cancelled, its process killed): it carries what its run's finished calls
    /// spent instead (their cost and tokens, calls served from the ledger excluded), as `runs list` counts
    /// that run. One query, however many jobs are unfinished (`batch status` and `refinery report BATCH_ID`
    /// of a batch with thousands of them).
    func items(batchID: String, spendingOf unfinished: Set<String>) async throws -> [BatchItemRecord]
    /// Batches and benches, newest first. `resumable` lists the job statuses that do not count as done; such a
    /// job's cost is what its run's finished calls cost (its own is recorded with its result).
    func listBatches(limit: Int, resumable: Set<String>) async throws -> [BatchSummary]
}

extension BatchLedger {
    /// The jobs recorded for a batch, in input order (then by system), each as its row holds it.
    public func items(batchID: String) async throws -> [BatchItemRecord] {
        try await items(batchID: batchID, spendingOf: [])
    }
}
