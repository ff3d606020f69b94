// What a `vote` compares: the part of each answer that is extracted before answers are counted.
// Part of the IR; the runtime applies it (RefineryRuntime's AnswerExtractor) and so does a grader.

/// How the compared value is read out of an answer (DESIGN §2, `vote`).
public enum AnswerExtraction: Sendable, Hashable, Codable {
    /// The final number: after a `####` marker when there is one (GSM8K), else after "answer is"/"answer:",
    /// else the last number in the text; `1,234.50` and `$1234.5` compare equal.
    case number
    /// A multiple-choice letter A–J: "answer is (B)", "Answer: B", a line holding only the letter, or the
    /// last parenthesised letter.
    case choice
    /// The last non-empty line, compared without case, surrounding punctuation or repeated spaces.
    case lastLine
    /// The JSON value at a dotted path (`result.answer`, `items.0`) of the JSON object in the answer.
    case json(path: [String])
    /// The first capture group (else the whole match) of the last match of a regular expression.
    case regex(String)

    /// As written in workflow files: `number`, `choice`, `last-line`, `json: PATH`, `regex: PATTERN`.
    public var description: String {
        switch self {
        case .number: "number"
        case .choice: "choice"
        case .lastLine: "last-line"
        case .json(let path): "json: " + path.joined(separator: ".")
        case .regex(let pattern): "regex: " + pattern
        }
    }
}
