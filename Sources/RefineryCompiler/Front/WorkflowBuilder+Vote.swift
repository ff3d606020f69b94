// `vote: { extract: ... }` → ``AnswerExtraction``: a word (`number`, `choice`, `last-line`) or a
// parameterised form written `json: PATH` / `regex: PATTERN`, as a string or a one-key mapping.

import RefinerySyntax

/// The extraction words and forms, as written in workflow files.
enum ExtractionName: String, CaseIterable {
    case number, choice
    case lastLine = "last-line"
    case json, regex
}

extension WorkflowBuilder {
    func readExtraction(_ node: YAMLNode, reader: NodeReader) -> AnswerExtraction? {
        let word: String
        let argument: (text: String, node: YAMLNode)?
        if let pairs = node.mapping {
            guard pairs.count == 1, let key = pairs[0].key.scalar?.value else {
                reader.error(
                    FrontCode.invalidExtraction, "`extract` takes one form", at: node,
                    hint: "write `extract: number`, `{json: result.answer}` or `{regex: 'answer: (\\\\w+)'}`")
                return nil
            }
            guard let text = reader.string(pairs[0].value, "`extract.\(key)`") else { return nil }
            word = key
            argument = (text, pairs[0].value)
        } else {
            guard let text = reader.string(node, "`extract`") else { return nil }
            if let colon = text.firstIndex(of: ":") {
                word = String(text[..<colon])
                argument = (String(text[text.index(after: colon)...]).trimmingSpaces, node)
            } else {
                word = text
                argument = nil
            }
        }
        guard let name = ExtractionName(rawValue: word) else {
            reader.invalidWord(word, in: ExtractionName.allCases.map(\.rawValue), "answer extraction", at: node)
            return nil
        }
        switch name {
        case .number, .choice, .lastLine:
            if let argument {
                reader.error(
                    FrontCode.invalidExtraction, "`\(word)` takes no argument, found `\(argument.text)`",
                    at: argument.node, hint: "write `extract: \(word)`")
                return nil
            }
            return name == .number ? .number : name == .choice ? .choice : .lastLine
        case .json:
            let path = argument?.text.split(separator: ".", omittingEmptySubsequences: false).map(String.init) ?? []
            guard !path.isEmpty, path.allSatisfy({ !$0.isEmpty }) else {
                reader.error(
                    FrontCode.invalidExtraction, "`json` needs a dotted path without empty parts",
                    at: argument?.node ?? node,
                    hint: "e.g. `extract: {json: result.answer}` or `{json: choices.0}`")
                return nil
            }
            return .json(path: path)
        case .regex:
            guard let pattern = argument?.text, !pattern.isEmpty else {
                reader.error(
                    FrontCode.invalidExtraction, "`regex` needs a pattern", at: node,
                    hint: "e.g. `extract: {regex: 'answer: (\\\\w+)'}`; the first group is compared")
                return nil
            }
            do {
                _ = try Regex(pattern)
            } catch {
                reader.error(
                    FrontCode.invalidExtraction, "`\(pattern)` is not a valid regular expression: \(error)",
                    at: argument?.node ?? node,
                    hint: "check the pattern's brackets and escapes (quote it in YAML: `{regex: '...'}`)")
                return nil
            }
            return .regex(pattern)
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (no Foundation in the compiler).
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
