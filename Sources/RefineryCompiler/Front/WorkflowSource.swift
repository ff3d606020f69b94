// The input of the compiler front end: a workflow file's bytes and where they came from.

/// The text of a workflow file and where it came from.
public struct WorkflowSource: Sendable, Hashable {
    /// The name diagnostics use for the file (e.g. the path as the user typed it, or `builtin:consensus`).
    public var displayName: String
    /// The raw file content; validated as UTF-8 by the parser.
    public var bytes: [UInt8]
    /// Absolute path of the file, when it is one: prompt files are resolved relative to its
    /// folder and it is recorded in ``Provenance/path``.
    public var path: String?

    /// Creates a source from bytes.
    public init(displayName: String, bytes: [UInt8], path: String? = nil) {
        self.displayName = displayName
        self.bytes = bytes
        self.path = path
    }

    /// Creates a source from text.
    public init(displayName: String, text: String, path: String? = nil) {
        self.init(displayName: displayName, bytes: Array(text.utf8), path: path)
    }
}
