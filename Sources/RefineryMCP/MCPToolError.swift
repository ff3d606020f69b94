// A tool call's failure as the calling model reads it.

import RefinerySyntax

/// A tool call the server refuses or cannot carry out; its message goes back to the client as the
/// tool's error result, for the calling model to read.
struct MCPToolError: RefineryError {
    /// What the calling model reads.
    var message: String

    init(_ message: String) { self.message = message }

    /// `mcp.tool`: every refusal reads the same to the client; the message says which.
    var errorCode: String { "mcp.tool" }
    /// The message.
    var description: String { message }
}
