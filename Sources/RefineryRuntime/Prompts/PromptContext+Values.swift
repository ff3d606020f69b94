// The Mustache view of a PromptContext: snake_case keys, strings for numbers, `has_*` flags for
// optional parts (templates test the flag, then show the value).

import RefineryCompiler

extension PromptContext {
    /// Every key a template may use, top-level and inside sections (used to reject typos in overrides):
    /// the compiler's table, which also checks each stage's templates when a workflow is compiled.
    static let templateKeys: Set<String> = PromptVariables.allNames

    /// The values templates are rendered with.
    func templateValues() -> [String: Any] {
        var values: [String: Any] = [
            "prompt": prompt, "question_count": String(questionCount), "anonymous": anonymous,
        ]
        func optional(_ key: String, _ value: String?) {
            let present = Self.present(value)
            values["has_" + key] = present
            if present, let value { values[key] = value }
        }
        optional("extra_context", extraContext)
        optional("own_answer", ownAnswer)
        optional("draft", draft)
        optional("question", question)
        optional("rubric", rubric)

        values["has_history"] = !ownHistory.isEmpty
        values["history"] = ownHistory.map(Self.historyValues)
        values["has_peers"] = !peers.isEmpty
        values["peers"] = peers.map(Self.labeled)
        if let answerUnderReview {
            values["has_answer"] = true
            values["answer"] = Self.labeled(answerUnderReview)
        } else {
            values["has_answer"] = false
        }
        values["has_answers"] = !answersToScore.isEmpty
        values["answers"] = answersToScore.map(Self.labeled)
        values["labels"] = labelList
        values["labels_json"] = labelsJSON
        values["reviews"] = reviewsReceived.map(Self.review)
        values["has_reviews"] = !reviewsReceived.isEmpty
        values["has_synthesis"] = synthesis != nil
        if let synthesis { values["synthesis"] = Self.synthesisValues(synthesis) }
        values["has_questions"] = !questions.isEmpty
        values["questions"] = questions.enumerated().map { Self.questionValues($0.offset + 1, $0.element) }
        values["has_verification_answers"] = !verificationAnswers.isEmpty
        values["verification_answers"] = verificationAnswers.enumerated().map {
            Self.verificationValues($0.offset + 1, $0.element)
        }
        return values
    }

    /// Whether an optional part is shown (`has_*`): present and not blank. Checked on the scalars in
    /// place (what trimming would keep), not on a trimmed copy: prompts test these flags on every call.
    static func present(_ value: String?) -> Bool {
        guard let value else { return false }
        return value.unicodeScalars.contains { !$0.properties.isWhitespace }
    }

    var labelList: String { answersToScore.map(\.label).joined(separator: ", ") }

    var labelsJSON: String { "[" + answersToScore.map { "\"\($0.label)\"" }.joined(separator: ", ") + "]" }

    static func historyValues(_ entry: HistoryEntry) -> [String: Any] {
        [
            "round": String(entry.round), "answer": entry.answer, "reviews": entry.reviews,
            "has_reviews": !entry.reviews.isEmpty,
        ]
    }

    static func questionValues(_ number: Int, _ text: String) -> [String: Any] {
        ["number": String(number), "text": text]
    }

    static func verificationValues(_ number: Int, _ item: QuestionAnswer) -> [String: Any] {
        ["number": String(number), "question": item.question, "answer": item.answer]
    }

    static func labeled(_ item: LabeledText) -> [String: Any] {
        ["label": item.label, "text": item.text]
    }

    static func review(_ review: LabeledReview) -> [String: Any] {
        let evaluation = review.evaluation
        return [
            "label": review.label, "score": ReplyParser.formatted(evaluation.score), "rationale": evaluation.rationale,
            "strengths": evaluation.strengths, "has_strengths": !evaluation.strengths.isEmpty,
            "weaknesses": evaluation.weaknesses, "has_weaknesses": !evaluation.weaknesses.isEmpty,
            "suggestions": evaluation.suggestions, "has_suggestions": !evaluation.suggestions.isEmpty,
        ]
    }

    static func synthesisValues(_ synthesis: Synthesis) -> [String: Any] {
        [
            "text": synthesis.synthesis, "confidence": ConvergenceJudge.number(synthesis.confidence),
            "has_dissent": !ReplyParser.trimmed(synthesis.dissent).isEmpty, "dissent": synthesis.dissent,
            "has_refinement_areas": !synthesis.refinementAreas.isEmpty, "refinement_areas": synthesis.refinementAreas,
            "needs_iteration": synthesis.needsIteration ? "yes" : "no",
            "ranking": synthesis.ranking.joined(separator: ", "),
        ]
    }
}
