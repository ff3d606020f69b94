// One compilation: load the file and its bases, merge them, then read every section into the
// IR, reporting every problem. Split by concern into WorkflowBuilder+*.swift.

import RefinerySyntax

/// The per-compilation state of ``WorkflowCompiler/compile(_:)``.
struct WorkflowBuilder {
    let compiler: WorkflowCompiler
    let sink: DiagnosticSink

    func build(_ source: WorkflowSource) -> Workflow? {
        nil
    }
}
