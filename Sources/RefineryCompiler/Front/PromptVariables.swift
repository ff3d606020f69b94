// The one table of the variables a stage's prompt templates are rendered with. The compiler checks a
// `prompt:` override against it (a name the stage does not provide, a list or object shown as text);
// the runtime's renderer reads its names from here, so the two cannot drift apart.

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

/// The template variables of each stage kind, the Mustache view of the engine's prompt context.
package enum PromptVariables {
    private typealias Shape = PromptValueShape

    private static let labeled: Shape = .object(["label": .text, "text": .text])
    private static let review: Shape = .object([
        "label": .text, "score": .text, "rationale": .text, "strengths": .list(.text), "has_strengths": .flag,
        "weaknesses": .list(.text), "has_weaknesses": .flag, "suggestions": .list(.text), "has_suggestions": .flag,
    ])
    private static let history: Shape = .object([
        "round": .text, "answer": .text, "reviews": .list(.text), "has_reviews": .flag,
    ])
    private static let synthesis: Shape = .object([
        "text": .text, "confidence": .text, "has_dissent": .flag, "dissent": .text, "has_refinement_areas": .flag,
        "refinement_areas": .list(.text), "needs_iteration": .text, "ranking": .text,
    ])

    /// Every stage's templates see the task and the extra context.
    private static let common: [String: Shape] = [
        "prompt": .text, "has_extra_context": .flag, "extra_context": .text,
    ]

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
            [
                "has_own_answer": .flag, "own_answer": .text, "has_history": .flag, "history": .list(history),
                "has_peers": .flag, "peers": .list(labeled),
                "has_synthesis": .flag, "synthesis": synthesis,
            ]
        case "evaluate":
            // evaluatePairwise (one answer), evaluateBatched (several).
            [
                "has_answer": .flag, "answer": labeled, "has_answers": .flag, "answers": .list(labeled),
                "labels": .text, "labels_json": .text, "has_rubric": .flag, "rubric": .text,
                "anonymous": .flag,
            ]
        case "refine":
            // refine (own answer and the reviews it received), critiqueRevise (a draft).
            [
                "has_own_answer": .flag, "own_answer": .text, "has_reviews": .flag, "reviews": .list(review),
                "has_draft": .flag, "draft": .text,
            ]
        case "synthesize":
            ["has_answers": .flag, "answers": .list(labeled), "labels": .text, "labels_json": .text]
        case "verify":
            // verifyPlan, verifyAnswer (the question alone), verifyRevise.
            [
                "has_draft": .flag, "draft": .text, "question_count": .text, "has_question": .flag, "question": .text,
                "has_questions": .flag, "questions": .list(.object(["number": .text, "text": .text])),
                "has_verification_answers": .flag,
                "verification_answers": .list(.object(["number": .text, "question": .text, "answer": .text])),
            ]
        default:
            [:]
        }
    }

    /// The stage keywords that send prompts.
    package static let stages = ["propose", "evaluate", "refine", "synthesize", "verify"]

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
