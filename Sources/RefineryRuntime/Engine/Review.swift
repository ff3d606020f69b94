/// One score one participant gave another member's answer.
public struct Review: Sendable, Hashable, Codable {
    /// The reviewer's member id (or `arbiter`).
    public var reviewer: String
    /// The reviewed member's id.
    public var target: String
    /// The label the reviewer saw the answer under.
    public var label: String
    /// Score 1...10; `nil` when the reply stayed unreadable (unscored, never a silent 0).
    public var score: Double?
    /// What the answer does well.
    public var strengths: [String]
    /// What the answer gets wrong.
    public var weaknesses: [String]
    /// Requested changes.
    public var suggestions: [String]
    /// The reviewer's reasoning.
    public var rationale: String

    /// Creates a review.
    public init(
        reviewer: String, target: String, label: String, score: Double?, strengths: [String] = [],
        weaknesses: [String] = [], suggestions: [String] = [], rationale: String = ""
    ) {
        self.reviewer = reviewer
        self.target = target
        self.label = label
        self.score = score
        self.strengths = strengths
        self.weaknesses = weaknesses
        self.suggestions = suggestions
        self.rationale = rationale
    }
}
