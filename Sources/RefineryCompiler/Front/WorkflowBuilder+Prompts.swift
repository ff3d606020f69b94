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
