// The human rendering of an estimate (`refinery estimate`, `--dry-run`): a table per stage, then
// totals for the fewest and most rounds.

import RefinerySyntax

extension WorkflowEstimate {
    /// A plain-text table: one row per stage (calls per pass, calls, tokens and dollars for
    /// min..max rounds), a total row, per-round figures and the unpriced models.
    public var text: String { rendered(markdown: false) }

    /// ``text`` as Markdown (`--output-format markdown`): the title as a heading, the table as a Markdown table
    /// (figures right-aligned), the notes as paragraphs.
    public var markdown: String { rendered(markdown: true) }

    private func rendered(markdown: Bool) -> String {
        var rows: [[String]] = [["stage", "section", "calls/pass", "calls", "input tokens", "output tokens", "cost"]]
        for stage in stages {
            rows.append([
                "s\(stage.index) \(stage.stage)", stage.section.rawValue, "\(stage.callsPerPass)",
                Self.span(stage.calls, format: String.init), Self.span(stage.inputTokens, format: Self.thousands),
                Self.span(stage.outputTokens, format: Self.thousands), Self.span(stage.costUSD, format: Self.dollars),
            ])
        }
        rows.append([
            "total", "", "", Self.span(calls, format: String.init), Self.span(tokens.input, format: Self.thousands),
            Self.span(tokens.output, format: Self.thousands), Self.span(costUSD, format: Self.dollars),
        ])
        let roundText =
            rounds.max == 0
            ? "single pass"
            : rounds.min == rounds.max ? Counted.text(rounds.min, "round") : "\(rounds.min)..\(rounds.max) rounds"
        let title = "Estimate for \(workflow): \(roundText), prompt ≈ \(promptTokens) tokens"
        var lines = [markdown ? "## " + title : title, ""]
        lines += markdown ? Self.markdownTable(rows) : Self.table(rows)
        if !perRound.isEmpty {
            lines.append("")
            lines.append(
                "per round: "
                    + perRound.map { "\($0.round): \($0.calls) calls, \(Self.dollars($0.costUSD))" }
                    .joined(separator: "; "))
        }
        if let close = stages.first(where: { $0.stage == "close" && $0.callsPerPass > 0 }) {
            lines.append("")
            lines.append(
                "s\(close.index) close: at most 1 embedding request a round (the semantic strategy's embedding model, "
                    + "both drafts compared), counted in the max; none when char similarity or Jaccard decides or "
                    + "its cache holds both drafts, nor in a round 1 whose draft is the run's first (nothing to "
                    + "compare it with).")
        }
        lines.append("")
        if !maxPricedAtFallback.isEmpty {
            lines.append(
                "Max cost prices each call at the dearest model it can fall back to: "
                    + "\(maxPricedAtFallback.joined(separator: ", ")).")
        }
        if unpricedModels.isEmpty {
            lines.append("All models priced from the catalog.")
        } else if unpricedCalls.max == 0 {
            lines.append(
                "Unpriced (not in the catalog, not counted in cost): \(unpricedModels.joined(separator: ", ")) — "
                    + "fallback models, called only when the model before them fails.")
        } else {
            lines.append(
                "Unpriced (not in the catalog, not counted in cost): \(unpricedModels.joined(separator: ", ")) — "
                    + "\(Self.span(unpricedCalls, format: String.init)) \(unpricedCalls.max == 1 ? "call" : "calls").")
        }
        lines.append(
            "Tokens are estimates: prompt bytes ÷ 4 plus template overhead; outputs at max_tokens (and the thinking "
                + "it allows) or defaults.")
        // Markdown joins adjacent lines into one paragraph: each note is a paragraph of its own.
        if markdown { lines.append("") }
        lines.append(Self.bracketNote)
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the calls bracket covers (see ``WorkflowEstimate``), said wherever the figures are shown.
    static let bracketNote = """
        Calls: min stops at the earliest round the strategy allows, skips refines under min_bytes and takes no
        verification question; max runs every round and call. Retries count once; a format re-ask or a fallback
        adds a call; a dropped member or a budget, deadline or quorum stop makes fewer.
        """

    private static func span<V: Equatable>(_ range: EstimateRange<V>, format: (V) -> String) -> String {
        range.min == range.max ? format(range.min) : "\(format(range.min))..\(format(range.max))"
    }

    private static func thousands(_ value: Int) -> String {
        var digits = Array(String(value))
        var out: [Character] = []
        while digits.count > 3 {
            out = [","] + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return String(digits + out)
    }

    /// Below a dollar, ``DollarText`` (four significant digits, so a tiny run does not show $0.0000); from a
    /// dollar on, cents with thousands separators.
    private static func dollars(_ value: Double) -> String {
        guard value >= 1 else { return DollarText.text(value) }
        // 128 members, 1,000 rounds and a 1 MB prompt at a dear price reach ~$10^17, past what Int holds in
        // cents: such a figure is shown as Swift prints the number, never converted (that trapped).
        guard (value * 100).magnitude < 1e18 else { return "$\(value)" }
        let cents = Int((value * 100).rounded())
        let fraction = String(cents % 100)
        return "$\(thousands(cents / 100)).\(String(repeating: "0", count: 2 - fraction.count))\(fraction)"
    }

    private static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in
            rows.map { $0[column].count }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                // Text columns left-aligned, figures right-aligned.
                return column < 2 ? cell + pad : pad + cell
            }
            .joined(separator: "  ").trimmingTrailingSpaces()
        }
    }
}

extension WorkflowEstimate {
    /// `rows` (the header first) as a Markdown table: text columns left-aligned, figures right-aligned.
    fileprivate static func markdownTable(_ rows: [[String]]) -> [String] {
        guard let header = rows.first else { return [] }
        // No cell can hold a `|`: stage keywords, section names and figures.
        let line = { (cells: [String]) in "| " + cells.joined(separator: " | ") + " |" }
        let rule = "|" + header.indices.map { $0 < 2 ? " --- |" : " ---: |" }.joined()
        return [line(header), rule] + rows.dropFirst().map(line)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
