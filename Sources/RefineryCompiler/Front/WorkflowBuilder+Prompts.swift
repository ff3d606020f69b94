// Stage `prompt:` overrides: a Mustache file relative to the workflow (read through the
// injected `readFile`, hashed for provenance) or inline `system`/`user` templates.

import RefinerySyntax

extension WorkflowBuilder {
    static let promptKeys = ["file", "system", "user"]

    func readPrompt(_ node: YAMLNode, reader: NodeReader) -> PromptTemplate? {
        if node.scalar != nil {
            guard let path = reader.string(node, "`prompt`") else { return nil }
            guard let (text, bytes) = readPromptFile(path, node, reader: reader) else { return nil }
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

    private func readPromptFile(_ path: String, _ node: YAMLNode, reader: NodeReader) -> (String, [UInt8])? {
        let resolved = Self.resolve(path, relativeTo: reader.origin.path)
        let bytes: [UInt8]
        do {
            bytes = try compiler.readFile(resolved)
        } catch {
            reader.error(
                FrontCode.promptUnreadable, "the prompt file `\(path)` could not be read: \(error)", at: node,
                hint: "prompt paths are relative to the workflow file; check the path")
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

    /// `path` resolved against the folder of `workflowPath` (absolute paths are kept).
    static func resolve(_ path: String, relativeTo workflowPath: String?) -> String {
        guard !path.hasPrefix("/"), let workflowPath, let slash = workflowPath.lastIndex(of: "/") else { return path }
        return String(workflowPath[...slash]) + path
    }
}
