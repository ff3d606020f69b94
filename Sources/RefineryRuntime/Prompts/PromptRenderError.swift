/// A prompt template that cannot be rendered.
package struct PromptRenderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed, where (template, line, column) and how to fix it.
    package var message: String

    /// Creates an error.
    package init(message: String) {
        self.message = message
    }

    /// The message.
    package var description: String { message }
}
