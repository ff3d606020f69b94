// What the engine knows at a `close` stage, handed to the convergence judge.

/// The signals of one round that a convergence strategy may look at.
package struct RoundSignals: Sendable {
    /// Round number, counting from 1.
    package var round: Int
    /// Mean score each member's current answer received this round, by member id.
    package var meanScores: [String: Double]
    /// Each member's current answer, by member id.
    package var answers: [String: String]
    /// The synthesis produced this round, if a `synthesize` stage ran.
    package var synthesis: Synthesis?
    /// The vote taken this round, if a `vote` stage ran.
    package var vote: VoteResult?
    /// The current draft (refine/verify chains), if any.
    package var draft: String?
    /// The draft this round started from (e.g. the proposal before the first refinement). The semantic
    /// strategy compares against it when it has not seen an earlier draft itself, and takes the first one
    /// it is given as the original draft for the regression guard.
    package var previousDraft: String?
    /// Members still in the run, in member order (ties between leaders go to the earliest).
    package var activeMembers: [String]
    /// Embedding vectors by text that requests of this round and the one before already returned (a resumed
    /// run's recorded ones): the semantic strategy takes them before its cache, and stores them in it.
    package var embeddings: [String: [Double]] = [:]

    /// Creates signals.
    package init(
        round: Int, meanScores: [String: Double] = [:], answers: [String: String] = [:], synthesis: Synthesis? = nil,
        vote: VoteResult? = nil, draft: String? = nil, previousDraft: String? = nil, activeMembers: [String] = []
    ) {
        self.round = round
        self.meanScores = meanScores
        self.answers = answers
        self.synthesis = synthesis
        self.vote = vote
        self.draft = draft
        self.previousDraft = previousDraft
        self.activeMembers = activeMembers
    }
}
