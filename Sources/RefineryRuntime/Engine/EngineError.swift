/// A failure of the engine itself (not of one model call, which the run absorbs).
public struct EngineError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidWorkflow = "invalid_workflow"
            case sessionFinished = "session_finished"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The workflow cannot be executed as given (e.g. no members).
        public static let invalidWorkflow = Code(.invalidWorkflow)
        /// `nextRound` or `finalize` was called on a session that already finished.
        public static let sessionFinished = Code(.sessionFinished)

        /// Snake-case name, stable for JSON output.
        public var description: String { base.rawValue }
    }

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
