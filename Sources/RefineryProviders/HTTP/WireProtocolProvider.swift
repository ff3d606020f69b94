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
    /// Starts `request`, streamed (its text deltas passed to `onDelta`) or whole, and returns once it is
    /// sent; the reply is completed from the HTTP exchange. Default: ``call(_:stream:)`` through
    /// ``send(_:streaming:onDelta:failed:for:building:completion:)``.
    func start(
        _ request: ModelRequest, streaming: Bool, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> PendingReply
}

extension WireProtocolProvider {
    package func advise(_ error: ProviderError) -> ProviderError { error }

    /// Streams unless the endpoint says `stream: false` in providers.yaml.
    package var prefersStreaming: Bool { client.streams }

    /// The call sent, streamed or whole as ``prefersStreaming`` says: what the engine calls, then waits
    /// for in the returned ``PendingReply`` alone (no frame of the provider's nor of the exchange's is
    /// suspended while the reply comes).
    package func start(_ request: ModelRequest) async throws -> PendingReply {
        try await start(request, streaming: prefersStreaming, onDelta: nil)
    }

    /// The reply, streamed or whole as ``prefersStreaming`` says, within the request's timeout.
    package func reply(to request: ModelRequest) async throws -> ModelReply {
        try await client.bounded(timeoutSeconds: HTTPProviderSupport.timeout(request)) {
            try await start(request).value()
        }
    }

    package func complete(_ request: ModelRequest) async throws -> ModelReply {
        try await client.bounded(timeoutSeconds: HTTPProviderSupport.timeout(request)) {
            try await start(request, streaming: false, onDelta: nil).value()
        }
    }

    /// The streamed reply fed to a stream, for a caller that shows the deltas.
    package func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        HTTPProviderSupport.stream { onDelta in
            try await client.bounded(timeoutSeconds: HTTPProviderSupport.timeout(request)) {
                try await start(request, streaming: true, onDelta: onDelta).value()
            }
        }
    }

    package func start(
        _ request: ModelRequest, streaming: Bool, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> PendingReply {
        let pending = PendingReply()
        do {
            try await send(request, streaming: streaming, onDelta: onDelta, for: pending) {
                try call(request, stream: streaming)
            } completion: { [self] in
                pending.finish($0.mapError { advised($0) })
            }
        } catch {
            throw advised(error)
        }
        return pending
    }

    /// Sends the call `build` makes (once the gate admits it), streamed or whole, and returns once it is
    /// sent; `completion` gets its reply, decoded on the connection's event loop when the reply has
    /// ended, or its error. `failed` hears an exchange's error before the gate admits the next call.
    package func send(
        _ request: ModelRequest, streaming: Bool, onDelta: (@Sendable (String) -> Void)?,
        failed: (@Sendable (ProviderError) -> Void)? = nil, for pending: PendingReply,
        building build: () throws -> WireCall,
        completion: @escaping @Sendable (Result<ModelReply, any Error>) -> Void
    ) async throws {
        let provider = client.provider
        if streaming {
            try await client.startStream(
                estimatedTokens: client.estimatedTokens(request), decoder: makeDecoder(), failed: failed,
                onDelta: onDelta, for: pending, building: build
            ) { parts in
                completion(
                    Result { try HTTPProviderSupport.reply(from: parts.get(), request: request, provider: provider) })
            }
        } else {
            try await client.start(
                estimatedTokens: client.estimatedTokens(request), failed: failed, for: pending, building: build
            ) { json in
                completion(
                    Result {
                        try HTTPProviderSupport.reply(from: parse(json.get()), request: request, provider: provider)
                    })
            }
        }
    }

    /// `error` as the caller gets it: a ``ProviderError`` redacted (a reply's error text may echo a key)
    /// and with the protocol's advice.
    package func advised(_ error: any Error) -> any Error {
        guard let error = error as? ProviderError else { return error }
        return advise(client.redacting(error))
    }
}
