public import RefineryCompiler

/// One member's latest answer and how its peers scored it.
public struct MemberAnswer: Sendable, Hashable, Codable {
    /// The member id, e.g. `gem#1`.
    public var memberID: String
    /// The model that produced the answer (a fallback model when the member's own failed).
    public var model: ModelRef
    /// The answer text.
    public var answer: String
    /// Mean of the scores the answer received in the last round that scored it; `nil` when unscored.
    public var meanScore: Double?
    /// How many scores that mean is made of.
    public var scoresReceived: Int
    /// The member's configured model, when it failed and `model`, a fallback, produced the answer.
    public var fallbackFrom: ModelRef?

    /// Creates an answer.
    public init(
        memberID: String, model: ModelRef, answer: String, meanScore: Double? = nil, scoresReceived: Int = 0,
        fallbackFrom: ModelRef? = nil
    ) {
        self.memberID = memberID
        self.model = model
        self.answer = answer
        self.meanScore = meanScore
        self.scoresReceived = scoresReceived
        self.fallbackFrom = fallbackFrom
    }
}
