// Reads model replies into typed values. Every reader is forgiving about the wrapping (```json fences,
// prose around the JSON, trailing commas, "8/10" or "85%") and strict about the content: a score
// outside 1...10, a synthesis without text or a refinement without `<revised>` is an error, never a
// silent default. The engine answers an error by re-asking with `formatReminder(for:)`.

/// Parses model replies for the structured stages.
///
/// Accepted shapes:
/// - Evaluation: a JSON object (fenced or inside prose) with `score` (or `rating`, `overall_score`,
///   `grade`; possibly nested, e.g. `{"evaluation": {"score": 8}}`) as a number or a string such as
///   `"8"`, `"8.5"`, `"8/10"`, `"8 out of 10"`; list fields as arrays or a single string. Without JSON,
///   a prose score (`Score: 8.5`, `8/10`) is accepted and the whole reply becomes the rationale.
/// - Batched evaluations: an object keyed by label (`"A"`, `"Response A"`), or an array (top level or
///   under any key) of objects with a `label` field. A label the reply misses or garbles is unread; the
///   others keep their evaluations.
/// - Synthesis: a JSON object, or llm-consortium's `<synthesis>`/`<confidence>`/... tags. Confidence
///   0–1, or a percentage: a number above 1 (up to 100) or a string ending in `%` is divided by 100.
///   `needs_iteration` is a boolean or `yes`/`no`/`true`/`false`, `false` when absent.
/// - Critique-revise: `<critique>…</critique>` (optional) and `<revised>…</revised>` (required).
/// - Verification questions: a JSON array (or `{"questions": [...]}`), else a numbered or bulleted list,
///   else lines ending with `?`; capped at `max`. An empty JSON list means there is nothing to verify.
package enum ReplyParser {
    /// Scores must lie in this range; anything else is an error (never clamped).
    package static let scoreRange: ClosedRange<Double> = 1...10

    /// One evaluation (pairwise mode).
    package static func evaluation(from reply: String) -> Result<Evaluation, ReplyParseError> {
        if let json = LenientJSON.extract(from: reply, want: .object) {
            return evaluation(fromJSON: json)
        }
        switch proseScore(in: reply) {
        case .success(let score?):
            return .success(Evaluation(rationale: trimmed(reply), score: score))
        case .success(nil):
            if trimmed(reply).isEmpty {
                return .failure(ReplyParseError(message: "the reply is empty; expected a JSON evaluation"))
            }
            return .failure(
                ReplyParseError(message: "the reply has no JSON object and no score; expected a JSON evaluation")
            )
        case .failure(let error):
            return .failure(error)
        }
    }

    /// One evaluation per label (batched mode): an error when the reply holds no JSON at all, else each label's
    /// evaluation or why it has none.
    package static func batchedEvaluations(
        from reply: String, labels: [String]
    ) -> Result<BatchedEvaluations, ReplyParseError> {
        guard let json = LenientJSON.extract(from: reply, want: .objectOrArray) else {
            let what = trimmed(reply).isEmpty ? "the reply is empty" : "the reply has no JSON object"
            return .failure(ReplyParseError(message: "\(what); expected one JSON evaluation per label"))
        }
        return .success(batchedEvaluations(fromJSON: json, labels: labels))
    }

    /// The arbiter's synthesis.
    package static func synthesis(from reply: String) -> Result<Synthesis, ReplyParseError> {
        if let json = LenientJSON.extract(from: reply, want: .object) {
            return synthesis(fromJSON: json)
        }
        if let tagged = taggedSynthesis(in: reply) {
            return tagged
        }
        let what = trimmed(reply).isEmpty ? "the reply is empty" : "the reply has no JSON object"
        return .failure(ReplyParseError(message: "\(what); expected a JSON synthesis"))
    }

    /// A short instruction to append when re-asking a model whose reply could not be parsed.
    package static func formatReminder(for kind: ReplyKind) -> String {
        switch kind {
        case .evaluation:
            """
            Your previous reply could not be read. Reply with ONLY one JSON object, no other text: \
            {"strengths": [string], "weaknesses": [string], "suggestions": [string], "rationale": string, \
            "score": number}. The score is a number from 1 to 10.
            """
        case .batchedEvaluation(let labels):
            """
            Your previous reply could not be read. Reply with ONLY one JSON object with one key per response \
            label (\(labels.map { "\"\($0)\"" }.joined(separator: ", "))), each holding {"strengths": [string], \
            "weaknesses": [string], "suggestions": [string], "rationale": string, "score": number}. \
            Every label is required; each score is a number from 1 to 10.
            """
        case .synthesis:
            """
            Your previous reply could not be read. Reply with ONLY one JSON object, no other text: \
            {"synthesis": string, "confidence": number from 0 to 1, "dissent": string, \
            "refinement_areas": [string], "needs_iteration": boolean, "ranking": [label]}. \
            The synthesis must not be empty.
            """
        case .critiqueRevise:
            """
            Your previous reply could not be read. Reply with ONLY these two blocks, nothing before or after: \
            <critique>your critique</critique> then <revised>the complete revised text</revised>.
            """
        case .verificationQuestions:
            """
            Your previous reply could not be read. Reply with ONLY a JSON object {"questions": [string]} \
            listing the verification questions.
            """
        }
    }

    /// `text` without leading and trailing whitespace; `text` itself (no copy) when it has none.
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        if first < 0x80, last < 0x80, !isASCIIWhitespace(first), !isASCIIWhitespace(last) { return text }
        return trimmed(text[...])
    }

    static func trimmed(_ text: some StringProtocol) -> String {
        // Fast path on the UTF-8 bytes: ASCII blanks at the ends are stripped bytewise; only a non-ASCII
        // byte at an end (maybe a Unicode blank such as U+00A0) needs the scalar loop below.
        let text = Substring(text)
        let utf8 = text.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, isASCIIWhitespace(utf8[start]) { start = utf8.index(after: start) }
        while start < end, isASCIIWhitespace(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        if start == end { return "" }
        if utf8[start] < 0x80, utf8[utf8.index(before: end)] < 0x80 {
            return String(text[start..<end])
        }
        return trimmedScalars(text[start..<end])
    }

    /// The ASCII bytes with the Unicode `White_Space` property (tab, LF, VT, FF, CR, space).
    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func trimmedScalars(_ text: Substring) -> String {
        var scalars = text.unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
