// Problems with what the user gave on the command line (prompt, stdin, files, flags): all exit 4,
// all found before any model is called.

/// A problem with the run's input: refused before any call is made (exit code 4).
public struct InputError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case empty, unreadable, notUTF8 = "not_utf8", tooLarge = "too_large", invalidName = "invalid_name"
            case invalidOption = "invalid_option", exists, notFound = "not_found", git, credentials, finished
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No prompt and no file.
        public static let empty = Code(.empty)
        /// A file could not be read.
        public static let unreadable = Code(.unreadable)
        /// A file or stdin is not valid UTF-8.
        public static let notUTF8 = Code(.notUTF8)
        /// Prompt, stdin and files together exceed the input budget.
        public static let tooLarge = Code(.tooLarge)
        /// A workflow or config name is not `[a-z0-9][a-z0-9_-]*`.
        public static let invalidName = Code(.invalidName)
        /// A flag value is out of range or malformed.
        public static let invalidOption = Code(.invalidOption)
        /// The file to write already exists.
        public static let exists = Code(.exists)
        /// A named workflow, config or run does not exist.
        public static let notFound = Code(.notFound)
        /// A git revision could not be read.
        public static let git = Code(.git)
        /// A provider the run needs has no credentials.
        public static let credentials = Code(.credentials)
        /// The run to resume already finished.
        public static let finished = Code(.finished)

        /// Snake-case name.
        public var description: String { base.rawValue }
    }

    /// The kind of problem.
    public var code: Code
    /// What is wrong and how to fix it.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an input error.
    public init(code: Code, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message.
    public var description: String { message }
}
