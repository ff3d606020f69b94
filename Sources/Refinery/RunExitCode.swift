// The process exit codes of DESIGN §4, shared by the CLI and library callers that script it.

/// How a `refinery` command ends.
public enum RunExitCode: Int32, Sendable, Hashable, CaseIterable {
    /// Converged, or a single model answered.
    case success = 0
    /// An error, or the run was cancelled (Ctrl-C).
    case failure = 1
    /// The maximum number of rounds ran without convergence.
    case maxRoundsWithoutConvergence = 2
    /// Too few members answered (below quorum).
    case quorumNotMet = 3
    /// A configuration or input problem, found before any call.
    case configurationError = 4
}
