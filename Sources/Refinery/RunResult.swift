// What a finished (or cancelled) run hands back to the CLI.

public import RefineryCompiler
public import RefineryRuntime

/// The result of `run` or `resume`.
public struct RunResult: Sendable {
    /// The engine's outcome.
    public var outcome: RunOutcome
    /// The workflow that ran.
    public var workflow: Workflow
    /// The JSON document (`--output-format json`).
    public var report: RunReport
    /// The exit code for the status.
    public var exitCode: RunExitCode

    /// Creates a result.
    public init(outcome: RunOutcome, workflow: Workflow, report: RunReport, exitCode: RunExitCode) {
        self.outcome = outcome
        self.workflow = workflow
        self.report = report
        self.exitCode = exitCode
    }
}

extension RunExitCode {
    /// The exit code for a run status (DESIGN §4): a single model that answered is a success.
    public init(_ status: RunStatus) {
        switch status {
        case .converged, .singleModel: self = .success
        case .maxRounds: self = .maxRoundsWithoutConvergence
        case .insufficientModels: self = .quorumNotMet
        case .budgetExhausted, .cancelled, .failed: self = .failure
        }
    }
}
