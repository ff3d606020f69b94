// Where a run is in its life, as one value instead of a boolean per milestone: the sections run in
// this order, each phase is entered at most once, and `finalize` only ever moves a run forward.
// The executor changes it in one place (`RunExecutor.enter(_:)`), which also announces the run's
// start and end, so neither needs a flag of its own.

/// The lifecycle of one run: prelude, rounds of the repeat block, epilogue, finished.
enum RunPhase: Equatable {
    /// No section has begun (and `run_started` is not announced yet). `skipRounds` when the caller
    /// finalized first: the prelude and the epilogue still run, the repeat block does not.
    case notStarted(skipRounds: Bool)
    /// The prelude began (or had no nodes); rounds run while the strategy continues.
    case rounds
    /// The repeat block ended (stopped, at its maximum, or finalized); the epilogue begins next.
    case repeatEnded
    /// The epilogue began (or had no nodes): the section running is the last.
    case epilogue
    /// No section is left; the run's outcome is final (and `run_finished` announced).
    case finished

    /// The phase once the repeat block is ended: no further round begins.
    var endingRepeat: RunPhase {
        switch self {
        case .notStarted: .notStarted(skipRounds: true)
        case .rounds: .repeatEnded
        case .repeatEnded, .epilogue, .finished: self
        }
    }

    /// Whether no section has begun.
    var isNotStarted: Bool {
        if case .notStarted = self { return true }
        return false
    }
}
