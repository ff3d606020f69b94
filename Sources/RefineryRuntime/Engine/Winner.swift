public import RefineryCompiler

/// An answer the run selected, with who produced it: the best-scored member answer
/// (``RunOutcome/winner``), or whatever the workflow's `output` selects (``RunOutcome/selected``).
public struct Winner: Sendable, Hashable, Codable {
    /// The member id, or `arbiter`: always a participant that produced this answer.
    public var memberID: String
    /// The model that produced the answer (a fallback model when the primary failed).
    public var model: ModelRef
    /// The answer text.
    public var answer: String
    /// Its mean score, when it was scored.
    public var meanScore: Double?
    /// The participant's configured model, when a fallback produced the answer instead of it.
    public var fallbackFrom: ModelRef?
    /// Whether the answer was selected without the evidence the workflow asks for: the run stopped
    /// early (below quorum, budget, cancelled, failed) or what `output` selects was never produced.
    public var degraded: Bool

    /// Creates a winner.
    public init(
        memberID: String, model: ModelRef, answer: String, meanScore: Double? = nil, fallbackFrom: ModelRef? = nil,
        degraded: Bool = false
    ) {
        self.memberID = memberID
        self.model = model
        self.answer = answer
        self.meanScore = meanScore
        self.fallbackFrom = fallbackFrom
        self.degraded = degraded
    }
}
