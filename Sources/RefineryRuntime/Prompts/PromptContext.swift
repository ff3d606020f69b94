// Everything a prompt template can show. The engine fills the fields a kind needs; the rest stay empty.

/// One earlier round of a member's own work, for `proposeWithHistory`.
package struct HistoryEntry: Sendable, Hashable {
    /// Round number.
    package var round: Int
    /// The member's answer in that round.
    package var answer: String
    /// Reviews the answer received (already rendered as text, without reviewer names).
    package var reviews: [String]

    /// Creates an entry.
    package init(round: Int, answer: String, reviews: [String] = []) {
        self.round = round
        self.answer = answer
        self.reviews = reviews
    }
}

/// A text shown under an anonymous label such as `A` (rendered as "Response A").
package struct LabeledText: Sendable, Hashable {
    /// The label, e.g. `A`.
    package var label: String
    /// The text.
    package var text: String

    /// Creates a labelled text.
    package init(label: String, text: String) {
        self.label = label
        self.text = text
    }
}

/// A review received, under the reviewer's anonymous label.
package struct LabeledReview: Sendable, Hashable {
    /// The reviewer's label, e.g. `Reviewer 1`.
    package var label: String
    /// The review.
    package var evaluation: Evaluation

    /// Creates a labelled review.
    package init(label: String, evaluation: Evaluation) {
        self.label = label
        self.evaluation = evaluation
    }
}

/// A verification question and the answer found for it in a fresh context.
package struct QuestionAnswer: Sendable, Hashable {
    /// The question.
    package var question: String
    /// The answer.
    package var answer: String

    /// Creates a pair.
    package init(question: String, answer: String) {
        self.question = question
        self.answer = answer
    }
}

/// The values a prompt template is rendered with.
package struct PromptContext: Sendable {
    /// Nested names for the element types, for callers that prefer `PromptContext.HistoryEntry`.
    package typealias HistoryEntry = RefineryRuntime.HistoryEntry
    /// See ``RefineryRuntime/LabeledText``.
    package typealias LabeledText = RefineryRuntime.LabeledText
    /// See ``RefineryRuntime/LabeledReview``.
    package typealias LabeledReview = RefineryRuntime.LabeledReview
    /// See ``RefineryRuntime/QuestionAnswer``.
    package typealias QuestionAnswer = RefineryRuntime.QuestionAnswer

    /// The user's task.
    package var prompt: String
    /// Extra context added between rounds (session overrides) or from files.
    package var extraContext: String?
    /// The member's own current answer (refine).
    package var ownAnswer: String?
    /// The member's own earlier answers and reviews, oldest first (`proposeWithHistory`).
    package var ownHistory: [HistoryEntry]
    /// Other members' current answers under labels (`proposeWithPeers`).
    package var peers: [LabeledText]
    /// The arbiter's last synthesis (`proposeWithSynthesis`).
    package var synthesis: Synthesis?
    /// The answer to score (`evaluatePairwise`).
    package var answerUnderReview: LabeledText?
    /// The answers to score (`evaluateBatched`) or to merge (`synthesize`).
    package var answersToScore: [LabeledText]
    /// Extra rubric text from the workflow, appended to the default rubric.
    package var rubric: String?
    /// Reviews the member's answer received (`refine`).
    package var reviewsReceived: [LabeledReview]
    /// The draft under refinement or verification.
    package var draft: String?
    /// The planned verification questions (for display in `verifyRevise`).
    package var questions: [String]
    /// The single verification question (`verifyAnswer`).
    package var question: String?
    /// Answers to the verification questions (`verifyRevise`).
    package var verificationAnswers: [QuestionAnswer]
    /// How many verification questions to plan (`verifyPlan`).
    package var questionCount: Int
    /// Whether answers under review carry shuffled labels (`evaluate: {anonymize: true}`, the default)
    /// rather than their authors' model ids.
    package var anonymous: Bool

    /// Creates a context; only `prompt` is required.
    package init(
        prompt: String, extraContext: String? = nil, ownAnswer: String? = nil, ownHistory: [HistoryEntry] = [],
        peers: [LabeledText] = [], synthesis: Synthesis? = nil, answerUnderReview: LabeledText? = nil,
        answersToScore: [LabeledText] = [], rubric: String? = nil, reviewsReceived: [LabeledReview] = [],
        draft: String? = nil, questions: [String] = [], question: String? = nil,
        verificationAnswers: [QuestionAnswer] = [], questionCount: Int = 3, anonymous: Bool = true
    ) {
        self.prompt = prompt
        self.extraContext = extraContext
        self.ownAnswer = ownAnswer
        self.ownHistory = ownHistory
        self.peers = peers
        self.synthesis = synthesis
        self.answerUnderReview = answerUnderReview
        self.answersToScore = answersToScore
        self.rubric = rubric
        self.reviewsReceived = reviewsReceived
        self.draft = draft
        self.questions = questions
        self.question = question
        self.verificationAnswers = verificationAnswers
        self.questionCount = questionCount
        self.anonymous = anonymous
    }
}

extension PromptContext {
    /// Rough size in bytes of the values a prompt shows (the template's own text not included): the
    /// capacity a rendering reserves up front.
    package var approximateContentBytes: Int {
        prompt.utf8.count + (rubric?.utf8.count ?? 0) + approximateReadingBytes
    }

    /// Rough size in bytes of what the stage shows beside the user prompt and the rubric (which the cost
    /// estimate counts in a stage's overhead): answers, history, reviews, a draft, questions, extra context.
    /// The size of what a call reads in its budget estimate.
    package var approximateReadingBytes: Int {
        func bytes(_ text: String?) -> Int { text?.utf8.count ?? 0 }
        func bytes(_ texts: [String]) -> Int { texts.reduce(0) { $0 + $1.utf8.count } }
        var total = bytes(extraContext) + bytes(ownAnswer) + bytes(draft) + bytes(question)
        for entry in ownHistory { total += bytes(entry.answer) + bytes(entry.reviews) }
        for peer in peers { total += bytes(peer.text) }
        for answer in answersToScore { total += bytes(answer.text) }
        total += bytes(answerUnderReview?.text)
        for review in reviewsReceived {
            total += bytes(review.evaluation.rationale) + bytes(review.evaluation.suggestions)
        }
        total += bytes(questions)
        for item in verificationAnswers { total += bytes(item.question) + bytes(item.answer) }
        if let synthesis { total += bytes(synthesis.synthesis) + bytes(synthesis.refinementAreas) }
        return total
    }
}
