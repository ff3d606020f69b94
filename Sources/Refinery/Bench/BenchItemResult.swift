// One system's result on one dataset item: what a bench keeps per run (and streams as a JSONL line),
// graded from the run's result document so a finished run read back from the ledger grades the same.

import Foundation
import RefineryCompiler
package import RefineryStore

/// The graded result of one run: one system on one dataset item.
///
/// Encoded (JSON, snake_case keys) it is one line of the bench's per-item JSONL output and what a bench
/// records per item, so a resumed bench summarises the same values as an uninterrupted one.
package struct BenchItemResult: Sendable, Hashable, Codable {
    /// The dataset item's id (``DatasetItem/id``).
    package var itemID: String
    /// The system's ``BenchSystem/name``.
    package var system: String
    /// The extracted answer that was graded; `nil` when the run gave nothing the grader could read.
    package var answer: String?
    /// Whether ``answer`` matches the item's reference.
    package var correct: Bool
    /// The run's status (`converged`, `single_model`, `max_rounds`, ..., `failed`).
    package var status: String
    /// Cost in US dollars.
    package var costUSD: Double
    /// Model calls made (replayed calls included).
    package var calls: Int
    /// Input tokens.
    package var inputTokens: Int
    /// Output tokens.
    package var outputTokens: Int
    /// Wall time of the run in seconds.
    package var latencySeconds: Double
    /// The run's id in the ledger, when a run was started.
    package var runID: String?
    /// What produced the run's answer (the model, a fallback, degraded coverage), as its result says.
    package var origin: AnswerOrigin?

    /// Whether the run gave no answer the grader could read (it counts as incorrect).
    package var unanswered: Bool { answer == nil }

    /// Creates a result; a run that failed before it had a result document has `answer` `nil`.
    package init(
        itemID: String, system: String, answer: String?, correct: Bool, status: String, costUSD: Double = 0,
        calls: Int = 0, inputTokens: Int = 0, outputTokens: Int = 0, latencySeconds: Double = 0, runID: String? = nil,
        origin: AnswerOrigin? = nil
    ) {
        self.itemID = itemID
        self.system = system
        self.answer = answer
        self.correct = correct
        self.status = status
        self.costUSD = costUSD
        self.calls = calls
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.latencySeconds = latencySeconds
        self.runID = runID
        self.origin = origin
    }

    /// Grades a finished run of `system` on `item`.
    ///
    /// The graded text is the winner of the workflow's last `vote` stage when it has one (a vote that
    /// produced no winner leaves the item unanswered), else the final answer. The item's own grader
    /// (`grader` column) wins over `grader`; an item without a reference is never correct.
    package init(grading report: RunReport, item: DatasetItem, system: String, grader: Grader) {
        let text: String? = if let vote = report.vote { vote.winner } else { report.winner?.answer }
        let graded = text.map { (item.grader ?? grader).grade($0, reference: item.reference ?? "") }
        self.init(
            itemID: item.id, system: system, answer: graded?.extracted,
            correct: item.reference != nil && graded?.correct == true, status: report.status,
            costUSD: report.costUSD, calls: report.metadata.totalCalls, inputTokens: report.tokens.input,
            outputTokens: report.tokens.output, latencySeconds: Double(report.metadata.elapsedMs) / 1000,
            runID: report.runID, origin: report.origin)
    }

    /// The result as one line of JSON (sorted keys, no newline): a line of the per-item JSONL output.
    package var jsonLine: String {
        // Encoding plain strings, numbers and booleans cannot fail.
        (try? OutputJSON.text(self)) ?? "{}"
    }

    enum CodingKeys: String, CodingKey {
        case system, answer, correct, status, calls, unanswered
        case itemID = "id"
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case latencySeconds = "latency_seconds"
        case runID = "run_id"
    }

    /// Decodes a result; `unanswered` is derived from `answer` and not read.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            itemID: try container.decode(String.self, forKey: .itemID),
            system: try container.decode(String.self, forKey: .system),
            answer: try container.decodeIfPresent(String.self, forKey: .answer),
            correct: try container.decode(Bool.self, forKey: .correct),
            status: try container.decode(String.self, forKey: .status),
            costUSD: try container.decode(Double.self, forKey: .costUSD),
            calls: try container.decode(Int.self, forKey: .calls),
            inputTokens: try container.decode(Int.self, forKey: .inputTokens),
            outputTokens: try container.decode(Int.self, forKey: .outputTokens),
            latencySeconds: try container.decode(Double.self, forKey: .latencySeconds),
            runID: try container.decodeIfPresent(String.self, forKey: .runID), origin: try? AnswerOrigin(from: decoder))
    }

    /// Encodes every field, `answer` and `run_id` as `null` when absent (a JSONL line always has every key).
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(itemID, forKey: .itemID)
        try container.encode(system, forKey: .system)
        try container.encode(answer, forKey: .answer)
        try container.encode(correct, forKey: .correct)
        try container.encode(unanswered, forKey: .unanswered)
        try container.encode(status, forKey: .status)
        try container.encode(Dollars.rounded(costUSD), forKey: .costUSD)
        try container.encode(calls, forKey: .calls)
        try container.encode(inputTokens, forKey: .inputTokens)
        try container.encode(outputTokens, forKey: .outputTokens)
        try container.encode(latencySeconds, forKey: .latencySeconds)
        try container.encode(runID, forKey: .runID)
        try origin?.encode(to: encoder)
    }
}
