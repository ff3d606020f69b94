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
            lines += ["## Answer (\(producer(winner)))", "", winner.answer, ""]
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
        var parts = ["status: \(report.status) (\(report.stoppedBy))"]
        if let winner = report.winner { parts.append("answer: \(producer(winner))") }
        parts += [
            "rounds: \(report.metadata.totalRounds)",
            "calls: \(report.metadata.totalCalls)",
            "tokens: \(report.tokens.input) in / \(report.tokens.output) out"
                + (report.tokens.estimated == true ? " (estimated)" : ""),
            "cost: \(TextFormat.dollars(report.costUSD))",
            "elapsed: \(String(format: "%.1f", Double(report.metadata.elapsedMs) / 1000)) s",
        ]
        if let vote = report.vote { parts.insert("vote: " + Self.vote(vote), at: 1) }
        if report.coverage.degraded {
            let reasons = report.coverage.reasons
            parts.append("degraded: " + (reasons.isEmpty ? "yes" : reasons.joined(separator: "; ")))
        }
        parts.append("run: \(report.runID)")
        return parts.joined(separator: " · ")
    }

    /// `“18” 2 of 3 (67 %), abstained: codex, tie → first`.
    static func vote(_ vote: RunReport.Vote) -> String {
        let top = vote.distribution.first?.votes ?? 0
        var text =
            vote.winner.map { "“\($0.prefix(60))” \(top) of \(vote.answersCounted)" }
            ?? "no winner (\(vote.distribution.isEmpty ? "nothing to extract" : "tie"))"
        if vote.winner != nil { text += " (\(Int((vote.share * 100).rounded())) %)" }
        if !vote.abstentions.isEmpty { text += ", abstained: " + vote.abstentions.joined(separator: ", ") }
        if let rule = vote.tieBrokenBy { text += ", tie → \(rule)" }
        return text
    }

    /// Who produced the selected answer, with the model that did and the one that failed before it:
    /// `arbiter (openai/gpt-4o, fallback for anthropic/claude-sonnet-4-5)`, `m1 (…), best so far`.
    static func producer(_ winner: RunReport.Winner) -> String {
        winner.producer + (winner.degraded ? ", best so far" : "")
    }

    private static func score(_ value: Double?) -> String {
        value.map { String(format: " · %.2f", $0) } ?? ""
    }
}
