// The one error scaffolding every Refinery error shares, in the lowest layer so each layer's errors
// conform: a stable code (a struct over a name, as NIO's `FileSystemError.Code`), a message that says
// what to do, the cause, and — when the problem is in a user's file — located diagnostics. Each error
// type keeps only its own codes and fields; codes, cause text and rendering are written once here.

/// A stable error code of one error type (`Domain`), printed and recorded as ``name``.
///
/// Each error type declares its codes once, as static members of a constrained extension:
///
/// ```swift
/// extension ErrorCode where Domain == StoreError {
///     /// No run has the given id.
///     public static var notFound: Self { Self("not_found") }
/// }
/// ```
///
/// The `Domain` keeps one type's codes from being compared with another's.
public struct ErrorCode<Domain>: Sendable, Hashable, CustomStringConvertible {
    /// The code as printed: `not_found`, `workflow.not-found`, ...
    public let name: String

    /// Creates a code; only the error types of this package declare codes.
    package init(_ name: String) { self.name = name }

    /// The code's name.
    public var description: String { name }
}

/// What every error Refinery throws carries: a code, a message, a cause and, for a problem in a
/// user's file, where it is.
///
/// Conforming types keep their own `description` (the one-line text the CLI prints); ``rendered(sources:colored:)``
/// is the shared rendering that adds the source line and caret of each located diagnostic.
public protocol RefineryError: Error, Sendable, CustomStringConvertible {
    /// The stable code, as printed and recorded (`not_found`, `timeout`, `E101`, ...).
    var errorCode: String { get }
    /// What happened and how to fix it.
    var message: String { get }
    /// The underlying failure, described (never a credential), or `nil`.
    var causeDescription: String? { get }
    /// Where the problem is, when it is in a user's file: located diagnostics (else empty).
    var diagnostics: [Diagnostic] { get }
}

extension RefineryError {
    /// No underlying failure.
    public var causeDescription: String? { nil }
    /// Not located in a file.
    public var diagnostics: [Diagnostic] { [] }

    /// The error for a terminal: each diagnostic with its source line and caret when the error is
    /// located (`sources`: file name → text), else ``CustomStringConvertible/description``.
    public func rendered(sources: [String: String] = [:], colored: Bool = false) -> String {
        guard !diagnostics.isEmpty else { return description }
        return DiagnosticRenderer(colored: colored).render(diagnostics, sources: sources)
    }
}

/// The scaffolding of errors made of located diagnostics (a file that does not parse or check).
public protocol DiagnosticsError: RefineryError {
    /// Every problem found, errors and warnings.
    var diagnostics: [Diagnostic] { get }
}

extension DiagnosticsError {
    /// The first error's code (`E101`, `yaml.syntax`, ...).
    public var errorCode: String {
        (diagnostics.first { $0.severity == .error } ?? diagnostics.first)?.code ?? "diagnostics"
    }
    /// The diagnostics' one-line headers, one per line.
    public var message: String { diagnostics.map(\.description).joined(separator: "\n") }
    /// The diagnostics' one-line headers, one per line.
    public var description: String { message }
}

/// The scaffolding of errors with a code of their own type, a message and an optional cause.
public protocol CodedError: RefineryError {
    /// The type the codes belong to (usually `Self`).
    associatedtype CodeDomain
    /// The kind of problem.
    var code: ErrorCode<CodeDomain> { get }
    /// The underlying error, if any.
    var cause: (any Error & Sendable)? { get }
}

extension CodedError {
    /// ``code``'s name.
    public var errorCode: String { code.name }
    /// The cause, described.
    public var causeDescription: String? { cause.map { String(describing: $0) } }
}
