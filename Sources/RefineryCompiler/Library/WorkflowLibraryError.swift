// Why a workflow name or path could not be resolved. The CLI maps every one to exit code 4.

public import RefinerySyntax

/// A workflow name or path that could not be resolved to a file.
public struct WorkflowLibraryError: CodedError {
    /// A stable error code.
    public typealias Code = ErrorCode<WorkflowLibraryError>

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

extension ErrorCode where Domain == WorkflowLibraryError {
    /// The name is not `[a-z0-9][a-z0-9_-]*` (and is not a path).
    public static var invalidName: Self { Self("workflow.invalid-name") }
    /// No search folder and no built-in holds the name, or the path does not exist.
    public static var notFound: Self { Self("workflow.not-found") }
    /// The file found for a name is a symlink that leads outside its search folder.
    public static var escapesSearchFolder: Self { Self("workflow.escapes-search-folder") }
    /// The file exists but cannot be read.
    public static var unreadable: Self { Self("workflow.unreadable") }
}
