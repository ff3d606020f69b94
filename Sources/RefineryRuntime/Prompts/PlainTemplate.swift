// A fast path for the Mustache subset the prompts use: text, variables ({{x}}, {{{x}}}, {{&x}}, dotted
// names, {{.}}), sections, inverted sections and comments, rendered as plain text. The Mustache library
// looks every value up through protocol casts and reflection, which made rendering the default prompts
// about a third of the engine's CPU per call. Parsing follows swift-mustache's parser step by step
// (standalone lines, whitespace before tags) so the output is the same text; a template with anything
// else (partials, delimiters, pragmas, transforms, inheritance) is not compiled here and Mustache renders it.

import RefineryCompiler

/// A template compiled for the plain-text fast path.
///
/// Parsed into a tree of tokens, then laid out flat: texts and name paths in their own arrays, and
/// steps that only hold positions, so rendering walks plain values (no retain per step) and looks
/// names up by a resolved ``TemplateName`` instead of comparing strings.
struct PlainTemplate: Sendable {
    fileprivate indirect enum Token: Sendable {
        case text(String)
        case variable([String])
        case section([String], [Token])
        case inverted([String], [Token])
    }

    /// A name path: `names[start..<start + count]`; `current` when it starts at the current object (`.`).
    private struct Path: Sendable {
        var start: Int
        var count: Int
        var current: Bool
    }

    /// One step; a section's body is the steps up to `end`.
    private enum Step: Sendable {
        case text(Int)
        case variable(Path)
        case section(Path, end: Int)
        case inverted(Path, end: Int)
    }

    private struct Unsupported: Error {}

    private let steps: [Step]
    private let texts: [String]
    /// Path components; `nil` for a name no context provides (it resolves to nothing, as in Mustache).
    private let names: [TemplateName?]
    /// Bytes of the template's own text, each section counted once: with the context's size, the
    /// capacity a rendering reserves, so the output is not regrown a dozen times as it is appended to.
    private let textBytes: Int

    fileprivate init(tokens: [Token]) {
        var steps: [Step] = []
        var texts: [String] = []
        var names: [TemplateName?] = []
        func path(_ parts: [String]) -> Path {
            let current = parts.first == "."
            let components = current ? Array(parts.dropFirst()) : parts
            let path = Path(start: names.count, count: components.count, current: current)
            names += components.map { TemplateName(rawValue: $0) }
            return path
        }
        func layOut(_ tokens: [Token]) {
            // The parser makes a text of each line; texts next to each other in one body are laid out
            // as one (a default prompt's ~20 lines are rendered with a handful of appends, not ~20).
            var afterText = false
            for token in tokens {
                defer {
                    if case .text = token { afterText = true } else { afterText = false }
                }
                switch token {
                case .text(let text) where afterText:
                    texts[texts.count - 1] += text
                case .text(let text):
                    steps.append(.text(texts.count))
                    texts.append(text)
                case .variable(let parts):
                    steps.append(.variable(path(parts)))
                case .section(let parts, let body), .inverted(let parts, let body):
                    let at = steps.count
                    let resolved = path(parts)
                    steps.append(.text(-1))  // placeholder until the body's end is known
                    layOut(body)
                    if case .section = token {
                        steps[at] = .section(resolved, end: steps.count)
                    } else {
                        steps[at] = .inverted(resolved, end: steps.count)
                    }
                }
            }
        }
        layOut(tokens)
        self.steps = steps
        self.texts = texts
        self.names = names
        self.textBytes = texts.reduce(0) { $0 + $1.utf8.count }
    }

    /// Compiled default templates, by kind (absent when a default uses a feature outside the subset).
    static let defaults: [PromptKind: PlainTemplate] = {
        var templates: [PromptKind: PlainTemplate] = [:]
        for kind in PromptKind.allCases { templates[kind] = PlainTemplate(DefaultPrompts.source(kind)) }
        return templates
    }()

    /// Compiles `source`, or returns `nil` when it uses Mustache beyond the subset (or does not parse).
    init?(_ source: String) {
        var parser = Scanner(Array(source))
        // Mustache templates are parsed behind a `{{% CONTENT_TYPE: TEXT}}` pragma: a pragma is a
        // standalone tag when only blanks and a newline follow it, and then it swallows that line.
        let startsOnNewLine = parser.lineFinished()
        guard let tokens = try? Self.parse(&parser, newLine: startsOnNewLine, section: nil) else { return nil }
        self.init(tokens: tokens)
    }

    /// Renders `context` with the values ``PromptContext/templateValues()`` would give Mustache.
    func render(_ context: PromptContext) -> String {
        var output = ""
        output.reserveCapacity(textBytes + context.approximateContentBytes + 64)
        // The context itself is the bottom of the stack, implied: most prompts push nothing, so
        // the stack stays empty and is never allocated.
        var stack: [TemplateValue] = []
        render(0..<steps.count, into: &output, stack: &stack, context: context)
        return output
    }

    // MARK: - Parsing (a port of swift-mustache's `MustacheTemplate.parse` for the subset)

    private static func parse(_ parser: inout Scanner, newLine: Bool, section: String?) throws -> [Token] {
        var tokens: [Token] = []
        var newLine = newLine
        var whiteSpaceBefore = ""
        while !parser.atEnd {
            if newLine { whiteSpaceBefore = parser.readBlanks() }
            let text = parser.readUntilTagOrNewline()
            if let newline = parser.current, newline.isNewline {
                tokens.append(.text(whiteSpaceBefore + text + String(newline)))
                newLine = true
                parser.advance()
                continue
            }
            if !text.isEmpty {
                tokens.append(.text(whiteSpaceBefore + text))
                whiteSpaceBefore = ""
                newLine = false
            }
            guard let sigil = parser.current else { break }
            var setNewLine = false
            switch sigil {
            case "#", "^":
                parser.advance()
                let name = try parseName(&parser)
                if newLine, parser.lineFinished() {
                    setNewLine = true
                } else if !whiteSpaceBefore.isEmpty {
                    tokens.append(.text(whiteSpaceBefore))
                    whiteSpaceBefore = ""
                }
                let body = try parse(&parser, newLine: newLine && setNewLine, section: name)
                let path = Self.path(name)
                tokens.append(sigil == "#" ? .section(path, body) : .inverted(path, body))
            case "/":
                parser.advance()
                guard try parseName(&parser) == section else { throw Unsupported() }
                if !(newLine && parser.lineFinished()), !whiteSpaceBefore.isEmpty {
                    tokens.append(.text(whiteSpaceBefore))
                }
                return tokens
            case "!":
                parser.advance()
                guard parser.skip(past: ["}", "}"]) else { throw Unsupported() }
                setNewLine = newLine && parser.lineFinished()
            case "{", "&":
                if !whiteSpaceBefore.isEmpty {
                    tokens.append(.text(whiteSpaceBefore))
                    whiteSpaceBefore = ""
                }
                parser.advance()
                let name = try parseName(&parser)
                if sigil == "{" { guard parser.current == "}" else { throw Unsupported() }; parser.advance() }
                tokens.append(.variable(Self.path(name)))
            case ">", "=", "%", "$", "<":
                throw Unsupported()
            default:
                if !whiteSpaceBefore.isEmpty {
                    tokens.append(.text(whiteSpaceBefore))
                    whiteSpaceBefore = ""
                }
                tokens.append(.variable(Self.path(try parseName(&parser))))
            }
            newLine = setNewLine
        }
        guard section == nil else { throw Unsupported() }
        return tokens
    }

    private static let nameCharacters = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_?*")

    /// A tag's name up to and including `}}`; transforms (names with brackets) are not in the subset.
    private static func parseName(_ parser: inout Scanner) throws -> String {
        parser.skipWhitespace()
        var name = ""
        while let character = parser.current, nameCharacters.contains(character) {
            name.append(character)
            parser.advance()
        }
        parser.skipWhitespace()
        guard parser.current == "}", parser.peek == "}" else { throw Unsupported() }
        parser.advance()
        parser.advance()
        return name
    }

    /// `["."]` for the current object, `[".", "a"]` for a name that must not climb the stack.
    private static func path(_ name: String) -> [String] {
        if name == "." { return ["."] }
        let parts = name.split(separator: ".", omittingEmptySubsequences: true).map(String.init)
        // Mustache resolves an empty name to the current object, like ".".
        return name.first == "." || parts.isEmpty ? ["."] + parts : parts
    }

    // MARK: - Rendering (swift-mustache's semantics for the values `templateValues()` holds)

    private func render(
        _ range: Range<Int>, into output: inout String, stack: inout [TemplateValue], context: PromptContext
    ) {
        var index = range.lowerBound
        while index < range.upperBound {
            switch steps[index] {
            case .text(let text):
                output += texts[text]
                index += 1
            case .variable(let path):
                switch lookUp(path, in: stack, context: context) {
                case .none: break
                case .string(let string)?: output += string
                case let value?: output += String(describing: value.anyValue(in: context))
                }
                index += 1
            case .section(let path, let end):
                let body = index + 1..<end
                switch lookUp(path, in: stack, context: context) {
                case .none:
                    break
                case .bool(let flag)?:
                    if flag { render(body, into: &output, stack: &stack, context: context) }
                case .list(let list)?:
                    for item in 0..<list.count(in: context) {
                        render(
                            body, pushing: list.item(item, in: context), into: &output, stack: &stack, context: context)
                    }
                case let value?:
                    render(body, pushing: value, into: &output, stack: &stack, context: context)
                }
                index = end
            case .inverted(let path, let end):
                let body = index + 1..<end
                switch lookUp(path, in: stack, context: context) {
                case .none:
                    render(body, into: &output, stack: &stack, context: context)
                case .bool(let flag)?:
                    if !flag { render(body, into: &output, stack: &stack, context: context) }
                case .list(let list)?:
                    if list.count(in: context) == 0 {
                        render(body, pushing: .list(list), into: &output, stack: &stack, context: context)
                    }
                case .some:
                    break
                }
                index = end
            }
        }
    }

    private func render(
        _ range: Range<Int>, pushing value: TemplateValue, into output: inout String, stack: inout [TemplateValue],
        context: PromptContext
    ) {
        stack.append(value)
        render(range, into: &output, stack: &stack, context: context)
        stack.removeLast()
    }

    private func lookUp(_ path: Path, in stack: [TemplateValue], context: PromptContext) -> TemplateValue? {
        if path.current {
            var value = stack.last ?? .root
            for index in path.start..<path.start + path.count {
                guard let name = names[index], let child = value.child(name, in: context) else { return nil }
                value = child
            }
            return value
        }
        guard path.count > 0, let first = names[path.start] else { return nil }
        let rest = path.start + 1..<path.start + path.count
        // Innermost first; the context (index -1) last.
        for level in stride(from: stack.count - 1, through: -1, by: -1) {
            let object = level >= 0 ? stack[level] : .root
            guard var value = object.child(first, in: context) else { continue }
            for index in rest {
                guard let name = names[index], let child = value.child(name, in: context) else { return nil }
                value = child
            }
            return value
        }
        return nil
    }
}

/// A cursor over a template's characters.
private struct Scanner {
    private let characters: [Character]
    private var index = 0

    init(_ characters: [Character]) { self.characters = characters }

    var atEnd: Bool { index >= characters.count }
    var current: Character? { index < characters.count ? characters[index] : nil }
    var peek: Character? { index + 1 < characters.count ? characters[index + 1] : nil }

    mutating func advance() { index += 1 }

    mutating func readBlanks() -> String {
        var blanks = ""
        while let character = current, character == " " || character == "\t" {
            blanks.append(character)
            advance()
        }
        return blanks
    }

    mutating func skipWhitespace() {
        while let character = current, character.isWhitespace { advance() }
    }

    /// Text up to a newline or a `{{` (which is consumed).
    mutating func readUntilTagOrNewline() -> String {
        var text = ""
        while let character = current {
            if character.isNewline { break }
            if character == "{", peek == "{" {
                index += 2
                break
            }
            text.append(character)
            advance()
        }
        return text
    }

    /// Moves past `terminator`; `false` when it never comes.
    mutating func skip(past terminator: [Character]) -> Bool {
        while index + terminator.count <= characters.count {
            if Array(characters[index..<index + terminator.count]) == terminator {
                index += terminator.count
                return true
            }
            index += 1
        }
        return false
    }

    /// Whether only blanks remain on the line; if so, moves past them and the newline (Mustache's
    /// "standalone" rule).
    mutating func lineFinished() -> Bool {
        if atEnd { return true }
        var probe = index
        while probe < characters.count, characters[probe] == " " || characters[probe] == "\t" { probe += 1 }
        guard probe < characters.count, characters[probe].isNewline else { return false }
        index = probe + 1
        return true
    }
}
