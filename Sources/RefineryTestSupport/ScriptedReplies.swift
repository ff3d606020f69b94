// Reply texts in the shapes the engine's parsers read, for scripts.

import Foundation

/// Builders for structured replies.
package enum ScriptedReplies {
    /// A pairwise evaluation: lists, rationale, then score.
    package static func evaluation(score: Double, rationale: String = "Solid reasoning.") -> String {
        "{\"strengths\": [\"clear\"], \"weaknesses\": [\"terse\"], \"suggestions\": [\"add an example\"], "
            + "\"rationale\": \(quoted(rationale)), \"score\": \(score)}"
    }

    /// A batched evaluation: one evaluation per label.
    package static func batched(_ scores: [String: Double]) -> String {
        let body = scores.keys.sorted().map { label in
            "\(quoted(label)): \(evaluation(score: scores[label] ?? 5))"
        }
        return "{" + body.joined(separator: ", ") + "}"
    }

    /// An arbiter synthesis.
    package static func synthesis(
        _ text: String, confidence: Double, needsIteration: Bool = false, refinementAreas: [String] = [],
        ranking: [String] = []
    ) -> String {
        let areas = refinementAreas.map(quoted).joined(separator: ", ")
        let ranked = ranking.map(quoted).joined(separator: ", ")
        return "{\"synthesis\": \(quoted(text)), \"confidence\": \(confidence), \"dissent\": \"\", "
            + "\"refinement_areas\": [\(areas)], \"needs_iteration\": \(needsIteration), \"ranking\": [\(ranked)]}"
    }

    /// A refiner's critique and revision.
    package static func critiqueRevise(critique: String, revised: String) -> String {
        "<critique>\(critique)</critique>\n<revised>\(revised)</revised>"
    }

    /// Verification questions.
    package static func questions(_ questions: [String]) -> String {
        "{\"questions\": [" + questions.map(quoted).joined(separator: ", ") + "]}"
    }

    private static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}
