package import RefineryCompiler

/// What a `vote` stage counted: the winning value, its share, the whole distribution, abstentions.
public struct VoteResult: Sendable, Hashable, Codable {
    /// One distinct extracted value and who gave it.
    public struct Tally: Sendable, Hashable, Codable {
        /// The value as first given (e.g. `18`, `B`, the last line as written).
        public var answer: String
        /// Answers that gave it.
        public var votes: Int
        /// The members that gave it, in member order (a member appears once per answer counted).
        public var members: [String]

        /// Creates a tally.
        public init(answer: String, votes: Int, members: [String]) {
            self.answer = answer
            self.votes = votes
            self.members = members
        }
    }

    /// The round the vote was taken in (0 before the repeat block, or after it for an epilogue vote).
    public var round: Int
    /// What was compared, as written in the workflow (`number`, `json: result.answer`, ...).
    public var extraction: String
    /// The winning value, or `nil` when nothing could be extracted or a tie had no winner (`tie: none`).
    public var winner: String?
    /// The member whose answer carries the winning value (the first in member order that gave it).
    public var winnerMember: String?
    /// Votes for the winner ÷ answers counted (abstentions included), 0 when nothing was counted.
    public var share: Double
    /// Answers counted, abstentions included.
    public var answersCounted: Int
    /// Distinct values, most votes first (ties in order of first appearance).
    public var distribution: [Tally]
    /// Members whose answer held nothing to extract, in member order.
    public var abstentions: [String]
    /// How a tie for the most votes was settled (`first`, `random`, `none`), or `nil` when there was none.
    public var tieBrokenBy: String?

    /// Creates a vote result.
    public init(
        round: Int, extraction: String, winner: String?, winnerMember: String?, share: Double, answersCounted: Int,
        distribution: [Tally], abstentions: [String], tieBrokenBy: String?
    ) {
        self.round = round
        self.extraction = extraction
        self.winner = winner
        self.winnerMember = winnerMember
        self.share = share
        self.answersCounted = answersCounted
        self.distribution = distribution
        self.abstentions = abstentions
        self.tieBrokenBy = tieBrokenBy
    }
}

extension VoteResult {
    /// Counts `ballots` (voter, answer text), in member order, under `options`. A tie for the most
    /// votes is settled by `options.tie`; `random` draws from `seed`, so a resumed run draws the same.
    /// Also returns the text of the first ballot that gave the winning value (the answer to report).
    package static func count(
        _ ballots: [(voter: String, text: String)], options: VoteStage, round: Int, seed: UInt64
    ) -> (result: VoteResult, winnerText: String?) {
        var tallies: [Tally] = []
        var firstText: [String] = []
        var position: [String: Int] = [:]
        var abstentions: [String] = []
        for ballot in ballots {
            guard let extracted = AnswerExtractor.extract(options.extract, from: ballot.text) else {
                abstentions.append(ballot.voter)
                continue
            }
            if let index = position[extracted.key] {
                tallies[index].votes += 1
                tallies[index].members.append(ballot.voter)
            } else {
                position[extracted.key] = tallies.count
                tallies.append(Tally(answer: extracted.display, votes: 1, members: [ballot.voter]))
                firstText.append(ballot.text)
            }
        }
        // Stable: equal counts keep their order of first appearance, which is member order.
        let order = tallies.indices.sorted { (tallies[$1].votes, $0) < (tallies[$0].votes, $1) }
        let distribution = order.map { tallies[$0] }
        let top = distribution.first?.votes ?? 0
        let tied = order.prefix { tallies[$0].votes == top }
        var chosen: Int? = order.first
        var tieBrokenBy: String?
        if tied.count > 1 {
            tieBrokenBy = options.tie.rawValue
            switch options.tie {
            case .first:
                chosen = tied.first
            case .random:
                var generator = SeededGenerator(seed: seed, salt: "vote|\(round)")
                chosen = tied.randomElement(using: &generator)
            case .none:
                chosen = nil
            }
        }
        let result = VoteResult(
            round: round, extraction: options.extract.description, winner: chosen.map { tallies[$0].answer },
            winnerMember: chosen.flatMap { tallies[$0].members.first },
            share: ballots.isEmpty || chosen == nil ? 0 : Double(top) / Double(ballots.count),
            answersCounted: ballots.count, distribution: distribution, abstentions: abstentions,
            tieBrokenBy: tieBrokenBy)
        return (result, chosen.map { firstText[$0] })
    }
}
