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
    /// Answer labels from best to worst, as the arbiter ranked them (the arbiter's own labels: this is
    /// what a later prompt may show, so it never names a member).
    public var ranking: [String]
    /// The same ranking as member ids, decoded with the arbiter's labels by the engine (labels the
    /// arbiter invented are left out). Empty for a synthesis the engine did not decode.
    public var rankedMembers: [String]

    /// Creates a synthesis.
    public init(
        synthesis: String, confidence: Double, dissent: String = "", refinementAreas: [String] = [],
        needsIteration: Bool = false, ranking: [String] = [], rankedMembers: [String] = []
    ) {
        self.synthesis = synthesis
        self.confidence = confidence
        self.dissent = dissent
        self.refinementAreas = refinementAreas
        self.needsIteration = needsIteration
        self.ranking = ranking
        self.rankedMembers = rankedMembers
    }

    private enum CodingKeys: String, CodingKey {
        case synthesis, confidence, dissent, refinementAreas, needsIteration, ranking, rankedMembers
    }

    /// Decodes a synthesis; `rankedMembers` may be absent (syntheses recorded before it existed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        synthesis = try container.decode(String.self, forKey: .synthesis)
        confidence = try container.decode(Double.self, forKey: .confidence)
        dissent = try container.decode(String.self, forKey: .dissent)
        refinementAreas = try container.decode([String].self, forKey: .refinementAreas)
        needsIteration = try container.decode(Bool.self, forKey: .needsIteration)
        ranking = try container.decode([String].self, forKey: .ranking)
        rankedMembers = try container.decodeIfPresent([String].self, forKey: .rankedMembers) ?? []
    }
}
