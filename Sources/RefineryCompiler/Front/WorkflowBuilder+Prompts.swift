// Stage `prompt:` overrides: a Mustache file relative to the workflow (read through the
// injected `readFile`, hashed for provenance) or inline `system`/`user` templates.

import RefinerySyntax

extension WorkflowBuilder {
    static let promptKeys = ["file", "system", "user"]

    /// The `prompt:` of a `stage` (its keyword), its templates checked against the stage's variables.
    func readPrompt(_ node: YAMLNode, reader: NodeReader, stage: String) -> PromptTemplate? {
        let variables = PromptVariables.variables(forStage: stage).merging(
            compiler.overrides.variables.mapValues { _ in .text }
        ) { engine, _ in engine }
        if node.scalar != nil {
            guard let path = reader.string(node, "`prompt`") else { return nil }
            guard let (text, bytes) = readPromptFile(path, node, reader: reader) else { return nil }
            checkTemplate(text, file: path, at: node, reader: reader, stage: stage, variables: variables)
            return PromptTemplate(path: path, user: text, sha256: WorkflowCompiler.sha256Hex(bytes))
        }
        guard let fields = reader.fields(node, allowed: Self.promptKeys, context: "`prompt`") else { return nil }
        func value(_ key: String) -> YAMLNode? { fields.first { $0.name == key }?.value }
        var template = PromptTemplate()
        template.system = value("system").flatMap { reader.string($0, "`prompt.system`") }
        template.user = value("user").flatMap { reader.string($0, "`prompt.user`") }
        var hashed = Array((template.system ?? "").utf8) + [0] + Array((template.user ?? "").utf8)
        if let fileNode = value("file") {
            if let userNode = value("user") {
                reader.error(
                    FrontCode.promptConflict, "`prompt` gives both `file` and `user`", at: userNode,
                    hint: "keep one: the file is the user-message template")
            }
            guard let path = reader.string(fileNode, "`prompt.file`"),
                let (text, bytes) = readPromptFile(path, fileNode, reader: reader)
            else { return nil }
            template.path = path
            template.user = text
            hashed = Array((template.system ?? "").utf8) + [0] + bytes
            checkTemplate(text, file: path, at: fileNode, reader: reader, stage: stage, variables: variables)
        }
        for key in ["system", "user"] {
            if let inline = value(key), let text = inline.scalar?.value {
                checkTemplate(text, file: nil, at: inline, reader: reader, stage: stage, variables: variables)
            }
        }
        guard template.system != nil || template.user != nil else {
            reader.error(
                FrontCode.missingKey, "`prompt` sets no template", at: node,
                hint: "give `file:`, `system:` or `user:`, or a file path as a string")
            return nil
        }
        template.sha256 = WorkflowCompiler.sha256Hex(hashed)
        return template
    }

    /// Reports the names of `text` that the stage does not provide, and lists or objects it shows as
    /// text. A prompt file's problems are located in that file; an inline template's at its value.
    private func checkTemplate(
        _ text: String, file: String?, at node: YAMLNode, reader: NodeReader, stage: String,
        variables: [String: PromptValueShape]
    ) {
        let (problems, names) = PromptTemplateCheck.problems(in: text, variables: variables)
        sink.templateNames.formUnion(names)
        guard !problems.isEmpty else { return }
        let displayFile =
            file.map { Self.resolve($0, relativeTo: reader.origin.displayName) } ?? reader.origin.displayName
        let noun = file == nil ? "the inline template" : "the template"
        let provided = variables.keys.sorted().map { "`\($0)`" }.joined(separator: ", ")
        // An inline template reports each name once: where the text cannot be mapped back to the file, every
        // occurrence would be the same diagnostic at the value's start.
        var reported: [PromptTemplateProblem.Kind] = []
        for problem in problems {
            if file == nil {
                guard !reported.contains(problem.kind) else { continue }
                reported.append(problem.kind)
            }
            let location =
                file == nil
                ? Self.inlineLocation(of: problem, in: node)
                : SourceLocation(line: problem.line, column: problem.column)
            let place = file == nil && problem.line > 1 ? " (its line \(problem.line))" : ""
            switch problem.kind {
            case .unknown(let name):
                let hint: String
                if let container = PromptTemplateCheck.container(of: name, in: variables) {
                    hint =
                        "`\(name)` is a field of `\(container)`: write it inside "
                        + "`{{#\(container)}}…{{/\(container)}}`"
                } else if let close = Suggestions.closest(to: name, in: variables.keys) {
                    hint = "did you mean `\(close)`?"
                } else {
                    hint =
                        "the `\(stage)` stage provides \(provided); pass your own with "
                        + "`\(compiler.overrides.surface.setting(.variable, "\(name)=VALUE"))`"
                }
                sink.add(
                    Diagnostic(
                        code: FrontCode.unknownTemplateVariable,
                        message: "\(noun)\(place) names `{{\(name)}}`, which the `\(stage)` stage does not provide",
                        file: displayFile, location: location, hint: hint))
            case .notText(let name, let shape):
                sink.add(
                    Diagnostic(
                        code: FrontCode.templateShowsCollection,
                        message: "\(noun)\(place) shows `{{\(name)}}`, \(shape.noun), as text",
                        file: displayFile, location: location,
                        hint: Self.sectionHint(name, shape)))
            case .partial(let name):
                sink.add(
                    Diagnostic(
                        code: FrontCode.templatePartial,
                        message: "\(noun)\(place) includes the partial `\(name)`, which Refinery does not load "
                            + "(it would render as nothing)",
                        file: displayFile, location: location,
                        hint: "write the partial's text into the template itself; a prompt template is one file"))
            }
        }
    }

    /// Where `problem` of the inline template `node` is in the file: at its tag when the template is a one-line
    /// plain or quoted scalar written as it reads (no escape, no `''`), so a column in the text is one in the
    /// file; otherwise at the value's start.
    private static func inlineLocation(of problem: PromptTemplateProblem, in node: YAMLNode) -> SourceLocation {
        guard let scalar = node.scalar, node.range.start.line == node.range.end.line else { return node.location }
        let quotes: Int
        switch scalar.style {
        case .plain: quotes = 0
        case .singleQuoted, .doubleQuoted: quotes = 1
        case .literal, .folded: return node.location
        }
        let width = node.range.end.column - node.range.start.column - 2 * quotes
        guard width == scalar.value.unicodeScalars.count else { return node.location }
        return SourceLocation(line: node.location.line, column: node.location.column + quotes + problem.column - 1)
    }

    /// How to show a list or an object: its text fields inside a section.
    private static func sectionHint(_ name: String, _ shape: PromptValueShape) -> String {
        var fields: [String: PromptValueShape] = [:]
        switch shape {
        case .object(let found), .list(.object(let found)): fields = found
        default: break
        }
        let shown = fields.filter { $0.value == .text }.keys.sorted().map { "{{\($0)}}" }.joined(separator: " ")
        let body = shown.isEmpty ? "{{.}}" : shown
        return "show its parts inside a section: `{{#\(name)}}\(body){{/\(name)}}`"
    }

    /// Largest prompt file read (the same bound as a workflow file).
    static let maxPromptBytes = 1024 * 1024

    private func readPromptFile(_ path: String, _ node: YAMLNode, reader: NodeReader) -> (String, [UInt8])? {
        if let why = Self.escapeReason(path) {
            reader.error(
                FrontCode.promptOutsideFolder, "the prompt file `\(path)` \(why)", at: node,
                hint: "prompt files live in the workflow's folder or below it; write a relative path such as "
                    + "`prompts/review.mustache`")
            return nil
        }
        let resolved = Self.resolve(path, relativeTo: reader.origin.path)
        if let realPath = compiler.realPath, let workflowPath = reader.origin.path,
            let slash = workflowPath.lastIndex(of: "/"), let real = realPath(resolved)
        {
            let folder = String(workflowPath[..<slash])
            let root = realPath(folder.isEmpty ? "/" : folder) ?? folder
            guard real.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
                reader.error(
                    FrontCode.promptOutsideFolder,
                    "the prompt file `\(path)` leads to `\(real)`, outside the workflow's folder `\(folder)`", at: node,
                    hint: "copy the template into the workflow's folder instead of linking to it")
                return nil
            }
        }
        let bytes: [UInt8]
        do {
            bytes = try compiler.readFile(resolved)
        } catch {
            reader.error(
                FrontCode.promptUnreadable, "the prompt file `\(path)` could not be read: \(error)", at: node,
                hint: "prompt paths are relative to the workflow file; check the path")
            return nil
        }
        guard bytes.count <= Self.maxPromptBytes else {
            reader.error(
                FrontCode.promptTooLarge, "the prompt file `\(path)` is larger than 1 MiB", at: node,
                hint: "shorten the template; pass long material with `-f FILE` at run time instead")
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            reader.error(
                FrontCode.promptNotUTF8, "the prompt file `\(path)` is not valid UTF-8", at: node,
                hint: "save the prompt file as UTF-8")
            return nil
        }
        return (text, bytes)
    }

    /// Why a prompt path as written could leave the workflow's folder, or `nil` when it cannot:
    /// it must be relative, non-empty, and have no `..` component (nor `~`, NUL or a backslash,
    /// which other tools read as a home folder, a string end or a separator).
    static func escapeReason(_ path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.hasPrefix("/") || path.hasPrefix("~") { return "is not relative to the workflow's folder" }
        if path.utf8.contains(0) || path.contains("\\") { return "contains a NUL byte or a backslash" }
        if path.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            return "climbs out of the workflow's folder with `..`"
        }
        return nil
    }

    /// `path` resolved against the folder of `workflowPath` (as written when there is none).
    static func resolve(_ path: String, relativeTo workflowPath: String?) -> String {
        guard !path.hasPrefix("/"), let workflowPath, let slash = workflowPath.lastIndex(of: "/") else { return path }
        return String(workflowPath[...slash]) + path
    }
}
