// A workflow shipped inside the binary. The list itself is generated into
// `BuiltinWorkflows.swift` from `workflows/*.yaml` by the test suite (`REFINERY_RECORD=1`).

/// A built-in workflow: its name and the exact text of `workflows/NAME.yaml`.
package struct BuiltinWorkflow: Sendable, Hashable {
    /// The workflow name (the file name without `.yaml`).
    package var name: String
    /// The file's text.
    package var text: String

    /// Creates a built-in.
    package init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}
