// A workflow that does not compile: every diagnostic, with the text of each file they point
// into, so the CLI can render the source line and caret (exit 4, never a stack trace).

public import RefinerySyntax

/// The workflow (or a base it extends) has errors.
public struct WorkflowDiagnosticsError: DiagnosticsError {
    /// Every diagnostic, errors and warnings.
    public var diagnostics: [Diagnostic]
    /// File name (as in ``Diagnostic/file``) → text, for excerpts.
    public var sources: [String: String]

    /// Creates the error.
    public init(diagnostics: [Diagnostic], sources: [String: String]) {
        self.diagnostics = diagnostics
        self.sources = sources
    }

    /// The diagnostics rendered with source lines and carets (``RefineryError``'s rendering, with
    /// the files this error carries).
    public func rendered(colored: Bool = false) -> String {
        rendered(sources: sources, colored: colored)
    }
}
