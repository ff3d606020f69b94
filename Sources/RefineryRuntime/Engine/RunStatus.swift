/// How a run ended. The CLI maps it to its exit code.
public enum RunStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// The convergence strategy held (or the workflow has no repeat block and ran once).
    case converged
    /// `iterations.max` rounds ran without convergence.
    case maxRounds
    /// One member answered under a strategy that needs peer scores (`vote-threshold`, `unanimous`),
    /// which one member cannot get: nothing could converge, and nothing failed to.
    case singleModel
    /// Fewer members than `limits.quorum` could answer.
    case insufficientModels
    /// The next call would have passed `limits.budget`; the outcome holds the partial results.
    case budgetExhausted
    /// The caller cancelled the run; every finished call is in the ledger.
    case cancelled
    /// The run could not continue (e.g. no provider could serve any call).
    case failed
}
