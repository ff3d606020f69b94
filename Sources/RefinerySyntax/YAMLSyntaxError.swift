// The one error the syntax layer throws: a file that is not usable YAML. It carries
// located diagnostics rather than a case per problem, so callers render it like any other.

/// A YAML file could not be parsed; ``diagnostics`` says where and why.
public struct YAMLSyntaxError: DiagnosticsError, Hashable {
    /// The problems found (at least one error, usually exactly one).
    public var diagnostics: [Diagnostic]

    /// Creates an error from diagnostics.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    init(_ diagnostic: Diagnostic) {
        self.diagnostics = [diagnostic]
    }
}
