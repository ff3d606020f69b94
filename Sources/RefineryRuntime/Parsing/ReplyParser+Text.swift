// Plain-text replies: the refiner's critique/revised blocks and CoVe's verification questions.

internal import Foundation

extension ReplyParser {
    /// Whether `text` holds no answer: empty, or only the placeholder the prompts' reply formats show
    /// (`...`, `…`). Such a reply is invalid, never a draft or an answer.
    package static func isPlaceholder(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.allSatisfy { $0.properties.isWhitespace || $0 == "." || $0 == "\u{2026}" }
    }

    /// The `<critique>` and `<revised>` blocks of a refiner's reply. Text outside the blocks is ignored;
    /// a missing critique is empty; a missing, unclosed or empty `<revised>` block is an error.
    package static func critiqueRevise(
        from reply: String
    ) -> Result<(critique: String, revised: String), ReplyParseError> {
        var searchStart = reply.startIndex
        var critique = ""
        if let open = reply.range(of: "<critique>", options: .caseInsensitive),
            let close = reply.range(
                of: "</critique>", options: .caseInsensitive, range: open.upperBound..<reply.endIndex)
        {
            critique = trimmed(reply[open.upperBound..<close.lowerBound])
            searchStart = close.upperBound
        }
        let rest = searchStart..<reply.endIndex
        guard let open = reply.range(of: "<revised>", options: .caseInsensitive, range: rest) else {
            let what = trimmed(reply).isEmpty ? "the reply is empty" : "the reply has no <revised> block"
            return .failure(
                ReplyParseError(message: "\(what); expected <critique>…</critique><revised>…</revised>"))
        }
        guard
            let close = reply.range(
                of: "</revised>", options: .caseInsensitive, range: open.upperBound..<reply.endIndex)
        else {
            return .failure(
                ReplyParseError(message: "the <revised> block is not closed (the reply may have been cut off)")
            )
        }
        let revised = trimmedLines(reply[open.upperBound..<close.lowerBound])
        // The reminder's own wording echoed back is a placeholder too.
        guard !isPlaceholder(revised), revised.lowercased() != "the complete revised text" else {
            return .failure(ReplyParseError(message: "the <revised> block is empty or only a placeholder"))
        }
        return .success((critique, revised))
    }

    /// Verification questions, at most `max`: a JSON array of strings (or of objects with `question`), an
    /// object with a `questions` array, else a numbered/bulleted list, else lines ending with `?`.
    package static func verificationQuestions(from reply: String, max: Int) -> Result<[String], ReplyParseError> {
        var questions: [String] = []
        if let json = LenientJSON.extract(from: reply, want: .objectOrArray) {
            let list: JSONValue? =
                if case .array = json { json } else { json.first(["questions", "verification_questions"]) }
            if case .array(let elements)? = list {
                // An empty list is the planner's answer that the draft makes no claim worth checking.
                if elements.isEmpty { return .success([]) }
                questions = elements.compactMap { element in
                    if case .string(let text) = element { return trimmed(text) }
                    return element.first(["question", "text"]).map { text($0) }
                }
            }
        }
        if questions.isEmpty {
            let lines = reply.split(whereSeparator: \.isNewline).map { trimmed($0) }
            let listed = lines.filter { stripListMarker($0) != $0 }.map(stripListMarker)
            questions = listed.isEmpty ? lines.filter { $0.hasSuffix("?") } : listed
        }
        questions = questions.filter { !isPlaceholder($0) }
        guard !questions.isEmpty else {
            let what = trimmed(reply).isEmpty ? "the reply is empty" : "the reply lists no questions"
            return .failure(ReplyParseError(message: "\(what); expected {\"questions\": [...]}"))
        }
        return .success(Array(questions.prefix(Swift.max(0, max))))
    }

    /// `1. x`, `1) x`, `Q1: x`, `- x`, `* x`, `• x` → `x`; anything else unchanged (trimmed).
    static func stripListMarker(_ line: String) -> String {
        let text = trimmed(line)
        let marker = #/^(?:(?:[Qq]\s*)?\d{1,3}\s*[.):]|[-*•])\s+/#
        if let match = text.prefixMatch(of: marker) {
            return trimmed(text[match.range.upperBound...])
        }
        return text
    }

    /// Removes blank lines and trailing whitespace at both ends, keeping the first line's indentation
    /// (it matters for code).
    private static func trimmedLines(_ text: Substring) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while let first = lines.first, trimmed(first).isEmpty { lines.removeFirst() }
        while let last = lines.last, trimmed(last).isEmpty { lines.removeLast() }
        return lines.map { line in
            var line = Substring(line)
            while let last = line.last, last.isWhitespace { line = line.dropLast() }
            return String(line)
        }.joined(separator: "\n")
    }
}
