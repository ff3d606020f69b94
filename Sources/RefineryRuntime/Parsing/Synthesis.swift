// The arbiter's merged answer (llm-consortium's synthesis), as parsed from its reply.

/// An arbiter's synthesis of the members' answers.
///
/// `confidence` is always normalized to 0...1, even when the model answered with a percentage.
public struct Synthesis: Sendable, Hashable, Codable {
    /// The merged answer.
    public var synthesis: String
    /// How sure the arbiter is that the synthesis is right, from 0 to 1.
    public var confidence: Double
    /// Where the members disagreed and the synthesis had to choose; empty when they agreed.
    public var dissent: String
    /// What the next round should work on.
    public var refinementAreas: [String]
    /// Whether the arbiter asks for another round.
    public var needsIteration: Bool
    /// Answer labels from best to worst, as the arbiter ranked them.
    public var ranking: [String]

    /// Creates a synthesis.
    public init(
        synthesis: String, confidence: Double, dissent: String = "", refinementAreas: [String] = [],
        needsIteration: Bool = false, ranking: [String] = []
    ) {
        self.synthesis = synthesis
        self.confidence = confidence
        self.dissent = dissent
        self.refinementAreas = refinementAreas
        self.needsIteration = needsIteration
        self.ranking = ranking
    }
}
