// Evaluation replies: finding the score wherever the model put it, and the rubric lists.

extension ReplyParser {
    /// Keys a model may use for its score, most specific first.
    private static let scoreKeys = ["score", "rating", "overall_score", "final_score", "overall", "grade"]

    static func evaluation(fromJSON json: JSONValue) -> Result<Evaluation, ReplyParseError> {
        guard case .object = json else {
            return .failure(ReplyParseError(message: "expected a JSON object with a score, found \(kindName(json))"))
        }
        guard let holder = scoreHolder(in: json, depth: 0), let raw = holder.first(scoreKeys) else {
            return .failure(ReplyParseError(message: "the JSON evaluation has no \"score\" field"))
        }
        return score(from: raw).map { score in
            Evaluation(
                strengths: strings(holder["strengths"] ?? json["strengths"]),
                weaknesses: strings(holder["weaknesses"] ?? json["weaknesses"]),
                suggestions: strings(holder["suggestions"] ?? json["suggestions"]),
                rationale: text(
                    holder.first(["rationale", "reasoning", "justification", "explanation"])
                        ?? json.first(["rationale", "reasoning", "justification", "explanation"])),
                score: score
            )
        }
    }

    /// The object that holds the score: `json` itself, or the first nested object (depth-first) with a score key.
    private static func scoreHolder(in json: JSONValue, depth: Int) -> JSONValue? {
        guard depth < 4, case .object(let pairs) = json else { return nil }
        if json.first(scoreKeys) != nil { return json }
        for pair in pairs {
            if let holder = scoreHolder(in: pair.value, depth: depth + 1) { return holder }
        }
        return nil
    }

    /// A score from a JSON value: a number, a string ("8", "8.5", "8/10", "8 out of 10") or an object
    /// holding one (`{"value": 8}`). Out of 1...10 is an error.
    static func score(from value: JSONValue) -> Result<Double, ReplyParseError> {
        switch value {
        case .number(let number):
            return checkedScore(number)
        case .string(let string):
            if let number = Double(trimmed(string)) { return checkedScore(number) }
            switch proseScore(in: string, bareNumberAllowed: true) {
            case .success(let score?): return .success(score)
            case .success(nil):
                return .failure(ReplyParseError(message: "the score \"\(string)\" is not a number from 1 to 10"))
            case .failure(let error): return .failure(error)
            }
        case .object:
            if let inner = value.first(scoreKeys + ["value"]) { return score(from: inner) }
            return .failure(ReplyParseError(message: "the score object has no \"value\""))
        default:
            return .failure(
                ReplyParseError(message: "the score must be a number from 1 to 10, found \(kindName(value))")
            )
        }
    }

    static func checkedScore(_ number: Double) -> Result<Double, ReplyParseError> {
        guard number.isFinite, scoreRange.contains(number) else {
            return .failure(ReplyParseError(message: "the score \(formatted(number)) is outside the 1–10 scale"))
        }
        return .success(number)
    }

    /// A score written in prose: `Score: 8.5`, `Rating - 7/10`, `8 out of 10`, `9/10`. With
    /// `bareNumberAllowed`, a lone leading number counts too. A denominator other than 10 is an error
    /// (the rubric is 1–10; rescaling would hide a misunderstanding). `nil` when there is no score.
    static func proseScore(
        in text: String, bareNumberAllowed: Bool = false
    ) -> Result<Double?, ReplyParseError> {
        let number = #/(-?\d+(?:\.\d+)?)/#
        let labelled =
            #/
            (?i) \b (?:overall \s+)? (?:score|rating|grade) \b \s* (?:\(1-10\))? \s* (?:is|of|[:=\-])? \s* \** \s*
            (-?\d+(?:\.\d+)?) \s* (?: (?:\/|out \s+ of) \s* (\d+(?:\.\d+)?) )?
            /#
        let fraction = #/(?i)(-?\d+(?:\.\d+)?)\s*(?:/|out\s+of)\s*(\d+(?:\.\d+)?)/#
        let found: (value: Substring, denominator: Substring?)?
        if let match = text.firstMatch(of: labelled) {
            found = (match.output.1, match.output.2)
        } else if let match = text.firstMatch(of: fraction) {
            found = (match.output.1, match.output.2)
        } else if bareNumberAllowed, let match = trimmed(text).prefixMatch(of: number) {
            found = (match.output.1, nil)
        } else {
            found = nil
        }
        guard let found, let value = Double(found.value) else { return .success(nil) }
        if let denominator = found.denominator, let scale = Double(denominator), scale != 10 {
            return .failure(
                ReplyParseError(
                    message: "the score \(found.value)/\(denominator) is not on the 1–10 scale; "
                        + "give a score out of 10"
                )
            )
        }
        return checkedScore(value).map { Optional($0) }
    }

    /// A list of strings from an array or a single string; other values are dropped.
    static func strings(_ value: JSONValue?) -> [String] {
        switch value {
        case .array(let elements)?:
            elements.compactMap { element in
                switch element {
                case .string(let string): nonEmpty(trimmed(string))
                case .number(let number): formatted(number)
                case .object: element.first(["text", "point", "item", "description"]).map { text($0) }
                default: nil
                }
            }
        case .string(let string)?:
            nonEmpty(trimmed(string)).map { [$0] } ?? []
        default:
            []
        }
    }

    private static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

    /// A string from a string, number or array (joined by newlines); empty otherwise.
    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let string)?: trimmed(string)
        case .number(let number)?: formatted(number)
        case .array?: strings(value).joined(separator: "\n")
        default: ""
        }
    }

    static func formatted(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    static func kindName(_ value: JSONValue) -> String {
        switch value {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}
