// Builds the node tree from libyaml events, enforcing the limits as it goes. Recursion depth
// is bounded by `maxDepth`, so a deeply nested file fails before it can exhaust the stack.

struct TreeBuilder {
    private let reader: YAMLEventReader
    private let file: String?
    private let limits: YAMLLimits
    /// Anchored nodes with their subtree sizes, for alias expansion.
    private var anchors: [String: (node: YAMLNode, size: Size)] = [:]
    /// What the aliases expanded so far copied.
    private var aliasCharge = Size(nodes: 0, bytes: 0)

    /// A subtree's size: its nodes, and the bytes of its scalars' text.
    private struct Size {
        var nodes: Int
        var bytes: Int

        static func += (lhs: inout Size, rhs: Size) {
            lhs.nodes += rhs.nodes
            lhs.bytes += rhs.bytes
        }
    }

    init(reader: YAMLEventReader, file: String?, limits: YAMLLimits) {
        self.reader = reader
        self.file = file
        self.limits = limits
    }

    /// The stream's single document, or `nil` when there is none.
    mutating func document() throws(YAMLSyntaxError) -> YAMLNode? {
        var event = try reader.next()
        guard case .streamStart = event.kind else { throw unexpected(event) }
        event = try reader.next()
        if case .streamEnd = event.kind { return nil }
        guard case .documentStart = event.kind else { throw unexpected(event) }
        let first = try reader.next()
        let (root, _) = try node(from: first, depth: 1)
        event = try reader.next()
        guard case .documentEnd = event.kind else { throw unexpected(event) }
        event = try reader.next()
        if case .documentStart = event.kind {
            throw YAMLSyntaxError(
                Diagnostic(
                    code: SyntaxCode.multipleDocuments, message: "the file holds more than one YAML document",
                    file: file, location: event.start,
                    hint: "a workflow file is one document: remove this `---` and what follows, or split the file",
                    notes: [Diagnostic.Note(message: "the first document starts here", location: root.range.start)]))
        }
        guard case .streamEnd = event.kind else { throw unexpected(event) }
        return root
    }

    /// Builds the node that starts with `event`; returns it with its size.
    private mutating func node(from event: YAMLEvent, depth: Int) throws(YAMLSyntaxError) -> (YAMLNode, Size) {
        let result: (YAMLNode, Size)
        switch event.kind {
        case .scalar(let value, let style):
            let node = YAMLNode(
                kind: .scalar(YAMLScalar(value: value, style: style)),
                range: SourceRange(start: event.start, end: event.end),
                tag: event.tag, anchor: event.anchor)
            result = (node, Size(nodes: 1, bytes: value.utf8.count))
        case .alias(let name):
            return try expand(alias: name, at: event)
        case .sequenceStart:
            try checkDepth(depth, at: event)
            var items: [YAMLNode] = []
            var size = Size(nodes: 1, bytes: 0)
            var next = try reader.next()
            while true {
                if case .sequenceEnd = next.kind { break }
                let (item, itemSize) = try node(from: next, depth: depth + 1)
                items.append(item)
                size += itemSize
                next = try reader.next()
            }
            let node = YAMLNode(
                kind: .sequence(items), range: SourceRange(start: event.start, end: next.end), tag: event.tag,
                anchor: event.anchor)
            result = (node, size)
        case .mappingStart:
            try checkDepth(depth, at: event)
            var pairs: [YAMLPair] = []
            var firstKeys: [String: SourceLocation] = [:]
            var size = Size(nodes: 1, bytes: 0)
            var next = try reader.next()
            while true {
                if case .mappingEnd = next.kind { break }
                let (key, keySize) = try node(from: next, depth: depth + 1)
                try checkKey(key, firstKeys: &firstKeys)
                let (value, valueSize) = try node(from: try reader.next(), depth: depth + 1)
                pairs.append(YAMLPair(key: key, value: value))
                size += keySize
                size += valueSize
                next = try reader.next()
            }
            let node = YAMLNode(
                kind: .mapping(pairs), range: SourceRange(start: event.start, end: next.end), tag: event.tag,
                anchor: event.anchor)
            result = (node, size)
        default:
            throw unexpected(event)
        }
        if let anchor = event.anchor { anchors[anchor] = result }
        return result
    }

    private mutating func expand(alias name: String, at event: YAMLEvent) throws(YAMLSyntaxError) -> (
        YAMLNode, Size
    ) {
        guard let (node, size) = anchors[name] else {
            throw YAMLSyntaxError(
                Diagnostic(
                    code: SyntaxCode.undefinedAlias, message: "the alias `*\(name)` refers to no anchor",
                    file: file, location: event.start,
                    hint: "define `&\(name)` on a node before this point (an anchor cannot refer to itself)"))
        }
        aliasCharge += size
        // Nodes bound a bomb of nested lists; bytes one of long text (a 100 KB scalar copied 2,000 times is 200 MB
        // from a file of 100 KB, each copy then checked, and printed in each diagnostic about it).
        let over =
            aliasCharge.nodes > limits.maxAliasExpansion
            ? "\(limits.maxAliasExpansion) nodes"
            : aliasCharge.bytes > limits.maxAliasBytes ? "\(limits.maxAliasBytes) bytes of text" : nil
        if let over {
            throw YAMLSyntaxError(
                Diagnostic(
                    code: SyntaxCode.aliasBudget,
                    message: "aliases expand to more than \(over)",
                    file: file, location: event.start,
                    hint: "write the repeated content out, or use fewer nested aliases",
                    notes: [Diagnostic.Note(message: "`&\(name)` is defined here", location: node.range.start)]))
        }
        // The copy is where the alias stands: a problem with the value is reported at its use (the anchor may
        // be fine where it is, e.g. a `description` reused as a model name).
        var copy = node
        copy.range = SourceRange(start: event.start, end: event.end)
        return (copy, size)
    }

    private func checkDepth(_ depth: Int, at event: YAMLEvent) throws(YAMLSyntaxError) {
        guard depth > limits.maxDepth else { return }
        throw YAMLSyntaxError(
            Diagnostic(
                code: SyntaxCode.tooDeep, message: "nesting is deeper than \(limits.maxDepth) levels",
                file: file, location: event.start, hint: "flatten the structure; workflow files need only a few levels")
        )
    }

    private func checkKey(_ key: YAMLNode, firstKeys: inout [String: SourceLocation]) throws(YAMLSyntaxError) {
        guard let scalar = key.scalar else { return }
        if scalar.value == "<<", scalar.style == .plain {
            throw YAMLSyntaxError(
                Diagnostic(
                    code: SyntaxCode.mergeKey, message: "merge keys (`<<`) are not supported", file: file,
                    location: key.range.start,
                    hint: "write the keys out, or use `extends:` to build on another workflow"))
        }
        if let first = firstKeys[scalar.value] {
            throw YAMLSyntaxError(
                Diagnostic(
                    code: SyntaxCode.duplicateKey, message: "the key `\(scalar.value)` appears twice in this mapping",
                    file: file, location: key.range.start, hint: "remove one of them or merge their values",
                    notes: [Diagnostic.Note(message: "`\(scalar.value)` is first defined here", location: first)]))
        }
        firstKeys[scalar.value] = key.range.start
    }

    private func unexpected(_ event: YAMLEvent) -> YAMLSyntaxError {
        YAMLSyntaxError(
            Diagnostic(
                code: SyntaxCode.syntax, message: "unexpected YAML structure", file: file, location: event.start,
                hint: "check the file for malformed YAML at this point"))
    }
}
