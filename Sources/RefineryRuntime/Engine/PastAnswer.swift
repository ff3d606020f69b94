// An answer a member gave in an earlier round, kept for `context: own-history`.

import RefineryCompiler

/// A member's answer of an earlier round and the scored reviews it got, kept as positions in that
/// round's reviews (shared, not copied) and described as text only when a prompt shows its history:
/// describing N² reviews at the end of every round cost more than the rest of closing it.
struct PastAnswer: Sendable {
    let round: Int
    let answer: String
    /// The round's reviews, in reviewer order.
    let reviews: [Review]
    /// Positions in `reviews` of the scored reviews of this answer.
    let positions: [Int]

    /// The entry a `proposeWithHistory` prompt shows: reviews as text, without reviewer names.
    var entry: HistoryEntry {
        HistoryEntry(round: round, answer: answer, reviews: positions.map { RunExecutor.describe(reviews[$0]) })
    }
}
