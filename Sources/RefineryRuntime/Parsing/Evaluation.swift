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
}
