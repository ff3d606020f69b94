public import RefineryCompiler

/// The best-scored answer of a run.
public struct Winner: Sendable, Hashable, Codable {
    /// The member id.
    public var memberID: String
    /// The model that produced the answer.
    public var model: ModelRef
    /// The answer text.
    public var answer: String
    /// Its mean score, when it was scored.
    public var meanScore: Double?

    /// Creates a winner.
    public init(memberID: String, model: ModelRef, answer: String, meanScore: Double? = nil) {
        self.memberID = memberID
        self.model = model
        self.answer = answer
        self.meanScore = meanScore
    }
}
