// Deciding whether an answer is correct against a reference: the graders of `refinery bench`. Each
// extracts the compared value from both sides the way a `vote` stage does (RefineryRuntime's
// AnswerExtractor), so a vote and its grade agree on what an answer says.

internal import RefineryCompiler
internal import RefineryRuntime

/// How an answer is compared with a dataset row's reference.
package enum Grader: Sendable, Hashable {
    /// The final numbers are equal (GSM8K's `#### N`, `\boxed{}`, "the answer is", commas and `$` ignored).
    case numeric
    /// The multiple-choice letters (A–J) are equal.
    case choice
    /// The texts are equal without case, Markdown emphasis, surrounding punctuation or repeated spaces.
    case exact
    /// The normalised answer contains the normalised reference.
    case contains
    /// The first group (else the match) of the pattern's last match in the answer equals the reference.
    case regex(String)

    /// `numeric`, `choice`, `exact`, `contains` or `regex:PATTERN`; `nil` for anything else.
    package init?(_ text: String) {
        switch text {
        case "numeric": self = .numeric
        case "choice": self = .choice
        case "exact": self = .exact
        case "contains": self = .contains
        case _ where text.hasPrefix("regex:"):
            let pattern = String(text.dropFirst("regex:".count))
            guard !pattern.isEmpty, (try? Regex(pattern)) != nil else { return nil }
            self = .regex(pattern)
        default: return nil
        }
    }

    /// Why `text` names no grader, and what to write instead (for an error message).
    package static func refusal(_ text: String) -> String {
        let list = "use numeric, choice, exact, contains or regex:PATTERN."
        guard text.hasPrefix("regex:") else { return "unknown grader `\(text)`; " + list }
        let pattern = String(text.dropFirst("regex:".count))
        guard !pattern.isEmpty else { return "`regex:` needs a pattern, e.g. regex:answer is (\\d+)." }
        do {
            _ = try Regex(pattern)
        } catch {
            return "grader `\(text)`: `\(pattern)` is not a valid regular expression (\(error)); write "
                + "regex:PATTERN, whose first group is compared with the reference."
        }
        return list
    }

    /// As written on the command line.
    package var name: String {
        switch self {
        case .numeric: "numeric"
        case .choice: "choice"
        case .exact: "exact"
        case .contains: "contains"
        case .regex(let pattern): "regex:" + pattern
        }
    }

    /// The value read from an answer, or `nil` when it holds none (the item counts as unanswered).
    package func extract(_ answer: String) -> String? {
        switch self {
        case .numeric: AnswerExtractor.number(in: answer)
        case .choice: AnswerExtractor.choice(in: answer)
        case .exact, .contains:
            AnswerExtractor.normalized(answer).isEmpty ? nil : AnswerExtractor.normalized(answer)
        case .regex(let pattern): AnswerExtractor.extract(.regex(pattern), from: answer)?.key
        }
    }

    /// The value a reference stands for: read like an answer for `numeric` and `choice` (a GSM8K
    /// solution ends in `#### N`), normalised text otherwise.
    package func expected(_ reference: String) -> String? {
        switch self {
        case .numeric: AnswerExtractor.number(in: reference)
        case .choice: AnswerExtractor.choice(in: reference) ?? Self.bareLetter(reference)
        case .exact, .contains, .regex:
            AnswerExtractor.normalized(reference).isEmpty ? nil : AnswerExtractor.normalized(reference)
        }
    }

    /// Grades `answer` against `reference`: the extracted answer (what was graded) and whether it is correct.
    package func grade(_ answer: String, reference: String) -> (extracted: String?, correct: Bool) {
        guard let extracted = extract(answer), let expected = expected(reference) else {
            return (extract(answer), false)
        }
        switch self {
        case .contains: return (extracted, extracted.contains(expected))
        case .regex: return (extracted, AnswerExtractor.normalized(extracted) == expected)
        case .numeric, .choice, .exact: return (extracted, extracted == expected)
        }
    }

    /// A reference written as the letter alone (`b`, `(C)`).
    private static func bareLetter(_ text: String) -> String? {
        let letters = text.uppercased().filter { $0.isLetter }
        guard letters.count == 1, let letter = letters.first, ("A"..."J").contains(letter) else { return nil }
        return String(letter)
    }
}
