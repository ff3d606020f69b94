// What a finished graph node leaves for the nodes that depend on it.

import RefineryCompiler

/// What a finished node left for the nodes after it.
struct NodeResult: Sendable {
    /// An answer, revision, draft or verification answer.
    var text: String?
    /// A synthesis.
    var synthesis: Synthesis?
    /// Planned verification questions.
    var questions: [String]?
    /// The model that produced `text`.
    var model: ModelRef?
    /// Why no call was made or why it failed; `nil` when the node did its work.
    var skippedReason: String?

    static func skipped(_ reason: String) -> NodeResult { NodeResult(skippedReason: reason) }
}
