// The located node tree the syntax layer hands to the compiler: every node knows where it
// starts and ends in the file, so every later diagnostic can point at the offending text.

/// A node of a parsed YAML document, with its source range.
///
/// Aliases are already expanded (within ``YAMLLimits/maxAliasExpansion``); an expanded alias
/// has the range of the alias (`*name`) where it is used, and the nodes inside it keep theirs.
public struct YAMLNode: Sendable, Hashable {
    /// What the node holds.
    public enum Kind: Sendable, Hashable {
        /// A scalar with its text and quoting style.
        case scalar(YAMLScalar)
        /// A sequence, in file order.
        case sequence([YAMLNode])
        /// A mapping, in file order (keys are unique; the parser rejects duplicates).
        case mapping([YAMLPair])
    }

    /// The node's content.
    public var kind: Kind
    /// Where the node is in the file (1-based lines and columns; `end` is exclusive).
    public var range: SourceRange
    /// The explicit tag (`!!str`, `!custom`), if any.
    public var tag: String?
    /// The anchor (`&name`), if any.
    public var anchor: String?

    /// Creates a node.
    public init(kind: Kind, range: SourceRange, tag: String? = nil, anchor: String? = nil) {
        self.kind = kind
        self.range = range
        self.tag = tag
        self.anchor = anchor
    }

    /// Where the node starts.
    public var location: SourceLocation { range.start }

    /// The scalar, when the node is one.
    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = kind { return scalar }
        return nil
    }

    /// The elements, when the node is a sequence.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    /// The pairs, when the node is a mapping.
    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }

    /// The value of the first pair whose key is the scalar `key`, when the node is a mapping.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first { $0.key.scalar?.value == key }?.value
    }

    /// `scalar`, `sequence` or `mapping`: the word used in "expected a mapping, found a scalar".
    public var kindName: String {
        switch kind {
        case .scalar: "scalar"
        case .sequence: "sequence"
        case .mapping: "mapping"
        }
    }
}

/// A scalar's text and how it was written.
public struct YAMLScalar: Sendable, Hashable {
    /// How a scalar was written; quoted and block scalars are always strings.
    public enum Style: String, Sendable, Hashable {
        /// Unquoted.
        case plain
        /// `'text'`.
        case singleQuoted
        /// `"text"`.
        case doubleQuoted
        /// `|` block.
        case literal
        /// `>` block.
        case folded
    }

    /// The scalar's text after unescaping and folding.
    public var value: String
    /// Quoting style.
    public var style: Style

    /// Creates a scalar.
    public init(value: String, style: Style = .plain) {
        self.value = value
        self.style = style
    }
}

/// One key/value pair of a mapping.
public struct YAMLPair: Sendable, Hashable {
    /// The key node (usually a scalar).
    public var key: YAMLNode
    /// The value node.
    public var value: YAMLNode

    /// Creates a pair.
    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}
