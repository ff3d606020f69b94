// The one lookup of a PromptContext's template values, by the compiler's `PromptVariable` names. The
// plain-text fast path calls it on demand, without building a `[String: Any]` tree and casting its values
// back (building and casting were about a tenth of the engine's CPU per call); the tree Mustache renders
// (`templateValues()`) is built from it, so the two render paths cannot disagree on a name or a value.
// Lists and objects are positions in the context, not copies of it, so pushing and matching them is free.

import RefineryCompiler

/// A name templates use, resolved once when a template is compiled: the compiler's
/// ``PromptVariable``, so the names the engine looks up are the ones the compiler checks against.
typealias TemplateName = PromptVariable

/// A value a plain template sees: text, a flag, a list, or an object (the context or a part of it).
enum TemplateValue {
    case string(String)
    case bool(Bool)
    case list(List)
    /// The whole context (the top of the stack).
    case root
    case object(Object)

    /// A list the context holds.
    enum List {
        case history
        case historyReviews(Int)
        case peers
        case answers
        case reviews
        case strengths(Int)
        case weaknesses(Int)
        case suggestions(Int)
        case refinementAreas
        case questions
        case verificationAnswers

        /// How many items the list has in `context`.
        func count(in context: PromptContext) -> Int {
            switch self {
            case .history: context.ownHistory.count
            case .historyReviews(let entry): context.ownHistory[entry].reviews.count
            case .peers: context.peers.count
            case .answers: context.answersToScore.count
            case .reviews: context.reviewsReceived.count
            case .strengths(let review): context.reviewsReceived[review].evaluation.strengths.count
            case .weaknesses(let review): context.reviewsReceived[review].evaluation.weaknesses.count
            case .suggestions(let review): context.reviewsReceived[review].evaluation.suggestions.count
            case .refinementAreas: context.synthesis?.refinementAreas.count ?? 0
            case .questions: context.questions.count
            case .verificationAnswers: context.verificationAnswers.count
            }
        }

        /// Item `index` of the list.
        func item(_ index: Int, in context: PromptContext) -> TemplateValue {
            switch self {
            case .history: .object(.history(index))
            case .historyReviews(let entry): .string(context.ownHistory[entry].reviews[index])
            case .peers: .object(.peer(index))
            case .answers: .object(.answer(index))
            case .reviews: .object(.review(index))
            case .strengths(let review): .string(context.reviewsReceived[review].evaluation.strengths[index])
            case .weaknesses(let review): .string(context.reviewsReceived[review].evaluation.weaknesses[index])
            case .suggestions(let review): .string(context.reviewsReceived[review].evaluation.suggestions[index])
            case .refinementAreas: .string(context.synthesis?.refinementAreas[index] ?? "")
            case .questions: .object(.question(index))
            case .verificationAnswers: .object(.verification(index))
            }
        }
    }

    /// An object inside the context, by position.
    enum Object {
        case history(Int)
        case peer(Int)
        case answer(Int)
        case answerUnderReview
        case review(Int)
        case synthesis
        case question(Int)
        case verification(Int)
    }

    /// The child `name`, exactly as the dictionaries of `templateValues()` hold it (`nil` when absent).
    func child(_ name: TemplateName, in context: PromptContext) -> TemplateValue? {
        switch self {
        case .string, .bool, .list: nil
        case .root: context.templateChild(name)
        case .object(let object): Self.child(name, of: object, in: context)
        }
    }

    /// The value as `templateValues()` holds it, for the rare variable that is not text (Swift's description).
    func anyValue(in context: PromptContext) -> Any {
        switch self {
        case .string(let string): string
        case .bool(let flag): flag
        case .list(let list): (0..<list.count(in: context)).map { list.item($0, in: context).anyValue(in: context) }
        case .root: context.templateValues()
        case .object(let object): Self.anyValue(of: object, in: context)
        }
    }

    /// The object's fields as Mustache sees them: every name the lookup answers, with its value.
    private static func anyValue(of object: Object, in context: PromptContext) -> Any {
        fields(in: context) { child($0, of: object, in: context) }
    }

    /// The names `lookup` answers, with their values (the dictionaries Mustache renders).
    static func fields(in context: PromptContext, _ lookup: (TemplateName) -> TemplateValue?) -> [String: Any] {
        var fields: [String: Any] = [:]
        for name in TemplateName.allCases {
            if let value = lookup(name) { fields[name.rawValue] = value.anyValue(in: context) }
        }
        return fields
    }

    private static func child(_ name: TemplateName, of object: Object, in context: PromptContext) -> TemplateValue? {
        switch object {
        case .history(let index):
            switch name {
            case .round: .string(String(context.ownHistory[index].round))
            case .answer: .string(context.ownHistory[index].answer)
            case .reviews: .list(.historyReviews(index))
            case .hasReviews: .bool(!context.ownHistory[index].reviews.isEmpty)
            default: nil
            }
        case .peer(let index): labeledChild(name, context.peers[index])
        case .answer(let index): labeledChild(name, context.answersToScore[index])
        case .answerUnderReview: context.answerUnderReview.flatMap { labeledChild(name, $0) }
        case .review(let index): reviewChild(name, index, in: context)
        case .synthesis: context.synthesis.flatMap { synthesisChild(name, $0) }
        case .question(let index):
            switch name {
            case .number: .string(String(index + 1))
            case .text: .string(context.questions[index])
            default: nil
            }
        case .verification(let index):
            switch name {
            case .number: .string(String(index + 1))
            case .question: .string(context.verificationAnswers[index].question)
            case .answer: .string(context.verificationAnswers[index].answer)
            default: nil
            }
        }
    }

    private static func labeledChild(_ name: TemplateName, _ item: LabeledText) -> TemplateValue? {
        switch name {
        case .label: .string(item.label)
        case .text: .string(item.text)
        default: nil
        }
    }

    private static func reviewChild(_ name: TemplateName, _ index: Int, in context: PromptContext) -> TemplateValue? {
        switch name {
        case .label: .string(context.reviewsReceived[index].label)
        case .score: .string(ReplyParser.formatted(context.reviewsReceived[index].evaluation.score))
        case .rationale: .string(context.reviewsReceived[index].evaluation.rationale)
        case .strengths: .list(.strengths(index))
        case .hasStrengths: .bool(!context.reviewsReceived[index].evaluation.strengths.isEmpty)
        case .weaknesses: .list(.weaknesses(index))
        case .hasWeaknesses: .bool(!context.reviewsReceived[index].evaluation.weaknesses.isEmpty)
        case .suggestions: .list(.suggestions(index))
        case .hasSuggestions: .bool(!context.reviewsReceived[index].evaluation.suggestions.isEmpty)
        default: nil
        }
    }

    private static func synthesisChild(_ name: TemplateName, _ synthesis: Synthesis) -> TemplateValue? {
        switch name {
        case .text: .string(synthesis.synthesis)
        case .confidence: .string(ConvergenceJudge.number(synthesis.confidence))
        case .hasDissent: .bool(PromptContext.present(synthesis.dissent))
        case .dissent: .string(synthesis.dissent)
        case .hasRefinementAreas: .bool(!synthesis.refinementAreas.isEmpty)
        case .refinementAreas: .list(.refinementAreas)
        case .needsIteration: .string(synthesis.needsIteration ? "yes" : "no")
        case .ranking: .string(synthesis.ranking.joined(separator: ", "))
        default: nil
        }
    }
}

extension PromptContext {
    /// The top-level value `name` of `templateValues()`, computed alone.
    func templateChild(_ name: TemplateName) -> TemplateValue? {
        switch name {
        case .prompt: .string(prompt)
        case .questionCount: .string(String(questionCount))
        case .anonymous: .bool(anonymous)
        case .hasExtraContext: .bool(Self.present(extraContext))
        case .extraContext: Self.presentValue(extraContext)
        case .hasOwnAnswer: .bool(Self.present(ownAnswer))
        case .ownAnswer: Self.presentValue(ownAnswer)
        case .hasDraft: .bool(Self.present(draft))
        case .draft: Self.presentValue(draft)
        case .hasQuestion: .bool(Self.present(question))
        case .question: Self.presentValue(question)
        case .hasRubric: .bool(Self.present(rubric))
        case .rubric: Self.presentValue(rubric)
        case .hasHistory: .bool(!ownHistory.isEmpty)
        case .history: .list(.history)
        case .hasPeers: .bool(!peers.isEmpty)
        case .peers: .list(.peers)
        case .hasAnswer: .bool(answerUnderReview != nil)
        case .answer: answerUnderReview == nil ? nil : .object(.answerUnderReview)
        case .hasAnswers: .bool(!answersToScore.isEmpty)
        case .answers: .list(.answers)
        case .labels: .string(labelList)
        case .labelsJson: .string(labelsJSON)
        case .reviews: .list(.reviews)
        case .hasReviews: .bool(!reviewsReceived.isEmpty)
        case .hasSynthesis: .bool(synthesis != nil)
        case .synthesis: synthesis == nil ? nil : .object(.synthesis)
        case .hasQuestions: .bool(!questions.isEmpty)
        case .questions: .list(.questions)
        case .hasVerificationAnswers: .bool(!verificationAnswers.isEmpty)
        case .verificationAnswers: .list(.verificationAnswers)
        default: nil
        }
    }

    private static func presentValue(_ value: String?) -> TemplateValue? {
        guard let value, present(value) else { return nil }
        return .string(value)
    }
}
