// Failures of the run store, with a message that says what to do about them.

/// A run-store failure: opening, migrating, reading or writing the SQLite ledger.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case cannotOpen = "cannot_open"
            case migrationFailed = "migration_failed"
            case notFound = "not_found"
            case ambiguousID = "ambiguous_id"
            case io
            case corrupt
            case damaged
            case newerSchema = "newer_schema"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The database file could not be created or opened.
        public static let cannotOpen = Code(.cannotOpen)
        /// The schema could not be brought up to date.
        public static let migrationFailed = Code(.migrationFailed)
        /// No run has the given id.
        public static let notFound = Code(.notFound)
        /// The id prefix matches several runs.
        public static let ambiguousID = Code(.ambiguousID)
        /// A read or write failed.
        public static let io = Code(.io)
        /// A stored value could not be decoded.
        public static let corrupt = Code(.corrupt)
        /// The database file failed SQLite's integrity check, or is not a database; it was left unchanged.
        public static let damaged = Code(.damaged)
        /// The database was migrated by a newer Refinery than this one.
        public static let newerSchema = Code(.newerSchema)

        /// Snake-case name.
        public var description: String { base.rawValue }
    }

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
