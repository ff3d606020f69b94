// THROWAWAY: minimal stand-ins for the "judges" developer's API (parsing, prompts, convergence),
// so the engine compiles and its tests run before that work lands on main. Deleted on merge.

import Foundation
package import RefineryCompiler

package struct Evaluation: Sendable, Hashable, Codable {
    package var strengths: [String]
    package var weaknesses: [String]
    package var suggestions: [String]
    package var rationale: String
    package var score: Double
    package init(
        strengths: [String] = [], weaknesses: [String] = [], suggestions: [String] = [], rationale: String = "",
        score: Double
    ) {
        self.strengths = strengths
        self.weaknesses = weaknesses
        self.suggestions = suggestions
        self.rationale = rationale
        self.score = score
    }
}

/// An arbiter's synthesis of the members' answers (shim).
public struct Synthesis: Sendable, Hashable, Codable {
    /// The merged answer.
    public var synthesis: String
    /// Confidence 0...1.
    public var confidence: Double
    /// Disagreements.
    public var dissent: String
    /// What the next round should work on.
    public var refinementAreas: [String]
    /// Whether another round is asked for.
    public var needsIteration: Bool
    /// Labels best first.
    public var ranking: [String]
    /// Creates a synthesis.
    public init(
        synthesis: String, confidence: Double, dissent: String = "", refinementAreas: [String] = [],
        needsIteration: Bool = false, ranking: [String] = []
    ) {
        self.synthesis = synthesis
        self.confidence = confidence
        self.dissent = dissent
        self.refinementAreas = refinementAreas
        self.needsIteration = needsIteration
        self.ranking = ranking
    }
}

package struct ReplyParseError: Error, Sendable, Hashable {
    package var message: String
    package init(message: String) { self.message = message }
}

package enum ReplyKind: Sendable, Hashable {
    case evaluation
    case batchedEvaluation(labels: [String])
    case synthesis
    case critiqueRevise
    case verificationQuestions
}

package enum ReplyParser {
    private static func object(_ reply: String) -> Any? {
        guard let start = reply.firstIndex(where: { $0 == "{" || $0 == "[" }),
            let end = reply.lastIndex(where: { $0 == "}" || $0 == "]" }), start <= end
        else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(reply[start...end].utf8))
    }

    private static func evaluation(_ any: Any?) -> Result<Evaluation, ReplyParseError> {
        guard let dict = any as? [String: Any], let score = (dict["score"] as? NSNumber)?.doubleValue else {
            return .failure(ReplyParseError(message: "no score"))
        }
        guard (1...10).contains(score) else { return .failure(ReplyParseError(message: "score out of range")) }
        return .success(
            Evaluation(
                strengths: dict["strengths"] as? [String] ?? [], weaknesses: dict["weaknesses"] as? [String] ?? [],
                suggestions: dict["suggestions"] as? [String] ?? [], rationale: dict["rationale"] as? String ?? "",
                score: score))
    }

    package static func evaluation(from reply: String) -> Result<Evaluation, ReplyParseError> {
        evaluation(object(reply))
    }

    package static func batchedEvaluations(
        from reply: String, labels: [String]
    ) -> Result<[String: Evaluation], ReplyParseError> {
        guard let dict = object(reply) as? [String: Any] else { return .failure(ReplyParseError(message: "no object")) }
        var result: [String: Evaluation] = [:]
        for label in labels {
            switch evaluation(dict[label]) {
            case .success(let value): result[label] = value
            case .failure(let error): return .failure(error)
            }
        }
        return .success(result)
    }

    package static func synthesis(from reply: String) -> Result<Synthesis, ReplyParseError> {
        guard let dict = object(reply) as? [String: Any], let text = dict["synthesis"] as? String,
            let confidence = (dict["confidence"] as? NSNumber)?.doubleValue
        else { return .failure(ReplyParseError(message: "no synthesis")) }
        return .success(
            Synthesis(
                synthesis: text, confidence: confidence, dissent: dict["dissent"] as? String ?? "",
                refinementAreas: dict["refinement_areas"] as? [String] ?? [],
                needsIteration: dict["needs_iteration"] as? Bool ?? false, ranking: dict["ranking"] as? [String] ?? []))
    }

    private static func block(_ tag: String, in reply: String) -> String? {
        guard let open = reply.range(of: "<\(tag)>"), let close = reply.range(of: "</\(tag)>"),
            open.upperBound <= close.lowerBound
        else { return nil }
        return String(reply[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    package static func critiqueRevise(
        from reply: String
    ) -> Result<(critique: String, revised: String), ReplyParseError> {
        guard let revised = block("revised", in: reply) else { return .failure(ReplyParseError(message: "no revised")) }
        return .success((block("critique", in: reply) ?? "", revised))
    }

    package static func verificationQuestions(from reply: String, max: Int) -> Result<[String], ReplyParseError> {
        let parsed = object(reply)
        let list = parsed as? [String] ?? (parsed as? [String: Any])?["questions"] as? [String]
        guard let list, !list.isEmpty else { return .failure(ReplyParseError(message: "no questions")) }
        return .success(Array(list.prefix(max)))
    }

    package static func formatReminder(for kind: ReplyKind) -> String {
        "\n\nREMINDER: reply with the requested format only."
    }
}

package enum JSONSchemas {
    package static let evaluation = ResponseFormat(name: "evaluation", schemaJSON: "{}")
    package static func batchedEvaluation(labels: [String]) -> ResponseFormat {
        ResponseFormat(name: "batched_evaluation", schemaJSON: "{\"labels\":\"\(labels.joined(separator: ","))\"}")
    }
    package static let synthesis = ResponseFormat(name: "synthesis", schemaJSON: "{}")
    package static let verificationQuestions = ResponseFormat(name: "verification_questions", schemaJSON: "{}")
}

package struct HistoryEntry: Sendable, Hashable {
    package var round: Int
    package var answer: String
    package var reviews: [String]
    package init(round: Int, answer: String, reviews: [String] = []) {
        self.round = round
        self.answer = answer
        self.reviews = reviews
    }
}

package struct LabeledText: Sendable, Hashable {
    package var label: String
    package var text: String
    package init(label: String, text: String) {
        self.label = label
        self.text = text
    }
}

package struct LabeledReview: Sendable, Hashable {
    package var label: String
    package var evaluation: Evaluation
    package init(label: String, evaluation: Evaluation) {
        self.label = label
        self.evaluation = evaluation
    }
}

package struct QuestionAnswer: Sendable, Hashable {
    package var question: String
    package var answer: String
    package init(question: String, answer: String) {
        self.question = question
        self.answer = answer
    }
}

package struct PromptContext: Sendable {
    package var prompt: String
    package var extraContext: String?
    package var ownAnswer: String?
    package var ownHistory: [HistoryEntry]
    package var peers: [LabeledText]
    package var synthesis: Synthesis?
    package var answerUnderReview: LabeledText?
    package var answersToScore: [LabeledText]
    package var rubric: String?
    package var reviewsReceived: [LabeledReview]
    package var draft: String?
    package var questions: [String]
    package var question: String?
    package var verificationAnswers: [QuestionAnswer]
    package var questionCount: Int
    package init(
        prompt: String, extraContext: String? = nil, ownAnswer: String? = nil, ownHistory: [HistoryEntry] = [],
        peers: [LabeledText] = [], synthesis: Synthesis? = nil, answerUnderReview: LabeledText? = nil,
        answersToScore: [LabeledText] = [], rubric: String? = nil, reviewsReceived: [LabeledReview] = [],
        draft: String? = nil, questions: [String] = [], question: String? = nil,
        verificationAnswers: [QuestionAnswer] = [], questionCount: Int = 3
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
    }
}

package enum PromptKind: String, Sendable, Hashable, CaseIterable {
    case propose, proposeWithHistory, proposeWithPeers, proposeWithSynthesis, evaluatePairwise, evaluateBatched
    case refine, critiqueRevise, synthesize, verifyPlan, verifyAnswer, verifyRevise
}

package struct RenderedPrompt: Sendable, Hashable {
    package var system: String?
    package var user: String
    package init(system: String?, user: String) {
        self.system = system
        self.user = user
    }
}

package struct PromptRenderer: Sendable {
    private let overrides: PromptTemplate?
    package init(overrides: PromptTemplate?) { self.overrides = overrides }

    package func render(_ kind: PromptKind, _ context: PromptContext) throws -> RenderedPrompt {
        var lines = ["[\(kind.rawValue)]", "TASK: \(context.prompt)"]
        if let extra = context.extraContext { lines.append("CONTEXT: \(extra)") }
        for entry in context.ownHistory {
            lines.append("HISTORY \(entry.round): \(entry.answer) REVIEWS: \(entry.reviews.joined(separator: " | "))")
        }
        for peer in context.peers { lines.append("PEER \(peer.label): \(peer.text)") }
        if let synthesis = context.synthesis {
            lines.append("SYNTHESIS: \(synthesis.synthesis) AREAS: \(synthesis.refinementAreas.joined(separator: "; "))")
        }
        if let own = context.ownAnswer { lines.append("OWN: \(own)") }
        if let review = context.answerUnderReview { lines.append("REVIEW \(review.label): \(review.text)") }
        for answer in context.answersToScore { lines.append("ANSWER \(answer.label): \(answer.text)") }
        if let rubric = context.rubric { lines.append("RUBRIC: \(rubric)") }
        for review in context.reviewsReceived {
            lines.append("RECEIVED \(review.label): \(review.evaluation.score) \(review.evaluation.rationale)")
        }
        if let draft = context.draft { lines.append("DRAFT: \(draft)") }
        if let question = context.question { lines.append("QUESTION: \(question)") }
        for pair in context.verificationAnswers { lines.append("QA: \(pair.question) => \(pair.answer)") }
        if kind == .verifyPlan { lines.append("COUNT: \(context.questionCount)") }
        return RenderedPrompt(system: overrides?.system, user: overrides?.user ?? lines.joined(separator: "\n"))
    }
}

package struct RoundSignals: Sendable {
    package var round: Int
    package var meanScores: [String: Double]
    package var answers: [String: String]
    package var synthesis: Synthesis?
    package var draft: String?
    package var activeMembers: [String]
    package init(
        round: Int, meanScores: [String: Double] = [:], answers: [String: String] = [:], synthesis: Synthesis? = nil,
        draft: String? = nil, activeMembers: [String] = []
    ) {
        self.round = round
        self.meanScores = meanScores
        self.answers = answers
        self.synthesis = synthesis
        self.draft = draft
        self.activeMembers = activeMembers
    }
}

package struct CloseDecision: Sendable, Hashable, Codable {
    package var shouldStop: Bool
    package var converged: Bool
    package var signal: String
    package var leader: String?
    package var rolledBackTo: String?
    package init(shouldStop: Bool, converged: Bool, signal: String, leader: String? = nil, rolledBackTo: String? = nil) {
        self.shouldStop = shouldStop
        self.converged = converged
        self.signal = signal
        self.leader = leader
        self.rolledBackTo = rolledBackTo
    }
}

package actor ConvergenceJudge {
    private let strategy: ConvergenceStrategy
    private let iterations: Iterations
    private var leader: String?
    private var streak = 0
    private var lastDraft: String?

    package init(
        strategy: ConvergenceStrategy, iterations: Iterations, embedder: (any Embedder)?, clock: any Clock<Duration>
    ) {
        self.strategy = strategy
        self.iterations = iterations
    }

    package func close(_ signals: RoundSignals) async -> CloseDecision {
        var holds = false
        var signal = strategy.name
        var currentLeader: String?
        switch strategy {
        case .voteThreshold(let threshold, let stability):
            let best = signals.meanScores.values.max()
            let top = signals.activeMembers.filter { signals.meanScores[$0] == best && best != nil }
            if let previous = leader, top.contains(previous) {
                currentLeader = previous
            } else {
                currentLeader = top.first
            }
            if currentLeader != nil, currentLeader == leader { streak += 1 } else { streak = currentLeader == nil ? 0 : 1 }
            leader = currentLeader
            let mean = best ?? 0
            holds = mean >= threshold && streak >= stability
            signal = "vote-threshold: \(currentLeader ?? "-") mean \(mean) leader \(streak)/\(stability) rounds"
        case .confidence(let threshold):
            let confidence = signals.synthesis?.confidence ?? 0
            holds = confidence >= threshold && !(signals.synthesis?.needsIteration ?? true)
            signal = "confidence: \(confidence)"
        case .unanimous(let threshold):
            holds = !signals.meanScores.isEmpty && signals.meanScores.values.allSatisfy { $0 >= threshold }
            signal = "unanimous"
        case .semantic:
            holds = lastDraft != nil && lastDraft == signals.draft
            lastDraft = signals.draft
            signal = "semantic: char"
        case .none:
            signal = "none"
        }
        if signals.round < iterations.min {
            return CloseDecision(shouldStop: false, converged: false, signal: signal, leader: currentLeader)
        }
        if holds { return CloseDecision(shouldStop: true, converged: true, signal: signal, leader: currentLeader) }
        return CloseDecision(
            shouldStop: signals.round >= iterations.max, converged: false,
            signal: signals.round >= iterations.max ? "max-rounds: \(iterations.max)" : signal, leader: currentLeader)
    }
}
