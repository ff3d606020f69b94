// Checks a Mustache prompt template against the variables its stage provides (PromptVariables):
// every name must resolve in the section scopes around it, and `{{name}}` must show text, not a
// list or an object (which would print as a Swift collection). Pure: text in, problems out.

/// One problem found in a prompt template.
struct PromptTemplateProblem: Equatable {
    enum Kind: Equatable {
        /// A name no scope provides.
        case unknown(String)
        /// `{{name}}` of a list or object.
        case notText(String, PromptValueShape)
        /// `{{> name}}` or `{{< name}}`: a partial (or a parent template). A prompt is one file, and no
        /// partials are loaded, so Mustache would render it as nothing, silently.
        case partial(String)
    }

    var kind: Kind
    /// 1-based line in the template.
    var line: Int
    /// 1-based column in the template (Unicode scalars).
    var column: Int
}

/// The checker: a tokenizer over `{{…}}` tags with a stack of the section scopes entered.
enum PromptTemplateCheck {
    private typealias Shape = PromptValueShape

    /// The problems of `template`, whose top level holds `variables`, in template order, and the names its
    /// tags read (the first part of a dotted name, at any depth): what a `--var` must be called to be shown.
    static func problems(
        in template: String, variables: [String: PromptValueShape]
    ) -> (problems: [PromptTemplateProblem], names: Set<String>) {
        var problems: [PromptTemplateProblem] = []
        var names: Set<String> = []
        var scopes: [Shape] = [.object(variables)]
        let scalars = Array(template.unicodeScalars)
        var index = 0
        var line = 1
        var column = 1
        func advance(to end: Int) {
            while index < end, index < scalars.count {
                if scalars[index] == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                index += 1
            }
        }
        func starts(_ text: String, at position: Int) -> Bool {
            var probe = position
            for scalar in text.unicodeScalars {
                guard probe < scalars.count, scalars[probe] == scalar else { return false }
                probe += 1
            }
            return true
        }
        func find(_ text: String, from position: Int) -> Int? {
            var probe = position
            while probe < scalars.count {
                if starts(text, at: probe) { return probe }
                probe += 1
            }
            return nil
        }
        while let open = find("{{", from: index) {
            advance(to: open)
            let (tagLine, tagColumn) = (line, column)
            let triple = starts("{{{", at: open)
            let contentStart = open + (triple ? 3 : 2)
            guard let close = find(triple ? "}}}" : "}}", from: contentStart) else { break }
            var content = String(String.UnicodeScalarView(scalars[contentStart..<close]))
            advance(to: close + (triple ? 3 : 2))
            content = content.trimmingWhitespace()
            let sigil = triple ? nil : content.first.flatMap { "#^/&!><%=".contains($0) ? $0 : nil }
            if sigil != nil { content = String(content.dropFirst()).trimmingWhitespace() }
            if sigil != "!", sigil != "%", sigil != "=", let first = content.split(separator: ".").first {
                names.insert(String(first))
            }
            func report(_ kind: PromptTemplateProblem.Kind) {
                problems.append(PromptTemplateProblem(kind: kind, line: tagLine, column: tagColumn))
            }
            switch sigil {
            case "!", "%": continue
            case ">": report(.partial(content))
            case "<":
                // A parent template: its body up to `{{/name}}` is one more scope, closed by that tag.
                report(.partial(content))
                scopes.append(.flag)
            case "=": return (problems, names)  // Custom delimiters: the rest is not read with `{{ }}`.
            case "/":
                if scopes.count > 1 { scopes.removeLast() }
            case "#", "^":
                let shape = resolve(content, in: scopes)
                if shape == nil { report(.unknown(content)) }
                switch (sigil, shape) {
                case ("#", .list(let element)?): scopes.append(element)
                case ("#", .object(let fields)?): scopes.append(.object(fields))
                default: scopes.append(.flag)
                }
            default:
                guard let shape = resolve(content, in: scopes) else {
                    report(.unknown(content))
                    continue
                }
                if case .list = shape { report(.notText(content, shape)) }
                if case .object = shape { report(.notText(content, shape)) }
            }
        }
        return (problems, names)
    }

    /// The shape `name` (dotted or `.`) has in the innermost scope that provides it.
    private static func resolve(_ name: String, in scopes: [Shape]) -> Shape? {
        if name == "." { return scopes.last }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first else { return nil }
        var shape: Shape?
        for scope in scopes.reversed() {
            if case .object(let fields) = scope, let found = fields[first] {
                shape = found
                break
            }
        }
        for part in parts.dropFirst() {
            guard case .object(let fields)? = shape else { return nil }
            shape = fields[part]
        }
        return shape
    }

    /// The section path to a nested `name`, e.g. `answer` for `label` in an `evaluate` template.
    static func container(of name: String, in variables: [String: PromptValueShape]) -> String? {
        for key in variables.keys.sorted() {
            switch variables[key] {
            case .object(let fields)?, .list(.object(let fields))?:
                if fields[name] != nil { return key }
            default: continue
            }
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }
}
