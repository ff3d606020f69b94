import RefinerySyntax

/// A prompt template that cannot be rendered.
package struct PromptRenderError: RefineryError, Hashable {
    /// What failed, where (template, line, column) and how to fix it.
    package var message: String

    /// Creates an error.
    package init(message: String) {
        self.message = message
    }

    /// `prompt.render`.
    package var errorCode: String { "prompt.render" }
    /// The message.
    package var description: String { message }
}
