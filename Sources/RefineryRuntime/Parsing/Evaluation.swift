// What a reviewer said about one answer, after parsing its JSON reply.

/// One review of one answer: the rubric's lists, the reasoning, then the 1–10 score.
package struct Evaluation: Sendable, Hashable, Codable {
    /// What the answer does well.
    package var strengths: [String]
    /// What the answer gets wrong or leaves out.
    package var weaknesses: [String]
    /// Concrete changes the reviewer asks for.
    package var suggestions: [String]
    /// Why the reviewer gave this score.
    package var rationale: String
    /// The score, always within 1...10 (the parser rejects anything else).
    package var score: Double

    /// Creates an evaluation.
    package init(
        strengths: [String] = [], weaknesses: [String] = [], suggestions: [String] = [], rationale: String = "",
        score: Double
    ) {
        self.strengths = strengths
        self.weaknesses = weaknesses
        self.suggestions = suggestions
        self.rationale = rationale
        self.score = score
    }

    /// The review as plain text for feeding back to the reviewed member (e.g. `HistoryEntry.reviews`):
    /// `Score 7/10. Strengths: a; b. Weaknesses: c. Suggestions: d. Rationale: r` (empty parts left out).
    package var summary: String {
        var parts = ["Score \(ReplyParser.formatted(score))/10."]
        for (name, items) in [("Strengths", strengths), ("Weaknesses", weaknesses), ("Suggestions", suggestions)]
        where !items.isEmpty {
            parts.append("\(name): \(items.joined(separator: "; ")).")
        }
        if !rationale.isEmpty { parts.append("Rationale: \(rationale)") }
        return parts.joined(separator: " ")
    }
}
