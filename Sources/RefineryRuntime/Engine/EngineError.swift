// A failure of the engine itself, on the package's one error scaffolding (see `RefineryError`).

public import RefinerySyntax

/// A failure of the engine itself (not of one model call, which the run absorbs).
public struct EngineError: CodedError {
    /// What kind of failure this is.
    public typealias Code = ErrorCode<EngineError>

    /// The kind of failure.
    public var code: Code
    /// What happened and how to fix it.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(code: Code, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// `message (code)`.
    public var description: String { "\(message) (\(code))" }
}

extension ErrorCode where Domain == EngineError {
    /// The workflow cannot be executed as given (e.g. no members).
    public static var invalidWorkflow: Self { Self("invalid_workflow") }
    /// Not raised: a finished session's `nextRound` returns `nil` and its `finalize` returns the outcome again.
    public static var sessionFinished: Self { Self("session_finished") }
    /// ``RoundOverrides/dropMembers`` names an id that is no member of the workflow.
    public static var unknownMember: Self { Self("unknown_member") }
}
