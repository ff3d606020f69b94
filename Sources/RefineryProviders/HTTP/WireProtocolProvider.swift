// The shape every HTTP provider shares: build a call, send it whole or streamed, read the
// reply. Each wire protocol supplies only its request body, reply parser and stream decoder.

import RefineryCompiler
package import RefineryRuntime

/// A ``ModelProvider`` speaking one JSON-over-HTTP wire protocol.
package protocol WireProtocolProvider: ModelProvider {
    associatedtype Decoder: StreamDecoder
    /// The shared transport, bound to this provider.
    var client: WireClient { get }
    /// The HTTP call for `request`, whole or streamed.
    func call(_ request: ModelRequest, stream: Bool) throws -> WireCall
    /// Reads a whole (non-streamed) reply.
    func parse(_ json: JSONValue) throws -> ModelReplyParts
    /// A fresh decoder for one streamed reply.
    func makeDecoder() -> Decoder
    /// Adds protocol-specific advice to an error (default: unchanged).
    func advise(_ error: ProviderError) -> ProviderError
    /// Sends `request` streamed and reads its event stream in the caller's task, passing text deltas
    /// to `onDelta`; the reply once the stream has ended. Default: ``call(_:stream:)`` through
    /// ``WireClient/stream(_:decoder:failed:onDelta:)``.
    func streamedReply(_ request: ModelRequest, onDelta: (@Sendable (String) -> Void)?) async throws -> ModelReply
}

extension WireProtocolProvider {
    package func advise(_ error: ProviderError) -> ProviderError { error }

    /// Streams unless the endpoint says `stream: false` in providers.yaml.
    package var prefersStreaming: Bool { client.streams }

    package func complete(_ request: ModelRequest) async throws -> ModelReply {
        do {
            let json = try await client.send(try call(request, stream: false))
            return try HTTPProviderSupport.reply(
                from: parse(json), request: request, provider: client.provider, redactor: client.redactor,
                outputCap: outputCap(request))
        } catch let error as ProviderError {
            throw advise(client.redacting(error))
        }
    }

    /// The reply, streamed or whole as ``prefersStreaming`` says, read in the caller's task: no task
    /// and no `AsyncThrowingStream` between the HTTP response and the caller. A stream that ends without a
    /// byte is asked for again whole: a server may answer a stream it cannot serve that way, and say why only
    /// to a whole request (llama-cpp-python's, for a prompt over its context: HTTP 400
    /// `context_length_exceeded`, "maximum context length is 2048 tokens"), which the whole reply's error
    /// then names, instead of "sent an empty stream".
    package func reply(to request: ModelRequest) async throws -> ModelReply {
        guard prefersStreaming else { return try await complete(request) }
        do {
            return try await streamedReply(request, onDelta: nil)
        } catch let error as ProviderError where error.isEmptyStream {
            do {
                return try await complete(request)
            } catch let error as ProviderError where error.code == .network {
                // The server closed the connection after its empty stream, as the pool handed it out again.
                return try await complete(request)
            }
        }
    }

    /// ``streamedReply(_:onDelta:)`` fed to a stream, for a caller that shows the deltas.
    package func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        HTTPProviderSupport.stream { onDelta in try await streamedReply(request, onDelta: onDelta) }
    }

    package func streamedReply(
        _ request: ModelRequest, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> ModelReply {
        do {
            let parts = try await client.stream(
                try call(request, stream: true), decoder: makeDecoder(), onDelta: onDelta)
            return try HTTPProviderSupport.reply(
                from: parts, request: request, provider: client.provider, redactor: client.redactor,
                outputCap: outputCap(request))
        } catch let error as ProviderError {
            throw advise(client.redacting(error))
        }
    }
}
