// The text and Markdown renderings of a run's result: the answer first, then a summary.

import Foundation
import Refinery
import RefineryRuntime

enum ResultText {
    static func text(_ result: RunResult, raw: Bool) -> String {
        let report = result.report
        var lines: [String] = []
        if raw {
            for answer in report.allAnswers {
                lines.append("── \(answer.memberID) (\(answer.modelID))\(score(answer.meanScore)) ──")
                lines.append(answer.answer)
                lines.append("")
            }
            if let synthesis = result.outcome.synthesis {
                lines.append("── arbiter (confidence \(String(format: "%.2f", synthesis.confidence))) ──")
                lines.append(synthesis.synthesis)
                lines.append("")
            }
            lines.append("── selected ──")
        }
        if let winner = report.winner {
            lines.append(winner.answer)
        } else {
            lines.append("(no answer: \(report.stoppedBy))")
        }
        lines.append("")
        lines.append(summary(report))
        return lines.joined(separator: "\n")
    }

    static func markdown(_ result: RunResult, raw: Bool) -> String {
        let report = result.report
        var lines = ["# \(report.workflow.name): \(report.status)", ""]
        if let winner = report.winner {
            lines += ["## Answer (\(winner.memberID), \(winner.modelID))", "", winner.answer, ""]
        }
        if raw || report.allAnswers.count > 1 {
            lines += ["## All answers", "", "| member | model | mean score |", "|---|---|---|"]
            for answer in report.allAnswers {
                let score = answer.meanScore.map { String(format: "%.2f", $0) } ?? "–"
                lines.append("| \(answer.memberID) | \(answer.modelID) | \(score) |")
            }
            lines.append("")
            if raw {
                for answer in report.allAnswers {
                    lines += ["### \(answer.memberID)", "", answer.answer, ""]
                }
            }
        }
        lines += ["## Summary", "", "```", summary(report), "```"]
        return lines.joined(separator: "\n")
    }

    static func summary(_ report: RunReport) -> String {
        var parts = [
            "status: \(report.status) (\(report.stoppedBy))",
            "rounds: \(report.metadata.totalRounds)",
            "calls: \(report.metadata.totalCalls)",
            "tokens: \(report.tokens.input) in / \(report.tokens.output) out",
            "cost: \(TextFormat.dollars(report.costUSD))",
            "elapsed: \(String(format: "%.1f", Double(report.metadata.elapsedMs) / 1000)) s",
        ]
        if report.coverage.degraded { parts.append("degraded: yes") }
        parts.append("run: \(report.runID)")
        return parts.joined(separator: " · ")
    }

    private static func score(_ value: Double?) -> String {
        value.map { String(format: " · %.2f", $0) } ?? ""
    }
}
