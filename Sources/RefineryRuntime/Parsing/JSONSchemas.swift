// JSON Schemas for structured replies (OpenAI `json_schema` strict mode, Gemini `responseSchema`).
// `rationale` comes before `score` on purpose: models that write their reasoning first score better.

/// Response formats for the JSON replies the parser reads.
package enum JSONSchemas {
    private static let evaluationObject = """
        {"type":"object","properties":{\
        "strengths":{"type":"array","items":{"type":"string"}},\
        "weaknesses":{"type":"array","items":{"type":"string"}},\
        "suggestions":{"type":"array","items":{"type":"string"}},\
        "rationale":{"type":"string"},\
        "score":{"type":"number","minimum":1,"maximum":10}},\
        "required":["strengths","weaknesses","suggestions","rationale","score"],\
        "additionalProperties":false}
        """

    /// One evaluation: strengths, weaknesses, suggestions, rationale, then score (1–10).
    package static let evaluation = ResponseFormat(name: "evaluation", schemaJSON: evaluationObject)

    /// One evaluation per label, keyed by label, in label order.
    package static func batchedEvaluation(labels: [String]) -> ResponseFormat {
        let properties = labels.map { "\(jsonString($0)):\(evaluationObject)" }.joined(separator: ",")
        let required = labels.map(jsonString).joined(separator: ",")
        return ResponseFormat(
            name: "batched_evaluation",
            schemaJSON: """
                {"type":"object","properties":{\(properties)},"required":[\(required)],"additionalProperties":false}
                """
        )
    }

    /// The arbiter's synthesis.
    package static let synthesis = ResponseFormat(
        name: "synthesis",
        schemaJSON: """
            {"type":"object","properties":{\
            "synthesis":{"type":"string"},\
            "confidence":{"type":"number","minimum":0,"maximum":1},\
            "dissent":{"type":"string"},\
            "refinement_areas":{"type":"array","items":{"type":"string"}},\
            "needs_iteration":{"type":"boolean"},\
            "ranking":{"type":"array","items":{"type":"string"}}},\
            "required":["synthesis","confidence","dissent","refinement_areas","needs_iteration","ranking"],\
            "additionalProperties":false}
            """
    )

    /// Verification questions (an object with a `questions` array: strict mode needs an object at the top).
    package static let verificationQuestions = ResponseFormat(
        name: "verification_questions",
        schemaJSON: """
            {"type":"object","properties":{"questions":{"type":"array","items":{"type":"string"}}},\
            "required":["questions"],"additionalProperties":false}
            """
    )

    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
