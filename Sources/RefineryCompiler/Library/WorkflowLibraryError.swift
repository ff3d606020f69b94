// Why a workflow name or path could not be resolved. The CLI maps every one to exit code 4.

/// A workflow name or path that could not be resolved to a file.
public struct WorkflowLibraryError: Error, Sendable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidName = "workflow.invalid-name"
            case notFound = "workflow.not-found"
            case escapesSearchFolder = "workflow.escapes-search-folder"
            case unreadable = "workflow.unreadable"
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The name is not `[a-z0-9][a-z0-9_-]*` (and is not a path).
        public static let invalidName = Code(.invalidName)
        /// No search folder and no built-in holds the name, or the path does not exist.
        public static let notFound = Code(.notFound)
        /// The file found for a name is a symlink that leads outside its search folder.
        public static let escapesSearchFolder = Code(.escapesSearchFolder)
        /// The file exists but cannot be read.
        public static let unreadable = Code(.unreadable)

        /// The code as printed: `workflow.not-found`, ...
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// What happened, naming the input.
    public var message: String
    /// How to fix it.
    public var hint: String
    /// The underlying error, if any (e.g. the file system's).
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(code: Code, message: String, hint: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
        self.cause = cause
    }

    /// `message (hint) [code]`.
    public var description: String { "\(message) (\(hint)) [\(code)]" }
}
