/// How complete a run's evidence is: who answered, who was reviewed, what degraded.
public struct Coverage: Sendable, Hashable, Codable {
    /// Members that produced an answer in the final round.
    public var membersAnswered: Int
    /// Member id → number of scores received in the final scored round.
    public var reviewsReceived: [String: Int]
    /// Whether an arbiter call had to use one of `arbiter.fallback`.
    public var arbiterFallbackUsed: Bool
    /// Whether anything was lost: a member dropped, a review unscored, a fallback used.
    public var degraded: Bool
    /// Members dropped for the rest of the run, in member order.
    public var droppedMembers: [String]
    /// Reviews whose reply stayed unreadable after the one format reminder (recorded as unscored).
    public var unscoredReviews: Int
    /// Why the run is ``degraded``, one sentence each (empty when it is not).
    public var reasons: [String]

    /// Creates coverage.
    public init(
        membersAnswered: Int = 0, reviewsReceived: [String: Int] = [:], arbiterFallbackUsed: Bool = false,
        degraded: Bool = false, droppedMembers: [String] = [], unscoredReviews: Int = 0, reasons: [String] = []
    ) {
        self.membersAnswered = membersAnswered
        self.reviewsReceived = reviewsReceived
        self.arbiterFallbackUsed = arbiterFallbackUsed
        self.degraded = degraded
        self.droppedMembers = droppedMembers
        self.unscoredReviews = unscoredReviews
        self.reasons = reasons
    }
}
