// Bounds that keep a hostile or broken file from exhausting memory or time. libyaml checks
// none of them itself (LINUX-NOTES), so the parser enforces them while it builds the tree.

/// Limits the parser enforces on every input.
public struct YAMLLimits: Sendable, Hashable {
    /// Largest accepted input, in bytes. Default 1 MiB (1,048,576).
    public var maxBytes: Int
    /// Deepest accepted nesting of sequences and mappings. Default 64.
    public var maxDepth: Int
    /// Node budget for alias expansion: every `*alias` is charged the size of the node it
    /// copies, and the parse fails once the total exceeds this. Default 10,000.
    public var maxAliasExpansion: Int
    /// Text budget for alias expansion: every `*alias` is also charged the bytes of the scalars it copies, and
    /// the parse fails once the total exceeds this. Default 1 MiB (1,048,576), what a file may hold.
    public var maxAliasBytes: Int

    /// Creates limits.
    public init(
        maxBytes: Int = 1_048_576, maxDepth: Int = 64, maxAliasExpansion: Int = 10_000, maxAliasBytes: Int = 1_048_576
    ) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxAliasExpansion = maxAliasExpansion
        self.maxAliasBytes = maxAliasBytes
    }

    /// 1 MiB, depth 64, 10,000 alias-expanded nodes, 1 MiB of alias-expanded text.
    public static let `default` = YAMLLimits()
}
