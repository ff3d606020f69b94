// Failures of the run store, with a message that says what to do about them.

public import RefinerySyntax

/// A run-store failure: opening, migrating, reading or writing the SQLite ledger.
public struct StoreError: CodedError {
    /// What kind of failure this is.
    public typealias Code = ErrorCode<StoreError>

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do.
    public var message: String
    /// The underlying error, if any (SQLite errors never include statement arguments).
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(code: Code, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message, then the cause.
    public var description: String {
        guard let cause else { return message }
        return "\(message) (\(cause))"
    }
}

extension ErrorCode where Domain == StoreError {
    /// The database file could not be created or opened.
    public static var cannotOpen: Self { Self("cannot_open") }
    /// The schema could not be brought up to date.
    public static var migrationFailed: Self { Self("migration_failed") }
    /// No run has the given id.
    public static var notFound: Self { Self("not_found") }
    /// The id prefix matches several runs.
    public static var ambiguousID: Self { Self("ambiguous_id") }
    /// A read or write failed.
    public static var io: Self { Self("io") }
    /// A stored value could not be decoded.
    public static var corrupt: Self { Self("corrupt") }
    /// The database file failed SQLite's integrity check, or is not a database; it was left unchanged.
    public static var damaged: Self { Self("damaged") }
    /// The database was migrated by a newer Refinery than this one.
    public static var newerSchema: Self { Self("newer_schema") }
    /// The run or batch is live: another process (or another task of this one) runs or resumes it.
    public static var live: Self { Self("live") }
}
