// The reply shapes the parser knows, used to pick a format reminder.

/// The kind of structured reply a stage expects.
package enum ReplyKind: Sendable, Hashable {
    /// One JSON evaluation (pairwise mode).
    case evaluation
    /// One JSON evaluation per label (batched mode).
    case batchedEvaluation(labels: [String])
    /// The arbiter's JSON synthesis.
    case synthesis
    /// `<critique>` and `<revised>` blocks.
    case critiqueRevise
    /// A JSON array of verification questions.
    case verificationQuestions
}
