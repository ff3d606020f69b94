// The `vote` object of the result document: what the last `vote` stage counted.

public import RefineryRuntime

extension RunReport {
    /// A plurality vote: the winning extracted answer, its share, the distribution and abstentions.
    public struct Vote: Sendable, Hashable, Codable {
        /// One distinct extracted answer.
        public struct Tally: Sendable, Hashable, Codable {
            /// The extracted answer as first given.
            public var answer: String
            /// Answers that gave it.
            public var votes: Int
            /// The members that gave it.
            public var members: [String]
        }

        /// The round the vote was taken in.
        public var round: Int
        /// What was compared (`number`, `choice`, `last-line`, `json: PATH`, `regex: PATTERN`).
        public var extract: String
        /// The winning extracted answer; `null` when nothing could be extracted or a tie had no winner.
        public var winner: String?
        /// The member whose answer is reported as the winner's.
        public var winnerMemberID: String?
        /// Votes for the winner ÷ answers counted (abstentions included).
        public var share: Double
        /// Answers counted, abstentions included.
        public var answersCounted: Int
        /// Every distinct answer, most votes first.
        public var distribution: [Tally]
        /// Members whose answer held nothing to extract.
        public var abstentions: [String]
        /// How a tie for the most votes was settled (`first`, `random`, `none`), absent when there was none.
        public var tieBrokenBy: String?

        enum CodingKeys: String, CodingKey {
            case round, extract, winner, share, distribution, abstentions
            case winnerMemberID = "winner_member_id"
            case answersCounted = "answers_counted"
            case tieBrokenBy = "tie_broken_by"
        }

        /// The report of an engine vote.
        public init(_ vote: VoteResult) {
            round = vote.round
            extract = vote.extraction
            winner = vote.winner
            winnerMemberID = vote.winnerMember
            share = vote.share
            answersCounted = vote.answersCounted
            distribution = vote.distribution.map { Tally(answer: $0.answer, votes: $0.votes, members: $0.members) }
            abstentions = vote.abstentions
            tieBrokenBy = vote.tieBrokenBy
        }
    }
}
