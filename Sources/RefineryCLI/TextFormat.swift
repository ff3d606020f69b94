// Human-readable renderings shared by the text outputs.

import Foundation
import Refinery
import RefineryCompiler
import RefineryStore
import RefinerySyntax

enum TextFormat {
    static func date(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
                .timeSeparator(.colon))
    }

    static func dollars(_ value: Double) -> String {
        DollarText.text(value)
    }

    static func describe(_ run: StoredRun) -> String {
        var lines = [
            "run:       \(run.id)",
            "workflow:  \(run.workflowName)\(run.workflow.version.map { " " + $0 } ?? "")",
            "source:    \(run.provenance.path ?? "unknown")",
        ]
        if let commit = run.provenance.gitCommit {
            var revision = "revision:  \(commit)"
            if let named = run.provenance.gitRevision { revision += " (\(named))" }
            if run.provenance.gitDirty == true { revision += " + uncommitted changes" }
            lines.append(revision)
        } else if run.provenance.path?.hasPrefix("builtin:") == true {
            lines.append("revision:  built into this version of Refinery")
        } else {
            lines.append("revision:  not in a git repository")
        }
        if let sha = run.provenance.contentSHA256 { lines.append("sha256:    \(sha)") }
        if !run.provenance.extendsChain.isEmpty {
            lines.append("extends:   \(run.provenance.extendsChain.joined(separator: " → "))")
        }
        lines.append("status:    \(run.status)\(run.exitCode.map { " (exit \($0))" } ?? "")")
        if run.status == RunService.interruptedStatus {
            lines.append(
                "           no process runs it any more (killed or crashed); `refinery resume \(run.id)` finishes it")
        }
        lines.append("started:   \(date(run.startedAt))")
        if let finished = run.finishedAt { lines.append("finished:  \(date(finished))") }
        lines.append("seed:      \(run.seed)")
        let report = run.outcomeJSON.flatMap { try? JSONDecoder().decode(RunReport.self, from: Data($0.utf8)) }
        let estimated = report?.tokens.estimated == true ? " (estimated)" : ""
        lines.append(
            "cost:      \(dollars(run.costUSD)), \(run.inputTokens) in / \(run.outputTokens) out tokens\(estimated)")
        if let report {
            lines.append("stopped:   \(report.stoppedBy)")
            lines.append(
                "rounds:    \(report.metadata.totalRounds), \(Counted.text(report.metadata.totalCalls, "call"))")
            if let winner = report.winner {
                let answer = winner.answer.replacingOccurrences(of: "\n", with: " ")
                lines.append("answered:  \(ResultText.producer(winner))")
                lines.append("answer:    \(answer.count > 200 ? answer.prefix(200) + "…" : answer)")
            }
        }
        lines.append("models:")
        for (member, model) in run.resolvedModels.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(member): \(model)")
        }
        return lines.joined(separator: "\n")
    }
}
