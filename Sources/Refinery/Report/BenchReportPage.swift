// The HTML report of a recorded bench (`refinery report BENCH_ID`): its graded item rows from the
// ledger summarised by BenchSummary — the numbers `refinery bench` prints — and drawn as ReportTemplate's
// bench page: accuracy against cost with 95 % intervals, the system table, the paired comparisons, the
// equal-cost K and the items × systems correctness grid. Pure: rows in, page out.

import Foundation
import RefineryCompiler
import RefineryStore

enum BenchReportPage {
    /// Items listed in the correctness grid; the rest are counted in a note.
    static let listedItems = 1000

    /// The page of `bench` and its `items` as self-contained HTML.
    static func html(_ bench: BatchRecord, items: [BatchItemRecord]) -> String {
        ReportTemplate.render(context(bench, items: items), page: .bench)
    }

    static func context(_ bench: BatchRecord, items: [BatchItemRecord]) -> [String: Any] {
        let summary = RunService.benchSummary(bench, rows: items)
        let systems = summary.systems
        var context: [String: Any] = [
            "title": "bench · \(bench.id)",
            "benchID": bench.id,
            "status": bench.status,
            "dataset": summary.dataset.path,
            "datasetSHA256": summary.dataset.sha256,
            "items": summary.dataset.items,
            "grader": summary.grader,
            "created": ISO8601DateFormatter().string(from: bench.createdAt),
            "done": items.count { RunService.isDone($0.status) },
            "total": bench.total,
            "cost": DollarText.text(systems.reduce(0) { $0 + $1.costUSD }),
            "scatter": ReportCharts.scatter(
                systems.map { system in
                    ReportCharts.SystemPoint(
                        name: system.name, costPerItem: system.total == 0 ? 0 : system.costUSD / Double(system.total),
                        accuracy: system.accuracy, low: system.ci95.first ?? 0, high: system.ci95.last ?? 0,
                        correct: system.correct, total: system.total)
                }),
            "systems": systems.map(systemRow),
            "comparisons": systems.compactMap { system -> [String: Any]? in
                guard let comparison = system.versusBaseline else { return nil }
                return [
                    "name": system.name, "items": comparison.items, "won": comparison.won, "lost": comparison.lost,
                    "p": String(format: "%.3f", comparison.pValue),
                ]
            },
            "equalCost": systems.flatMap { system in
                system.equalCostSamples.map { match in
                    [
                        "system": system.name, "baseline": match.baseline,
                        "perItem": ReportCharts.dollars(match.costPerItemUSD),
                        "perSample": ReportCharts.dollars(match.costPerSampleUSD),
                        "samples": String(format: "%.1f", match.samples),
                    ]
                }
            },
            "heads": systems.map(\.name),
            "grid": summary.items.prefix(listedItems).map { item in
                [
                    "item": item.id,
                    "cells": systems.map { system in cell(item.results[system.name], item: item.id, system: system.name)
                    },
                ] as [String: Any]
            },
            "revisions": BatchReportPage.revisions(bench),
        ]
        if let baseline = summary.baseline { context["baseline"] = baseline }
        if summary.items.count > listedItems {
            context["omitted"] =
                "\(summary.items.count - listedItems) more items are not listed (the first \(listedItems) are); "
                + "the table and the chart count every item."
        }
        return context
    }

    private static func systemRow(_ system: BenchSummary.System) -> [String: Any] {
        [
            "name": system.name,
            "accuracy": String(format: "%.1f %%", system.accuracy * 100),
            "ci": String(format: "%.1f–%.1f %%", (system.ci95.first ?? 0) * 100, (system.ci95.last ?? 0) * 100),
            "correct": "\(system.correct)/\(system.total)",
            "unanswered": system.unanswered,
            "cost": DollarText.text(system.costUSD),
            "calls": system.calls,
            "tokens": "\(system.inputTokens) in / \(system.outputTokens) out",
            "latencyMean": BatchReportPage.seconds(system.latencyMeanSeconds),
            "latencyP95": BatchReportPage.seconds(system.latencyP95Seconds),
            "costPerCorrect": system.costPerCorrectUSD.map(ReportCharts.dollars) ?? "–",
        ]
    }

    /// One grid cell: a mark and a tooltip naming the item, the system, the graded answer and the run.
    private static func cell(_ result: BenchSummary.Item.Result?, item: String, system: String) -> [String: String] {
        guard let result else {
            return ["kind": "pending", "mark": "", "title": "\(item) · \(system): not run yet"]
        }
        let (kind, mark) =
            result.answer == nil ? ("unanswered", "–") : result.correct ? ("correct", "✓") : ("wrong", "✗")
        let answer = result.answer.map { "answer \($0)" } ?? "no answer"
        let run = result.runID.map { " · run \($0)" } ?? ""
        return ["kind": kind, "mark": mark, "title": "\(item) · \(system): \(answer) · \(result.status)\(run)"]
    }
}
