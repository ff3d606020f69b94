// Why a run stops before its chain of sections is done.

import RefineryCompiler

/// Why a run stops before its chain is done.
enum StopReason: Sendable {
    case budget(String)
    case cancelled
    case quorum(String)
    /// The arbiter's every model failed for good: no stage it performs can run (reported as below quorum).
    case arbiterFailed(String)
    /// The run cannot go on (a prompt that cannot be rendered would fail the same way every time).
    case failed(String)
}
