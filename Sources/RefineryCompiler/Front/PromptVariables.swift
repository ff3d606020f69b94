// The one table of the variables a stage's prompt templates are rendered with. Each name is spelled
// once, as a `PromptVariable` case; the table gives each stage's names their shapes. The compiler checks
// a `prompt:` override against the table (a name the stage does not provide, a list or object shown as
// text); the runtime's renderer looks values up by `PromptVariable` on both of its paths (the plain-text
// fast path, and the values handed to Mustache, which are built from that same lookup).

/// What a template variable holds: what `{{name}}` may show, and what `{{#name}}` iterates or enters.
package indirect enum PromptValueShape: Sendable, Hashable {
    /// Text, shown by `{{name}}`.
    case text
    /// A yes/no flag (`has_*`), tested by `{{#name}}`.
    case flag
    /// A list, iterated by `{{#name}}…{{/name}}`; each item has the element's shape.
    case list(PromptValueShape)
    /// An object whose fields are visible inside `{{#name}}…{{/name}}`.
    case object([String: PromptValueShape])

    /// What the value is called in a message, with its article.
    var noun: String {
        switch self {
        case .text: "a text"
        case .flag: "a flag"
        case .list: "a list"
        case .object: "an object"
        }
    }
}

/// A name prompt templates use, spelled once: the table below, the compiler's checks and the engine's
/// renderer all name variables by these cases.
package enum PromptVariable: String, CaseIterable, Sendable {
    case prompt
    case hasExtraContext = "has_extra_context"
    case extraContext = "extra_context"
    case hasOwnAnswer = "has_own_answer"
    case ownAnswer = "own_answer"
    case hasHistory = "has_history"
    case history
    case round
    case answer
    case reviews
    case hasReviews = "has_reviews"
    case hasPeers = "has_peers"
    case peers
    case label
    case text
    case hasSynthesis = "has_synthesis"
    case synthesis
    case confidence
    case hasDissent = "has_dissent"
    case dissent
    case hasRefinementAreas = "has_refinement_areas"
    case refinementAreas = "refinement_areas"
    case needsIteration = "needs_iteration"
    case ranking
    case hasAnswer = "has_answer"
    case answers
    case hasAnswers = "has_answers"
    case labels
    case labelsJson = "labels_json"
    case hasRubric = "has_rubric"
    case rubric
    case score
    case rationale
    case strengths
    case hasStrengths = "has_strengths"
    case weaknesses
    case hasWeaknesses = "has_weaknesses"
    case suggestions
    case hasSuggestions = "has_suggestions"
    case hasDraft = "has_draft"
    case draft
    case hasQuestions = "has_questions"
    case questions
    case number
    case hasQuestion = "has_question"
    case question
    case hasVerificationAnswers = "has_verification_answers"
    case verificationAnswers = "verification_answers"
    case questionCount = "question_count"
    case anonymous
}

/// The template variables of each stage kind, the Mustache view of the engine's prompt context.
package enum PromptVariables {
    private typealias Shape = PromptValueShape

    private static let labeled: Shape = object([.label: .text, .text: .text])
    private static let review: Shape = object([
        .label: .text, .score: .text, .rationale: .text, .strengths: .list(.text), .hasStrengths: .flag,
        .weaknesses: .list(.text), .hasWeaknesses: .flag, .suggestions: .list(.text), .hasSuggestions: .flag,
    ])
    private static let history: Shape = object([
        .round: .text, .answer: .text, .reviews: .list(.text), .hasReviews: .flag,
    ])
    private static let synthesis: Shape = object([
        .text: .text, .confidence: .text, .hasDissent: .flag, .dissent: .text, .hasRefinementAreas: .flag,
        .refinementAreas: .list(.text), .needsIteration: .text, .ranking: .text,
    ])

    /// Every stage's templates see the task and the extra context.
    private static let common = fields([.prompt: .text, .hasExtraContext: .flag, .extraContext: .text])

    /// The table's rows are written with ``PromptVariable`` cases, so a name is never spelled twice.
    private static func fields(_ pairs: KeyValuePairs<PromptVariable, Shape>) -> [String: Shape] {
        Dictionary(uniqueKeysWithValues: pairs.map { ($0.key.rawValue, $0.value) })
    }

    private static func object(_ pairs: KeyValuePairs<PromptVariable, Shape>) -> Shape { .object(fields(pairs)) }

    /// The variables a template of `stage` (a stage keyword, e.g. `evaluate`) is rendered with, by the
    /// prompt kinds the stage sends. A template overrides every kind of its stage, so it sees their union.
    package static func variables(forStage stage: String) -> [String: PromptValueShape] {
        common.merging(specific(stage)) { first, _ in first }
    }

    private static func specific(_ stage: String) -> [String: Shape] {
        switch stage {
        case "propose":
            // propose; proposeWithHistory, proposeWithPeers (with the member's own answer),
            // proposeWithSynthesis from round 2.
            fields([
                .hasOwnAnswer: .flag, .ownAnswer: .text, .hasHistory: .flag, .history: .list(history),
                .hasPeers: .flag, .peers: .list(labeled), .hasSynthesis: .flag, .synthesis: synthesis,
            ])
        case "evaluate":
            // evaluatePairwise (one answer), evaluateBatched (several).
            fields([
                .hasAnswer: .flag, .answer: labeled, .hasAnswers: .flag, .answers: .list(labeled),
                .labels: .text, .labelsJson: .text, .hasRubric: .flag, .rubric: .text, .anonymous: .flag,
            ])
        case "refine":
            // refine (own answer and the reviews it received), critiqueRevise (a draft).
            fields([
                .hasOwnAnswer: .flag, .ownAnswer: .text, .hasReviews: .flag, .reviews: .list(review),
                .hasDraft: .flag, .draft: .text,
            ])
        case "synthesize":
            fields([.hasAnswers: .flag, .answers: .list(labeled), .labels: .text, .labelsJson: .text])
        case "verify":
            // verifyPlan, verifyAnswer (the question alone), verifyRevise.
            fields([
                .hasDraft: .flag, .draft: .text, .questionCount: .text, .hasQuestion: .flag, .question: .text,
                .hasQuestions: .flag, .questions: .list(object([.number: .text, .text: .text])),
                .hasVerificationAnswers: .flag,
                .verificationAnswers: .list(object([.number: .text, .question: .text, .answer: .text])),
            ])
        default:
            [:]
        }
    }

    /// The stage keywords that send prompts.
    package static let stages = ["propose", "evaluate", "refine", "synthesize", "verify"]

    /// The first stage (in ``stages``' order) whose templates are given a variable `name`, or `nil` when no stage
    /// provides it: a `--var` or a batch row's column of that name would not reach that stage's templates.
    package static func stage(providing name: String) -> String? { providers[name] }

    private static let providers: [String: String] = {
        var providers: [String: String] = [:]
        for stage in stages {
            for name in variables(forStage: stage).keys where providers[name] == nil { providers[name] = stage }
        }
        return providers
    }()

    /// Every name a template may use at any depth, in any stage.
    package static let allNames: Set<String> = {
        var names: Set<String> = []
        func collect(_ shape: Shape) {
            switch shape {
            case .text, .flag: break
            case .list(let element): collect(element)
            case .object(let fields):
                for (name, field) in fields {
                    names.insert(name)
                    collect(field)
                }
            }
        }
        for stage in stages { collect(.object(variables(forStage: stage))) }
        return names
    }()
}
