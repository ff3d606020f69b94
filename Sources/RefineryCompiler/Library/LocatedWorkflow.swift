// A workflow file found by name or path: its bytes and where they came from.

/// Where a workflow was found.
public enum WorkflowOrigin: String, Sendable, Hashable, Codable {
    /// `./workflows/` of the current directory.
    case project
    /// A folder of `$REFINERY_PATH`.
    case refineryPath = "refinery-path"
    /// `$XDG_CONFIG_HOME/refinery/workflows/`.
    case user
    /// Compiled into Refinery.
    case builtin
    /// A path given on the command line.
    case path
}

/// A resolved workflow file.
public struct LocatedWorkflow: Sendable, Hashable {
    /// The workflow name asked for (for a path, the file name without extension).
    public var name: String
    /// The name diagnostics use: the path, or `builtin:NAME`.
    public var displayName: String
    /// The file's bytes.
    public var bytes: [UInt8]
    /// Absolute path of the file; `nil` for a built-in.
    public var path: String?
    /// Which search folder held it.
    public var origin: WorkflowOrigin

    /// Creates a located workflow.
    public init(name: String, displayName: String, bytes: [UInt8], path: String?, origin: WorkflowOrigin) {
        self.name = name
        self.displayName = displayName
        self.bytes = bytes
        self.path = path
        self.origin = origin
    }
}

/// One workflow visible by name, as listed by ``WorkflowLibrary/list()``.
public struct WorkflowEntry: Sendable, Hashable, Codable {
    /// The workflow name.
    public var name: String
    /// The file path, or `builtin:NAME`.
    public var location: String
    /// Which search folder holds it.
    public var origin: WorkflowOrigin
    /// The file's top-level `description`, if it has one.
    public var description: String?
    /// The location of the entry that wins over this one, when an earlier folder has the same name.
    public var shadowedBy: String?

    /// Creates an entry.
    public init(
        name: String, location: String, origin: WorkflowOrigin, description: String? = nil, shadowedBy: String? = nil
    ) {
        self.name = name
        self.location = location
        self.origin = origin
        self.description = description
        self.shadowedBy = shadowedBy
    }
}
