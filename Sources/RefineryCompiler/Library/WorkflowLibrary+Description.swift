// Reading a workflow's `description` for `refinery list` without compiling it: a cheap scan of
// the top-level key (plain, quoted, or a folded/literal block), good enough for a listing. And the
// workflows that `extends:` a name, for `refinery remove`.

import RefinerySyntax

extension WorkflowLibrary {
    /// The top-level `description:` of a workflow file's text, unfolded to one line.
    static func topLevelDescription(_ text: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("description:") }) else { return nil }
        let value = lines[start].dropFirst("description:".count).trimmed(" ")
        if value.hasPrefix(">") || value.hasPrefix("|") {
            let block = lines[(start + 1)...].prefix { $0.isEmpty || $0.first == " " }
            let joined = block.map { $0.trimmed(" ") }.filter { !$0.isEmpty }.joined(separator: " ")
            return joined.isEmpty ? nil : joined
        }
        if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
            return String(value.dropFirst().dropLast())
        }
        return value.isEmpty ? nil : value
    }
}

extension WorkflowLibrary {
    /// The workflows on the search path (never the built-ins) whose `extends:` names `name`, except the file
    /// at `path` (the one named `name` itself): they stop compiling when that file goes. A file that cannot be
    /// read or parsed is skipped; it does not compile anyway.
    public func dependents(of name: String, except path: String) -> [WorkflowEntry] {
        let removed = fileSystem.realPath(path) ?? path
        return list().filter { entry in
            guard entry.origin != .builtin, (fileSystem.realPath(entry.location) ?? entry.location) != removed,
                let bytes = try? fileSystem.read(entry.location),
                let root = try? YAMLParser.parse(bytes, file: entry.location)
            else { return false }
            return root["extends"]?.string == name
        }
    }
}

extension StringProtocol {
    fileprivate func trimmed(_ set: Character) -> String {
        var slice = Substring(self)
        while slice.first == set { slice.removeFirst() }
        while slice.last == set { slice.removeLast() }
        return String(slice)
    }
}
