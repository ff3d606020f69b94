// The prompts the engine sends, one default template each.

/// Which prompt a stage call needs.
package enum PromptKind: String, Sendable, Hashable, CaseIterable {
    /// First answer to the task.
    case propose
    /// Round 2+ answer with the member's own past answers and the reviews they received.
    case proposeWithHistory
    /// Round 2+ answer after seeing every member's current answer (debate).
    case proposeWithPeers
    /// Round 2+ answer guided by the arbiter's synthesis and refinement areas (consortium).
    case proposeWithSynthesis
    /// Score one labelled answer.
    case evaluatePairwise
    /// Score several labelled answers in one reply.
    case evaluateBatched
    /// Revise one's answer from the reviews received.
    case refine
    /// Emit `<critique>` and `<revised>` for a draft (self-refine).
    case critiqueRevise
    /// Merge labelled answers into a synthesis with confidence.
    case synthesize
    /// CoVe step 1: plan verification questions for a draft.
    case verifyPlan
    /// CoVe step 2: answer one question in a fresh context (never sees the draft).
    case verifyAnswer
    /// CoVe step 3: revise the draft from the verification answers.
    case verifyRevise
}
