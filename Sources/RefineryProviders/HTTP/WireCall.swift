// One HTTP exchange with a model API, described as data so the transport, the logging and
// the error mapping are shared by every wire protocol.

package import NIOCore
package import RefineryRuntime

/// An HTTP request to a model API.
package struct WireCall: Sendable {
    /// Full URL.
    package var url: String
    /// Request headers, credentials included (they are redacted in logs).
    package var headers: [(String, String)]
    /// The JSON body as sent, written when the call is built; `nil` when it holds a number JSON cannot
    /// spell (NaN, an infinity), which fails the call when it is sent. Kept as its bytes only, which
    /// the HTTP request shares, so a call in flight does not also hold the body as a `JSONValue` tree
    /// (~1.1 KB a call, Benchmarks/README.md, session 8).
    package var body: ByteBuffer?
    /// Seconds until the whole exchange (first byte and body) must be done.
    package var timeoutSeconds: Double
    /// The model, for error messages.
    package var model: String
    /// Rough token count of the request, charged against a tokens-per-minute limit.
    package var estimatedTokens: Int

    package init(
        url: String, headers: [(String, String)], body: JSONValue, timeoutSeconds: Double, model: String,
        estimatedTokens: Int = 0
    ) {
        self.url = url
        self.headers = headers
        var output = JSONOutput()
        self.body = body.write(into: &output) ? output.withBytes { ByteBuffer(bytes: $0) } : nil
        self.timeoutSeconds = timeoutSeconds
        self.model = model
        self.estimatedTokens = estimatedTokens
    }
}

/// Turns the server-sent events of one streamed reply into text deltas and a final reply.
package protocol StreamDecoder: Sendable {
    /// Consumes one event; returns the text deltas it carries. Throws ``ProviderError`` for an
    /// `error` event or an undecodable one.
    mutating func consume(_ event: SSEEvent) throws -> [String]
    /// Whether the protocol's end-of-reply marker has been seen: the answer is whole.
    var isComplete: Bool { get }
    /// Whether the protocol's terminal event has arrived, after which nothing the reply needs is still to
    /// come (Anthropic's `message_delta` with the stop reason, or `message_stop`; OpenAI's `[DONE]`, or the usage
    /// chunk after the finish reason; Gemini's chunk with a finish reason): the reply is taken then, whether or not
    /// the server ends the body. Default: ``isComplete``.
    var isFinished: Bool { get }
    /// Why a stream that ended without that marker is incomplete, when the decoder can tell more than that
    /// it ended early (a server's end-of-stream marker without the reply's end); `nil` otherwise.
    var incompleteReason: String? { get }
    /// The whole reply, once the stream has ended.
    func reply() throws -> ModelReplyParts
    /// The reply a server sent whole (one JSON object) to a streaming request, read as the protocol's whole
    /// reply; `nil` when `json` is not shaped as one. Default: `nil`.
    func wholeReply(_ json: JSONValue) throws -> ModelReplyParts?
}

extension StreamDecoder {
    package var incompleteReason: String? { nil }

    package func wholeReply(_ json: JSONValue) throws -> ModelReplyParts? { nil }

    package var isFinished: Bool { isComplete }
}

/// What a decoder gathered from a stream (or a whole reply).
package struct ModelReplyParts: Sendable, Hashable {
    package var text: String = ""
    /// All input tokens, those read from or written to a prompt cache included.
    package var inputTokens: Int?
    package var outputTokens: Int?
    /// Of `inputTokens`, those read from the prompt cache, and those written to it (Anthropic).
    package var cachedInputTokens: Int?
    package var cacheWriteTokens: Int?
    /// Of `cacheWriteTokens`, those written with the 1-hour lifetime (Anthropic).
    package var cacheWrite1hTokens: Int?
    package var model: String?
    package var finishReason: String?

    package init(
        text: String = "", inputTokens: Int? = nil, outputTokens: Int? = nil, cachedInputTokens: Int? = nil,
        cacheWriteTokens: Int? = nil, model: String? = nil, finishReason: String? = nil
    ) {
        self.text = text
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.model = model
        self.finishReason = finishReason
    }
}
