// What one compilation produces: the checked workflow and its execution graph when nothing is
// wrong, and every problem found in a single pass either way.

public import RefinerySyntax

/// The outcome of compiling a workflow file.
public struct CompileResult: Sendable, Hashable {
    /// The checked workflow; `nil` exactly when ``diagnostics`` holds an error.
    public var workflow: Workflow?
    /// The workflow's execution graph, built once here for every consumer (the estimate, `graph`, the
    /// engine); `nil` exactly when ``workflow`` is.
    public var graph: ExecutionGraph?
    /// Every problem found (errors and warnings), in file order per file.
    public var diagnostics: [Diagnostic]

    /// Creates a result.
    public init(workflow: Workflow?, graph: ExecutionGraph? = nil, diagnostics: [Diagnostic]) {
        self.workflow = workflow
        self.graph = graph
        self.diagnostics = diagnostics
    }

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The errors only.
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    /// The warnings only.
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}
