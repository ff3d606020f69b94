import RefinerySyntax

// Why a model reply could not be read. The engine re-asks with `ReplyParser.formatReminder(for:)`.

/// A model reply that does not have the shape the stage asked for.
package struct ReplyParseError: RefineryError, Hashable {
    /// What was wrong with the reply, phrased so it can be shown to the user or sent back to the model.
    package var message: String

    /// Creates an error.
    package init(message: String) {
        self.message = message
    }

    /// `reply.unreadable`.
    package var errorCode: String { "reply.unreadable" }
    /// The message.
    package var description: String { message }
}
