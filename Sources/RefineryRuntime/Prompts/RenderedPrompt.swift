/// A rendered prompt: the system text (when the template has one) and the user message.
package struct RenderedPrompt: Sendable, Hashable {
    /// System prompt from the template; `nil` means "use the member's or workflow's system prompt".
    package var system: String?
    /// The user message.
    package var user: String

    /// Creates a rendered prompt.
    package init(system: String?, user: String) {
        self.system = system
        self.user = user
    }
}
