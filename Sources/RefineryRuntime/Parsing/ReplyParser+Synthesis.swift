// Synthesis replies: JSON first, llm-consortium's XML-like tags as a fallback.

internal import Foundation

extension ReplyParser {
    private static let synthesisTextKeys = ["synthesis", "final_answer", "answer", "response"]

    static func synthesis(fromJSON json: JSONValue) -> Result<Synthesis, ReplyParseError> {
        // `{"synthesis": {"synthesis": "...", "confidence": ...}}`: read the inner object.
        var object = json
        if case .object? = json["synthesis"], let inner = json["synthesis"], inner["confidence"] != nil {
            object = inner
        }
        let synthesisText = text(object.first(synthesisTextKeys))
        guard !isPlaceholder(synthesisText) else {
            return .failure(ReplyParseError(message: "the synthesis is missing or empty (or only a placeholder)"))
        }
        guard let rawConfidence = object["confidence"] else {
            return .failure(ReplyParseError(message: "the synthesis has no \"confidence\" (a number from 0 to 1)"))
        }
        let confidence: Double
        switch self.confidence(from: rawConfidence) {
        case .success(let value): confidence = value
        case .failure(let error): return .failure(error)
        }
        let needsIteration: Bool
        switch flag(object.first(["needs_iteration", "needs_another_iteration", "iterate"])) {
        case .success(let value): needsIteration = value
        case .failure(let error): return .failure(error)
        }
        return .success(
            Synthesis(
                synthesis: synthesisText,
                confidence: confidence,
                dissent: text(object.first(["dissent", "dissenting_views", "disagreements"])),
                refinementAreas: listOrLines(object.first(["refinement_areas", "areas_for_refinement"])),
                needsIteration: needsIteration,
                ranking: listOrLines(object["ranking"]).map(rankingLabel)
            )
        )
    }

    /// Confidence in 0...1. A value above 1 (up to 100) or a string ending in `%` is a percentage.
    /// Exactly 1 means 100 %.
    static func confidence(from value: JSONValue) -> Result<Double, ReplyParseError> {
        let number: Double
        var percent = false
        switch value {
        case .number(let value):
            number = value
        case .string(let string):
            var text = trimmed(string)
            if text.hasSuffix("%") {
                percent = true
                text = trimmed(text.dropLast())
            }
            guard let value = Double(text) else {
                return .failure(ReplyParseError(message: "the confidence \"\(string)\" is not a number from 0 to 1"))
            }
            number = value
        default:
            return .failure(
                ReplyParseError(message: "the confidence must be a number from 0 to 1, found \(kindName(value))")
            )
        }
        guard number.isFinite, number >= 0, number <= 100, !(percent && number > 100) else {
            return .failure(
                ReplyParseError(message: "the confidence \(formatted(number)) is outside 0–1 (or 0–100 %)")
            )
        }
        return .success(percent || number > 1 ? number / 100 : number)
    }

    /// A boolean from `true`/`false`, `"yes"`/`"no"`, `"true"`/`"false"` or 0/1; `false` when absent.
    static func flag(_ value: JSONValue?) -> Result<Bool, ReplyParseError> {
        switch value {
        case nil, .null?: return .success(false)
        case .bool(let flag)?: return .success(flag)
        case .number(let number)? where number == 0 || number == 1: return .success(number == 1)
        case .string(let string)?:
            switch trimmed(string).lowercased() {
            case "yes", "y", "true": return .success(true)
            case "no", "n", "false": return .success(false)
            default: break
            }
        default: break
        }
        return .failure(ReplyParseError(message: "\"needs_iteration\" must be true or false"))
    }

    /// Strings from an array, or from a string split into lines (bullets and numbering stripped) or commas.
    static func listOrLines(_ value: JSONValue?) -> [String] {
        guard case .string(let string)? = value else { return strings(value) }
        let separator: Character = string.contains("\n") ? "\n" : ","
        return string.split(separator: separator).map { stripListMarker(String($0)) }.filter { !$0.isEmpty }
    }

    /// `Response B` → `B`; other ranking entries unchanged.
    private static func rankingLabel(_ entry: String) -> String {
        for prefix in ["response ", "answer "] where entry.lowercased().hasPrefix(prefix) {
            return trimmed(entry.dropFirst(prefix.count))
        }
        return entry
    }

    /// llm-consortium's arbiter format: `<synthesis>…</synthesis><confidence>0.8</confidence>…`.
    static func taggedSynthesis(in reply: String) -> Result<Synthesis, ReplyParseError>? {
        guard let body = tagContent("synthesis", in: reply) else { return nil }
        var json: [(key: String, value: JSONValue)] = [("synthesis", .string(body))]
        for tag in ["confidence", "dissent", "refinement_areas", "needs_iteration", "ranking"] {
            if let content = tagContent(tag, in: reply) { json.append((tag, .string(content))) }
        }
        return synthesis(fromJSON: .object(json))
    }

    /// The text between `<tag>` and `</tag>` (case-insensitive), trimmed; `nil` when either is missing.
    static func tagContent(_ tag: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(tag)>", options: .caseInsensitive),
            let close = text.range(of: "</\(tag)>", options: .caseInsensitive, range: open.upperBound..<text.endIndex)
        else { return nil }
        return trimmed(text[open.upperBound..<close.lowerBound])
    }
}
