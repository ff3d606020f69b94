// Where a run is in its life, as one value instead of a boolean per milestone: the sections run in
// this order, each phase is entered at most once, and `finalize` only ever moves a run forward.

/// The lifecycle of one run: prelude, rounds of the repeat block, epilogue, finished.
enum RunPhase: Equatable {
    /// No section has begun. `skipRounds` when the caller finalized first: the prelude and the
    /// epilogue still run, the repeat block does not.
    case notStarted(skipRounds: Bool)
    /// The prelude began (or had no nodes); rounds run while the strategy continues.
    case rounds
    /// The repeat block ended (stopped, at its maximum, or finalized); the epilogue begins next.
    case repeatEnded
    /// The epilogue began (or had no nodes): the section running is the last.
    case epilogue
    /// No section is left; the run's outcome is final.
    case finished

    /// Ends the repeat block: no further round begins.
    mutating func endRepeat() {
        switch self {
        case .notStarted: self = .notStarted(skipRounds: true)
        case .rounds: self = .repeatEnded
        case .repeatEnded, .epilogue, .finished: break
        }
    }
}
