// Row types mapping the public values to the tables. GRDB stays an implementation detail:
// nothing here is public.

import Foundation
import GRDB
import RefineryCompiler
import RefineryRuntime

struct CallRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "calls"

    var id: Int64?
    var runID: String
    var round: Int
    var node: String
    var participant: String
    var requestHash: String
    var request: ModelRequest
    var response: ModelReply?
    var inputTokens: Int
    var outputTokens: Int
    var latencyMs: Int
    var costUSD: Double
    var attempts: Int
    var status: String
    var error: String?
    var startedAt: Date
    var finishedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, round, node, participant, request, response, attempts, status, error
        case runID = "run_id"
        case requestHash = "request_hash"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case latencyMs = "latency_ms"
        case costUSD = "cost_usd"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// The request's JSON as the engine encoded it, when it did (see ``CallRecord/requestJSON``).
    var requestJSON: String?

    init(_ call: CallRecord, redactor: Redactor) {
        id = nil
        requestJSON = call.requestJSON
        runID = call.runID
        round = call.round
        node = call.node
        participant = call.participant
        requestHash = call.requestHash
        request = call.request
        response = call.reply
        inputTokens = call.reply?.usage.inputTokens ?? 0
        outputTokens = call.reply?.usage.outputTokens ?? 0
        latencyMs = call.latencyMs
        costUSD = call.costUSD
        attempts = call.attempts
        status = call.status.rawValue
        error = call.error.map(redactor.redact)
        startedAt = call.startedAt
        finishedAt = call.finishedAt
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// `INSERT OR IGNORE` of a call, for ``insertArguments()``: the ledger writes calls with one cached
    /// statement instead of GRDB's record encoding, which JSON-encoded them on the single writer queue.
    static let insertSQL = """
        INSERT OR IGNORE INTO calls (run_id, round, node, participant, request_hash, request, response,
            input_tokens, output_tokens, latency_ms, cost_usd, attempts, status, error, started_at, finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The values of ``insertSQL``, JSON columns encoded exactly as GRDB encodes them for this record
    /// (the same text a record insert writes), computed by the caller rather than the writer.
    func insertArguments() throws -> [DatabaseValue] {
        [
            runID.databaseValue, round.databaseValue, node.databaseValue, participant.databaseValue,
            requestHash.databaseValue, try requestJSON.map(\.databaseValue) ?? Self.json(request, column: "request"),
            response.map(Self.replyJSON) ?? .null, inputTokens.databaseValue,
            outputTokens.databaseValue, latencyMs.databaseValue, costUSD.databaseValue, attempts.databaseValue,
            status.databaseValue, error.databaseValue, LedgerDate.value(startedAt), LedgerDate.value(finishedAt),
        ]
    }

    /// The reply's JSON as GRDB's encoder writes it for this record (sorted keys, `/` escaped as `\/`),
    /// written by `JSONValue`'s writer: encoding it through `Codable` and `JSONEncoder` was 1.7 % of
    /// `refinery`'s CPU per call at N = 50 (Benchmarks/README.md, real path). `LedgerRowsTests` compares
    /// the two.
    static func replyJSON(_ reply: ModelReply) -> DatabaseValue {
        // Counts are within 0...2⁴⁰ (`TokenUsage`), which the writer spells as the integers JSONEncoder wrote.
        // The cache counts only when there are any, as `TokenUsage` encodes them, in the encoder's key order.
        var usage: [(key: String, value: JSONValue)] = []
        if reply.usage.cacheWrite1hTokens > 0 {
            usage.append(("cacheWrite1hTokens", .number(Double(reply.usage.cacheWrite1hTokens))))
        }
        if reply.usage.cacheWriteTokens > 0 {
            usage.append(("cacheWriteTokens", .number(Double(reply.usage.cacheWriteTokens))))
        }
        if reply.usage.cachedInputTokens > 0 {
            usage.append(("cachedInputTokens", .number(Double(reply.usage.cachedInputTokens))))
        }
        usage += [
            ("inputTokens", .number(Double(reply.usage.inputTokens))), ("isEstimated", .bool(reply.usage.isEstimated)),
            ("outputTokens", .number(Double(reply.usage.outputTokens))),
        ]
        var pairs: [(key: String, value: JSONValue)] = []
        if let finishReason = reply.finishReason { pairs.append(("finishReason", .string(finishReason))) }
        if let model = reply.model { pairs.append(("model", .string(model))) }
        if let mode = reply.structuredMode { pairs.append(("structuredMode", .string(mode))) }
        pairs.append(("text", .string(reply.text)))
        pairs.append(("usage", .object(usage)))
        var output = JSONOutput(capacity: reply.text.utf8.count + 160)
        _ = JSONValue.object(pairs).write(into: &output, escapingSlashes: true)  // no number here is non-finite
        return output.text.databaseValue
    }

    var record: CallRecord {
        CallRecord(
            runID: runID, round: round, node: node, participant: participant, requestHash: requestHash,
            request: request, reply: response, error: error, status: CallStatus(rawValue: status) ?? .failed,
            attempts: attempts, latencyMs: latencyMs, costUSD: costUSD, startedAt: startedAt, finishedAt: finishedAt)
    }
}

struct RunRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "runs"

    var id: String
    var workflowName: String
    var status: String
    var prompt: String
    var promptHash: String
    var workflow: Workflow
    var provenance: Provenance
    var resolvedModels: [String: String]
    var params: [String: ModelParams]
    var templateHashes: [String]
    // Text: SQLite integers are signed, seeds are not.
    var seed: String
    var variables: [String: String]
    var anonymization: [String: [String: String]]
    var outcome: String?
    var costUSD: Double
    var inputTokens: Int
    var outputTokens: Int
    var exitCode: Int?
    var startedAt: Date
    var finishedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, status, prompt, workflow, provenance, params, seed, variables, anonymization, outcome
        case workflowName = "workflow_name"
        case promptHash = "prompt_hash"
        case resolvedModels = "resolved_models"
        case templateHashes = "template_hashes"
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case exitCode = "exit_code"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    init(_ run: StoredRun) {
        id = run.id
        workflowName = run.workflowName
        status = run.status
        prompt = run.prompt
        promptHash = run.promptHash
        workflow = run.workflow
        provenance = run.provenance
        resolvedModels = run.resolvedModels
        var params: [String: ModelParams] = [:]
        for member in run.workflow.members { params[member.id] = member.params }
        if let arbiter = run.workflow.arbiter { params["arbiter"] = arbiter.params }
        self.params = params
        templateHashes = Self.templateHashes(run.workflow.stages)
        seed = String(run.seed)
        variables = run.variables
        anonymization = run.anonymization
        outcome = run.outcomeJSON
        costUSD = run.costUSD
        inputTokens = run.inputTokens
        outputTokens = run.outputTokens
        exitCode = run.exitCode
        startedAt = run.startedAt
        finishedAt = run.finishedAt
    }

    var run: StoredRun {
        StoredRun(
            id: id, workflowName: workflowName, status: status, prompt: prompt, promptHash: promptHash,
            workflow: workflow, provenance: provenance, seed: UInt64(seed) ?? 0, variables: variables,
            anonymization: anonymization, outcomeJSON: outcome, costUSD: costUSD, inputTokens: inputTokens,
            outputTokens: outputTokens, exitCode: exitCode, startedAt: startedAt, finishedAt: finishedAt)
    }

    /// `INSERT` of a new run, for ``insertArguments()``: the values are computed by the caller, not by
    /// GRDB's record encoding on the single writer queue (every run of a batch writes one).
    static let insertSQL = """
        INSERT INTO runs (id, workflow_name, status, prompt, prompt_hash, workflow, provenance, resolved_models,
            params, template_hashes, seed, variables, anonymization, outcome, cost_usd, input_tokens, output_tokens,
            exit_code, started_at, finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The values of ``insertSQL``, each as a GRDB record insert writes it: JSON columns with GRDB's
    /// encoder for the column, dates in its text format.
    func insertArguments() throws -> [DatabaseValue] {
        [
            id.databaseValue, workflowName.databaseValue, status.databaseValue, prompt.databaseValue,
            promptHash.databaseValue, try Self.json(workflow, column: "workflow"),
            try Self.json(provenance, column: "provenance"),
            try Self.json(resolvedModels, column: "resolved_models"), try Self.json(params, column: "params"),
            try Self.json(templateHashes, column: "template_hashes"), seed.databaseValue,
            try Self.json(variables, column: "variables"), try Self.json(anonymization, column: "anonymization"),
            outcome.databaseValue, costUSD.databaseValue, inputTokens.databaseValue, outputTokens.databaseValue,
            exitCode.databaseValue, LedgerDate.value(startedAt), finishedAt.map(LedgerDate.value) ?? .null,
        ]
    }

    static func templateHashes(_ stages: [Stage]) -> [String] {
        stages.flatMap { stage -> [String] in
            if case .repeat(let inner) = stage { return templateHashes(inner) }
            return stage.common?.prompt?.sha256.map { ["\(stage.keyword):\($0)"] } ?? []
        }
    }
}

struct RoundRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "rounds"

    var runID: String
    var round: Int
    var decision: String
    var recordedAt: Date

    enum CodingKeys: String, CodingKey {
        case round, decision
        case runID = "run_id"
        case recordedAt = "recorded_at"
    }
}

extension EncodableRecord {
    /// `value` as a record insert writes it into a JSON column: GRDB's encoder for the column, as text.
    static func json<T: Encodable>(_ value: T, column: String) throws -> DatabaseValue {
        String(decoding: try databaseJSONEncoder(for: column).encode(value), as: UTF8.self).databaseValue
    }
}
