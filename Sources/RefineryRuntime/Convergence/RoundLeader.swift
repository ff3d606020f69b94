// Who leads a round, defined once: the convergence judge counts a leader's streak with it and the run's
// outcome names its winner with it, so the two can never disagree on a tie.

/// The member with the highest mean score in a round.
struct RoundLeader: Equatable {
    /// The leading member's id.
    var id: String
    /// Its mean score.
    var mean: Double

    /// The highest mean in `meanScores` among `order`. Ties keep `previous` when it is among the tied,
    /// else go to the first tied member in `order`; nil when no member in `order` was scored.
    static func pick(meanScores: [String: Double], order: [String], previous: String?) -> RoundLeader? {
        var best: Double?
        var tied: [String] = []
        for id in order {
            guard let mean = meanScores[id] else { continue }
            if best.map({ mean > $0 }) ?? true {
                best = mean
                tied = [id]
            } else if mean == best {
                tied.append(id)
            }
        }
        guard let best, let first = tied.first else { return nil }
        return RoundLeader(id: tied.first { $0 == previous } ?? first, mean: best)
    }
}
