// A bench summary as text: a terminal table, a paper-style Markdown table, the versioned JSON document
// (`schemas/bench-output.schema.json`) and per-item JSONL. Every format is a pure function of the
// summary, so equal summaries print byte for byte the same.

import Foundation
import RefineryCompiler
import RefineryRuntime
import RefinerySyntax

/// The output formats of `refinery bench`.
package enum BenchOutputFormat: String, Sendable, CaseIterable {
    /// An aligned table for a terminal.
    case text
    /// A GitHub Markdown table for a paper or a README.
    case markdown
    /// The versioned JSON document of `schemas/bench-output.schema.json`.
    case json
    /// One JSON line per item and system (``BenchItemResult``), dataset order then system order.
    case jsonl
}

extension BenchSummary {
    /// The summary in `format`, ending in a newline.
    package func rendered(_ format: BenchOutputFormat) -> String {
        switch format {
        case .text: textTable()
        case .markdown: markdownTable()
        case .json: json()
        case .jsonl: results.map { $0.jsonLine + "\n" }.joined()
        }
    }

    // MARK: text

    private func textTable() -> String {
        var header = [
            "system", "accuracy", "95% CI", "correct", "unanswered", "cost", "cost/correct", "calls", "tokens in/out",
            "latency mean/p95",
        ]
        if let baseline { header.append("vs \(baseline) (won/lost, p)") }
        let rows = systems.map { system -> [String] in
            var row = [
                system.name, Self.percent(system.accuracy),
                "[\(Self.percent(system.ci95[0])), \(Self.percent(system.ci95[1]))]",
                "\(system.correct)/\(system.total)", String(system.unanswered), Self.dollars(system.costUSD),
                system.costPerCorrectUSD.map(Self.dollars) ?? "-", String(system.calls),
                "\(system.inputTokens)/\(system.outputTokens)",
                "\(Self.seconds(system.latencyMeanSeconds)) / \(Self.seconds(system.latencyP95Seconds))",
            ]
            if baseline != nil {
                row.append(
                    system.versusBaseline.map { "+\($0.won) -\($0.lost), p=\(Self.pValue($0.pValue))" } ?? "baseline")
            }
            return row
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            let joined = cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                // Names and the comparison read left to right; numbers line up on the right.
                return column == 0 || (column == cells.count - 1 && baseline != nil) ? cell + pad : pad + cell
            }.joined(separator: "  ")
            return String(joined.reversed().drop { $0 == " " }.reversed())
        }
        var lines = [
            "Bench \(benchID): \(dataset.path) (\(Counted.text(dataset.items, "item")), sha256 \(dataset.sha256.prefix(12))), grader \(grader)",
            "",
            line(header),
        ]
        lines += rows.map(line)
        let sentences = costMatchSentences()
        if !sentences.isEmpty { lines += [""] + sentences }
        let revisions = revisionSentences { $0 }
        if !revisions.isEmpty { lines += [""] + revisions }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: markdown

    private func markdownTable() -> String {
        let best = systems.filter { $0.total > 0 }.map(\.accuracy).max()
        var header = ["System", "Accuracy (%)", "95 % CI", "Correct", "Unanswered", "Cost ($)", "$ / correct", "Calls"]
        if let baseline { header += ["Δ vs \(Self.markdownCell(baseline)) (pts)", "Won / lost", "p"] }
        var lines = [
            "| " + header.joined(separator: " | ") + " |",
            "|" + header.indices.map { $0 == 0 ? " --- |" : " ---: |" }.joined(),
        ]
        for system in systems {
            let isBest = system.total > 0 && system.accuracy == best
            func bold(_ text: String) -> String { isBest ? "**\(text)**" : text }
            var cells = [
                bold(Self.markdownCell(system.name)), bold(String(format: "%.1f", system.accuracy * 100)),
                String(format: "%.1f–%.1f", system.ci95[0] * 100, system.ci95[1] * 100),
                "\(system.correct) / \(system.total)", String(system.unanswered), DollarText.plain(system.costUSD),
                system.costPerCorrectUSD.map(DollarText.plain) ?? "–", String(system.calls),
            ]
            if baseline != nil {
                if let versus = system.versusBaseline {
                    let delta = versus.items == 0 ? 0 : Double(versus.won - versus.lost) / Double(versus.items) * 100
                    cells += [
                        String(format: "%+.1f", delta), "\(versus.won) / \(versus.lost)", Self.pValue(versus.pValue),
                    ]
                } else {
                    cells += ["(baseline)", "", ""]
                }
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        var caption =
            "Dataset `\(dataset.path)` (\(Counted.text(dataset.items, "item")), SHA-256 `\(dataset.sha256.prefix(12))`), grader "
            + "`\(grader)`, bench `\(benchID)`. 95 % CI: Wilson score interval."
        if let baseline {
            caption +=
                " Δ: accuracy points over `\(baseline)` on the items both answered; won / lost: items only one of "
                + "the two got right; p: two-sided exact McNemar test."
        }
        lines += ["", caption]
        let sentences = costMatchSentences()
        if !sentences.isEmpty { lines += [""] + sentences }
        let revisions = revisionSentences { "`\($0)`" }
        if !revisions.isEmpty { lines += [""] + revisions.map { "- " + $0 } }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: json

    private func json() -> String {
        // The summary holds strings, integers and finite numbers only (every ratio guards its zero).
        ((try? OutputJSON.text(self, pretty: true)) ?? "{}") + "\n"
    }

    // MARK: shared

    /// "debate costs $0.0123 per item: as much as 4.1 samples of vote:m:5 ($0.0030 a sample)."
    private func costMatchSentences() -> [String] {
        systems.flatMap { system in
            system.equalCostSamples.map { match in
                "\(system.name) costs \(Self.dollars(match.costPerItemUSD)) per item: as much as "
                    + String(format: "%.1f", match.samples) + " samples of \(match.baseline) "
                    + "(\(Self.dollars(match.costPerSampleUSD)) a sample)."
            }
        }
    }

    /// What each workflow system ran, so the table can be reproduced: "debate: /path/debate.yaml, git
    /// 3f2c9a1b0d4e (v1), sha256 9b1e…" (`code` marks up the names, paths and hashes).
    private func revisionSentences(_ code: (String) -> String) -> [String] {
        systems.compactMap { system in
            guard case .workflow = try? BenchSystem(parsing: system.name), let workflow = system.workflow else {
                return nil
            }
            var parts = [workflow.path.map(code) ?? code(workflow.name)]
            if let commit = workflow.gitCommit {
                var revision = "git " + code(String(commit.prefix(12)))
                if let asked = workflow.gitRevision { revision += " (\(asked))" }
                if workflow.gitDirty == true { revision += " with uncommitted changes" }
                parts.append(revision)
            }
            if let sha = workflow.contentSHA256 { parts.append("sha256 " + code(String(sha.prefix(12)))) }
            return "\(code(system.name)): " + parts.joined(separator: ", ")
        }
    }

    private static func percent(_ fraction: Double) -> String {
        String(format: "%.1f%%", fraction * 100)
    }

    private static func dollars(_ amount: Double) -> String {
        DollarText.text(amount)
    }

    private static func seconds(_ value: Double) -> String {
        String(format: "%.2fs", value)
    }

    private static func pValue(_ p: Double) -> String {
        p < 0.001 ? "<0.001" : String(format: "%.3f", p)
    }

    /// A table cell: a `|` would end it.
    private static func markdownCell(_ text: String) -> String {
        text.replacing("|", with: "\\|")
    }
}
