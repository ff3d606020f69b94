// The HTML report of a recorded batch (`refinery report BATCH_ID`): its record and item rows from the
// ledger (BatchLedger) turned into ReportTemplate's batch page — status, progress, cost, a cost and a
// latency histogram over the items, the failed items and a bounded table of items. Pure: rows in, page out.

import Foundation
import RefineryCompiler
import RefineryStore

enum BatchReportPage {
    /// Rows listed in the items table; the rest are counted in a note (a 100,000-item batch stays a page).
    static let listedItems = 500

    /// The page of `batch` and its `items` as self-contained HTML.
    static func html(_ batch: BatchRecord, items: [BatchItemRecord]) -> String {
        ReportTemplate.render(context(batch, items: items), page: .batch)
    }

    static func context(_ batch: BatchRecord, items: [BatchItemRecord]) -> [String: Any] {
        let finished = items.filter { !isInterrupted($0.status) }
        // Failed: the run ended without an answer — `failed`, or e.g. `insufficient_models` when every
        // member's call was refused. Items in flight, cancelled or cut by the batch budget are not failures.
        let failed = items.filter { !isInterrupted($0.status) && ($0.status == "failed" || $0.answer == nil) }
        let latencies = finished.map { Double($0.latencyMs) / 1000 }.sorted()
        var context: [String: Any] = [
            "title": "batch \(batch.workflow) · \(batch.id)",
            "batchID": batch.id,
            "workflow": batch.workflow,
            "status": batch.status,
            "input": batch.inputPath,
            "inputSHA256": batch.inputSHA256,
            "created": ISO8601DateFormatter().string(from: batch.createdAt),
            "done": items.count { RunService.isDone($0.status) },
            "total": batch.total,
            "failedCount": failed.count,
            "cost": DollarText.text(items.reduce(0) { $0 + $1.costUSD }),
            "calls": items.reduce(0) { $0 + $1.calls },
            "tokens": "\(items.reduce(0) { $0 + $1.inputTokens }) in / \(items.reduce(0) { $0 + $1.outputTokens }) out",
            "latency": latencies.isEmpty
                ? "–"
                : "mean \(seconds(latencies.reduce(0, +) / Double(latencies.count))), "
                    + "p95 \(seconds(nearestRank(latencies, 0.95))), max \(seconds(latencies.last ?? 0))",
            "costHistogram": ReportCharts.histogram(
                finished.map(\.costUSD), label: "cost per item", format: ReportCharts.dollars),
            "latencyHistogram": ReportCharts.histogram(latencies, label: "latency per item", format: seconds),
            "failed": failed.prefix(listedItems).map { item in
                ["item": item.itemID, "run": item.runID, "status": item.status, "error": item.error ?? "no answer"]
            },
            "items": items.prefix(listedItems).map { item in
                [
                    "item": item.itemID, "status": item.status, "cost": ReportCharts.dollars(item.costUSD),
                    "latency": isInterrupted(item.status) ? "–" : seconds(Double(item.latencyMs) / 1000),
                    "run": item.runID, "producer": producer(item.origin),
                ]
            },

            "revisions": revisions(batch),
        ]
        // Keys only when some are: a section over a number renders even for 0.
        let degraded = items.count { $0.origin?.degraded == true }
        if degraded > 0 { context["degradedCount"] = degraded }
        let fallback = items.count { $0.origin?.fallbackFrom != nil }
        if fallback > 0 { context["fallbackCount"] = fallback }
        if items.count > listedItems {
            context["omitted"] =
                "\(items.count - listedItems) more items are not listed (the first \(listedItems) are); "
                + "the histograms and totals count every item."
        }
        return context
    }

    /// Who produced an item's answer, as its result line names it: the member and the model, a fallback
    /// named as one, and why the answer is degraded; "–" for an item without an answer.
    static func producer(_ origin: AnswerOrigin?) -> String {
        guard let origin else { return "–" }
        let producer = RunReport.producer(
            memberID: origin.memberID, modelID: origin.modelID, fallbackFrom: origin.fallbackFrom)
        guard origin.degraded else { return producer }
        let reasons = origin.degradedReasons.isEmpty ? "" : ": " + origin.degradedReasons.joined(separator: "; ")
        return producer + " · degraded" + reasons
    }

    /// Each compiled workflow's git commit and content hash as the batch recorded them (its spec). A
    /// batch keys them by the item fields its workflow was compiled with, a bench by system.
    static func revisions(_ batch: BatchRecord) -> [[String: String]] {
        let spec = RecordedSpec(batch.specJSON)
        let keys = Set(spec.workflowSHA256.keys).union(spec.gitCommits.keys).sorted()
        return keys.map { key in
            let name =
                batch.kind == "bench" ? key : batch.workflow + (key.isEmpty ? "" : " (with the item fields \(key))")
            return [
                "key": name, "commit": spec.gitCommits[key] ?? "not in git",
                "sha": spec.workflowSHA256[key] ?? "",
            ]
        }
    }

    /// Whether a job's run has not reached an end of its own: in flight, cancelled, or cut by the batch's
    /// budget (`resume` continues each of them).
    static func isInterrupted(_ status: String) -> Bool {
        status == "running" || status == "cancelled" || status == RunService.cutByBatchBudget
    }

    /// The nearest-rank percentile `fraction` of sorted `values` (as BenchSummary computes its p95).
    static func nearestRank(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1)]
    }

    static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }
}

/// The parts of a batch's recorded spec (the `spec` column) a report shows, read leniently: a spec
/// written by another version still gives a report, with what it has.
struct RecordedSpec: Decodable {
    var systems: [String] = []
    var grader: String?
    var workflowSHA256: [String: String] = [:]
    var gitCommits: [String: String] = [:]
    var gitDirty: [String: Bool] = [:]

    init(_ json: String) {
        self = (try? JSONDecoder().decode(Self.self, from: Data(json.utf8))) ?? Self()
    }

    private init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        systems = (try? container.decodeIfPresent([String].self, forKey: .systems)) ?? []
        grader = try? container.decodeIfPresent(String.self, forKey: .grader)
        workflowSHA256 = (try? container.decodeIfPresent([String: String].self, forKey: .workflowSHA256)) ?? [:]
        gitCommits = (try? container.decodeIfPresent([String: String].self, forKey: .gitCommits)) ?? [:]
        gitDirty = (try? container.decodeIfPresent([String: Bool].self, forKey: .gitDirty)) ?? [:]
    }

    enum CodingKeys: String, CodingKey {
        case systems, grader, workflowSHA256, gitCommits, gitDirty
    }
}
