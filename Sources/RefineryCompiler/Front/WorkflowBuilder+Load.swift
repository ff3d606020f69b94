// Loading a workflow file and the chain of bases it extends, then merging them into one list
// of top-level fields that remember which file each came from.

import RefinerySyntax

extension WorkflowBuilder {
    static let topLevelKeys = [
        "refinery", "name", "version", "description", "extends", "models", "arbiter", "system", "iterations",
        "convergence", "limits", "stages", "output",
    ]
    /// Fields a workflow never inherits from the base it extends.
    static let ownFields: Set<String> = ["description"]

    /// Sections merged key by key with their base's.
    static let mergedSections: Set<String> = ["limits", "iterations", "convergence"]
    static let maxExtendsDepth = 32

    /// The merged top-level fields of `source` and its bases, or `nil` when the file is unusable.
    /// `chain` receives the base names, nearest first; `baseFailed` is set when a base could not be
    /// loaded (so missing sections are not reported on top of that).
    func load(_ source: WorkflowSource, seen: [String], chain: inout [String], baseFailed: inout Bool) -> [Field]? {
        let origin = Origin(displayName: source.displayName, path: source.path)
        let reader = NodeReader(origin: origin, sink: sink)
        let root: YAMLNode
        do {
            guard let parsed = try YAMLParser.parse(source.bytes, file: source.displayName, limits: compiler.limits)
            else {
                sink.add(
                    Diagnostic(
                        code: FrontCode.emptyFile, message: "the file holds no workflow", file: source.displayName,
                        location: SourceLocation(line: 1, column: 1),
                        hint: "start with `refinery: 1`, a `name:`, `models:` and `stages:`"))
                return nil
            }
            root = parsed
        } catch {
            sink.add(contentsOf: error.diagnostics)
            return nil
        }
        guard var fields = reader.fields(root, allowed: Self.topLevelKeys, context: "the workflow") else { return nil }
        checkFormat(fields, root: root, reader: reader)
        fields.removeAll { $0.name == "refinery" }
        guard let extendsIndex = fields.firstIndex(where: { $0.name == "extends" }) else { return fields }
        let extendsField = fields.remove(at: extendsIndex)
        guard let baseName = reader.string(extendsField.value, "`extends`") else { return fields }
        guard
            let base = loadBase(
                baseName, at: extendsField.value, reader: reader, seen: seen, chain: &chain, baseFailed: &baseFailed)
        else {
            baseFailed = true
            return fields
        }
        // A description says what one file is for: a base's would present the child as the base.
        return merge(base: base.filter { !Self.ownFields.contains($0.name) }, child: fields)
    }

    private func loadBase(
        _ name: String, at node: YAMLNode, reader: NodeReader, seen: [String], chain: inout [String],
        baseFailed: inout Bool
    ) -> [Field]? {
        if seen.contains(name) {
            let cycle = (seen + [name]).joined(separator: " → ")
            reader.error(
                FrontCode.extendsCycle, "`extends` forms a cycle: \(cycle)", at: node,
                hint: "remove `extends:` from one of these workflows; a config named like a built-in extends it as "
                    + "`extends: builtin:NAME`")
            return nil
        }
        guard seen.count < Self.maxExtendsDepth else {
            reader.error(
                FrontCode.extendsCycle, "the `extends` chain is longer than \(Self.maxExtendsDepth) workflows",
                at: node, hint: "flatten the chain: extend a workflow that is closer to what you need")
            return nil
        }
        let baseSource: WorkflowSource?
        do {
            baseSource = try compiler.resolveExtends(name)
        } catch let error as WorkflowLibraryError where error.code == .invalidName {
            // A path or a malformed name: the library's reason, under this diagnostic's one code.
            reader.error(
                FrontCode.unknownBase, "`extends`: \(error.message)", at: node,
                hint: Self.extendsHint)
            return nil
        } catch {
            reader.error(
                FrontCode.baseUnreadable, "the base workflow `\(name)` could not be loaded: \(error)", at: node,
                hint: "check that the base file exists and is readable")
            return nil
        }
        guard let baseSource else {
            reader.error(
                FrontCode.unknownBase, "no workflow named `\(name)` to extend", at: node,
                hint: "check the name; " + Self.extendsHint)
            return nil
        }
        chain.append(name)
        return load(baseSource, seen: seen + [name], chain: &chain, baseFailed: &baseFailed)
    }

    /// What an `extends:` value may be.
    static let extendsHint =
        "`extends` takes a workflow name, looked up like `refinery run NAME` (./workflows, $REFINERY_PATH, the "
        + "user's workflow folder, then the built-ins), or `builtin:NAME`; never a file path"

    private func checkFormat(_ fields: [Field], root: YAMLNode, reader: NodeReader) {
        guard let field = fields.first(where: { $0.name == "refinery" }) else {
            reader.error(
                FrontCode.missingKey, "the workflow has no `refinery:` format version", at: root,
                hint: "add `refinery: 1` as the first line")
            return
        }
        guard let version = field.value.int else {
            reader.typeError(field.value, expected: "the format version `1`", in: "`refinery`")
            return
        }
        if version != 1 {
            reader.error(
                FrontCode.unsupportedFormat,
                "workflow format \(version) is not supported (this version reads format 1)",
                at: field.value, hint: "write `refinery: 1`, or upgrade Refinery to read this file")
        }
    }

    /// The base's fields with the child's replacing them; `mergedSections` merge key by key.
    func merge(base: [Field], child: [Field]) -> [Field] {
        var result = base
        for field in child {
            guard let index = result.firstIndex(where: { $0.name == field.name }) else {
                result.append(field)
                continue
            }
            guard Self.mergedSections.contains(field.name), let baseEntries = Self.entries(of: result[index]),
                let childEntries = Self.entries(of: field), !Self.changesStrategy(baseEntries, childEntries)
            else {
                result[index] = field
                continue
            }
            var merged = field
            merged.merged = merge(base: baseEntries, child: childEntries)
            result[index] = merged
        }
        return result
    }

    /// The entries of a section for merging, or `nil` when it is not a mapping (then it is replaced whole).
    static func entries(of field: Field) -> [Field]? {
        if let merged = field.merged { return merged }
        return field.value.mapping?.compactMap { pair in
            pair.key.scalar == nil ? nil : Field(key: pair.key, value: pair.value, origin: field.origin)
        }
    }

    private static func changesStrategy(_ base: [Field], _ child: [Field]) -> Bool {
        guard let new = child.first(where: { $0.name == "strategy" })?.value.string else { return false }
        let old = base.first { $0.name == "strategy" }?.value.string ?? "vote-threshold"
        return new != old
    }

    /// A section's entries with unknown keys reported, whether it was merged or written in one file.
    func sectionFields(_ field: Field, allowed: [String], context: String) -> [Field]? {
        guard let merged = field.merged else {
            return NodeReader(origin: field.origin, sink: sink).fields(field.value, allowed: allowed, context: context)
        }
        return merged.filter { entry in
            if allowed.contains(entry.name) { return true }
            NodeReader(origin: entry.origin, sink: sink).error(
                FrontCode.unknownKey, "unknown key `\(entry.name)` in \(context)", at: entry.key,
                hint: Suggestions.didYouMean(entry.name, in: allowed)
                    ?? "\(context) takes: " + allowed.map { "`\($0)`" }.joined(separator: ", "))
            return false
        }
    }
}
