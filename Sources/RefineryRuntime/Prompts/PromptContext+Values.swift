// The Mustache view of a PromptContext: snake_case keys, strings for numbers, `has_*` flags for
// optional parts (templates test the flag, then show the value), looked up by `TemplateValue`.

import RefineryCompiler

extension PromptContext {
    /// Every key a template may use, top-level and inside sections (used to reject typos in overrides):
    /// the compiler's table, which also checks each stage's templates when a workflow is compiled.
    static let templateKeys: Set<String> = PromptVariables.allNames

    /// The values Mustache renders templates with: every name ``templateChild(_:)`` answers, built
    /// from that one lookup (the fast path reads it directly).
    func templateValues() -> [String: Any] {
        TemplateValue.fields(in: self) { templateChild($0) }
    }

    /// Whether an optional part is shown (`has_*`): present and not blank. Checked on the scalars in
    /// place (what trimming would keep), not on a trimmed copy: prompts test these flags on every call.
    static func present(_ value: String?) -> Bool {
        guard let value else { return false }
        return value.unicodeScalars.contains { !$0.properties.isWhitespace }
    }

    var labelList: String { answersToScore.map(\.label).joined(separator: ", ") }

    var labelsJSON: String { "[" + answersToScore.map { "\"\($0.label)\"" }.joined(separator: ", ") + "]" }
}
