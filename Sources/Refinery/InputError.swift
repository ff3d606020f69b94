// Problems with what the user gave on the command line (prompt, stdin, files, flags): all exit 4,
// all found before any model is called.

public import RefinerySyntax

/// A problem with the run's input: refused before any call is made (exit code 4).
public struct InputError: CodedError {
    /// What kind of problem.
    public typealias Code = ErrorCode<InputError>

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

extension ErrorCode where Domain == InputError {
    /// No prompt and no file.
    public static var empty: Self { Self("empty") }
    /// A file could not be read.
    public static var unreadable: Self { Self("unreadable") }
    /// A file or stdin is not valid UTF-8.
    public static var notUTF8: Self { Self("not_utf8") }
    /// Prompt, stdin and files together exceed the input budget.
    public static var tooLarge: Self { Self("too_large") }
    /// A workflow or config name is not `[a-z0-9][a-z0-9_-]*`.
    public static var invalidName: Self { Self("invalid_name") }
    /// A flag value is out of range or malformed.
    public static var invalidOption: Self { Self("invalid_option") }
    /// The file to write already exists.
    public static var exists: Self { Self("exists") }
    /// A named workflow, config or run does not exist.
    public static var notFound: Self { Self("not_found") }
    /// A git revision could not be read.
    public static var git: Self { Self("git") }
    /// A provider the run needs has no credentials.
    public static var credentials: Self { Self("credentials") }
    /// The run to resume already finished.
    public static var finished: Self { Self("finished") }
    /// A saved config other workflows `extends:` (`refinery remove` without `--force`).
    public static var inUse: Self { Self("in_use") }
    /// The prompt (or a file in it) holds a credential this environment loads.
    public static var holdsCredential: Self { Self("holds_credential") }
}
