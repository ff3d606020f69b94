// Problems in a user's file, collected rather than thrown one at a time, and rendered the way
// compilers do: `file:line:col: error: message [code]`, the source line, a caret, a hint.

/// A position in a source file. Lines and columns are 1-based; columns count Unicode scalars.
public struct SourceLocation: Sendable, Hashable, Codable, Comparable {
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// Orders by line, then column.
    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// A half-open range in a source file.
public struct SourceRange: Sendable, Hashable, Codable {
    /// Where the range starts.
    public var start: SourceLocation
    /// Where the range ends.
    public var end: SourceLocation

    /// Creates a range.
    public init(start: SourceLocation, end: SourceLocation) {
        self.start = start
        self.end = end
    }
}

/// A problem found in a user's file.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How serious the problem is.
    public enum Severity: String, Sendable, Hashable, Codable {
        /// The file cannot be used.
        case error
        /// The file works, but probably not as intended.
        case warning
        /// Additional information attached to another diagnostic.
        case note
    }

    /// A stable identifier, e.g. `E101`, documented in the README and never reused.
    public var code: String
    /// Severity.
    public var severity: Severity
    /// What is wrong, in one sentence.
    public var message: String
    /// The file the problem is in (as given by the user), if any.
    public var file: String?
    /// Where the problem is, if known.
    public var location: SourceLocation?
    /// How to fix it.
    public var hint: String?
    /// Secondary locations (e.g. "first defined here", "while parsing a mapping started here").
    public var notes: [Note]

    /// A secondary message with its own location.
    public struct Note: Sendable, Hashable, Codable {
        /// The message.
        public var message: String
        /// Where it points, if anywhere.
        public var location: SourceLocation?

        /// Creates a note.
        public init(message: String, location: SourceLocation? = nil) {
            self.message = message
            self.location = location
        }
    }

    /// Creates a diagnostic.
    public init(
        code: String, severity: Severity = .error, message: String, file: String? = nil,
        location: SourceLocation? = nil, hint: String? = nil, notes: [Note] = []
    ) {
        self.code = code
        self.severity = severity
        self.message = message
        self.file = file
        self.location = location
        self.hint = hint
        self.notes = notes
    }

    /// `file:line:col: severity: message [code]`.
    public var description: String {
        var prefix = file ?? "<input>"
        if let location { prefix += ":\(location.line):\(location.column)" }
        return "\(prefix): \(severity.rawValue): \(message) [\(code)]"
    }
}
