// A tool call's failure as the calling model reads it.

/// A tool call the server refuses or cannot carry out; its message goes back to the client as the
/// tool's error result, for the calling model to read.
struct MCPToolError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
