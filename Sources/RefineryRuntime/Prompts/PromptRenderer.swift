// Renders the engine's prompts from Mustache templates: the defaults in DefaultPrompts, or a stage's
// override from the workflow file. Every template is rendered as plain text (no HTML escaping: a
// `CONTENT_TYPE: TEXT` pragma is put in front of it), so `{{x}}` and `{{{x}}}` both insert text as is.

internal import Mustache
package import RefineryCompiler

/// Renders prompts for one stage, with the stage's template override if it has one.
package struct PromptRenderer: Sendable {
    private static let pragma = "{{% CONTENT_TYPE: TEXT}}"

    private let system: Result<MustacheTemplate, PromptRenderError>?
    private let user: Result<MustacheTemplate, PromptRenderError>?
    /// The overrides compiled for the plain-text fast path, when they parse and stay within its subset.
    private let plainSystem: PlainTemplate?
    private let plainUser: PlainTemplate?
    /// The user's `--var` values, rendered by Mustache next to the engine's variables.
    private let variables: [String: String]

    /// Creates a renderer. `overrides` replaces the default system and/or user template of every kind
    /// this renderer renders; its errors are reported by ``render(_:_:)``. `variables` are the workflow's
    /// user template variables (``Workflow/variables``).
    package init(overrides: PromptTemplate?, variables: [String: String] = [:]) {
        let origin = overrides?.path.map { " (\($0))" } ?? ""
        let names = Set(variables.keys)
        self.variables = variables
        system = overrides?.system.map {
            Self.compile($0, name: "system prompt template\(origin)", validate: true, userNames: names)
        }
        user = overrides?.user.map {
            Self.compile($0, name: "user prompt template\(origin)", validate: true, userNames: names)
        }
        // The fast path knows the engine's names only: a template showing a user variable goes through Mustache.
        func plain(_ text: String?, _ compiled: Result<MustacheTemplate, PromptRenderError>?) -> PlainTemplate? {
            guard let text, (try? compiled?.get()) != nil, Self.unknownVariables(in: text).isEmpty else { return nil }
            return PlainTemplate(text)
        }
        plainSystem = plain(overrides?.system, system)
        plainUser = plain(overrides?.user, user)
    }

    /// Renders `kind` with `context`. Throws ``PromptRenderError`` when a template does not parse or
    /// names a variable that does not exist.
    package func render(_ kind: PromptKind, _ context: PromptContext) throws -> RenderedPrompt {
        // The Mustache values are built only when a template needs Mustache (the fast path looks names up).
        var mustacheValues: [String: Any]?
        func values() -> [String: Any] {
            if let mustacheValues { return mustacheValues }
            var built = context.templateValues()
            for (name, value) in variables where built[name] == nil { built[name] = value }
            mustacheValues = built
            return built
        }
        let systemTemplate = try system?.get()
        let userText: String
        if let plainUser {
            userText = plainUser.render(context)
        } else if let user {
            userText = try user.get().render(values())
        } else {
            // Defaults end with a closing section tag after the last line; drop the newline it leaves.
            let text =
                try PlainTemplate.defaults[kind]?.render(context)
                ?? DefaultPrompts.compiled(kind).get().render(values())
            userText = Self.droppingTrailingWhitespace(text)
        }
        let systemText = plainSystem?.render(context) ?? systemTemplate.map { $0.render(values()) }
        return RenderedPrompt(system: systemText, user: userText)
    }

    /// `text` without trailing whitespace, trimmed in place (no copy of the prompt).
    ///
    /// ASCII blanks at the end are found on the UTF-8 bytes: `last` and `removeLast()` look for each
    /// `Character`'s grapheme boundaries (~1,200 instructions a prompt). After an ASCII byte (or
    /// nothing) ASCII blanks are whole characters, all whitespace (`\r\n` is one, also whitespace),
    /// so the result is the same; anything else at the end goes through `Character` as before.
    static func droppingTrailingWhitespace(_ text: String) -> String {
        var text = text
        let utf8 = text.utf8
        var end = utf8.endIndex
        while end > utf8.startIndex {
            let before = utf8.index(before: end)
            let byte = utf8[before]
            guard byte == 0x20 || (0x09...0x0D).contains(byte) else { break }
            end = before
        }
        if end == utf8.startIndex || utf8[utf8.index(before: end)] < 0x80 {
            if end < utf8.endIndex { text.removeSubrange(end...) }
            return text
        }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }

    /// Parses a template as plain text. With `validate`, variables must be ones ``PromptContext`` provides.
    static func compile(
        _ text: String, name: String, validate: Bool, userNames: Set<String> = []
    ) -> Result<MustacheTemplate, PromptRenderError> {
        if validate, let unknown = unknownVariables(in: text).first(where: { !userNames.contains($0) }) {
            let known = PromptContext.templateKeys.sorted().joined(separator: ", ")
            return .failure(
                PromptRenderError(
                    message: "\(name): unknown variable '\(unknown)'; the variables are: \(known)"))
        }
        do {
            return .success(try MustacheTemplate(string: pragma + text))
        } catch let error as MustacheTemplate.ParserError {
            let line = error.context.lineNumber
            let column = line == 1 ? max(1, error.context.columnNumber - pragma.count) : error.context.columnNumber
            return .failure(
                PromptRenderError(
                    message: "\(name): line \(line), column \(column): \(describe(error.error)) "
                        + "near '\(error.context.line.replacingPrefix(pragma))'"))
        } catch {
            return .failure(PromptRenderError(message: "\(name): \(error)"))
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        return switch error {
        case .sectionCloseNameIncorrect: "a section is closed with a different name than it was opened with"
        case .unfinishedName: "a tag is not closed with }}"
        case .expectedSectionEnd: "a section is never closed (add {{/name}})"
        case .invalidSetDelimiter: "a set-delimiter tag is malformed"
        case .transformAppliedToInheritanceSection: "a transform is applied to an inheritance section"
        case .illegalTokenInsideInheritSection: "an inheritance section holds a tag it cannot hold"
        case .textInsideInheritSection: "an inheritance section holds text"
        case .invalidConfigVariableSyntax: "a {{% pragma}} is malformed"
        case .unrecognisedConfigVariable: "a {{% pragma}} is not recognised"
        }
    }

    /// Variable names in `text` that ``PromptContext`` does not provide (dotted names: each part checked).
    static func unknownVariables(in text: String) -> [String] {
        let tag = #/\{\{\{?\s*[#^/&]?\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}?\}\}/#
        var unknown: [String] = []
        for match in text.matches(of: tag) {
            let name = String(match.output.1)
            let parts = name.split(separator: ".").map(String.init)
            if parts.contains(where: { !PromptContext.templateKeys.contains($0) }), !unknown.contains(name) {
                unknown.append(name)
            }
        }
        return unknown
    }
}

extension String {
    fileprivate func replacingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
