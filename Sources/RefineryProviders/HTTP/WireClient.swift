// The shared transport: sends a `WireCall` over AsyncHTTPClient with a deadline, logs the
// exchange with credentials redacted, and turns every failure into a `ProviderError`.
// Providers never retry here; the engine decides.

import AsyncHTTPClient
import Foundation
package import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
package import RefineryRuntime

/// Sends model API requests for one provider.
package struct WireClient: Sendable {
    package let http: HTTPClientPool
    package let provider: String
    package let logger: Logger
    package let redactor: Redactor
    package let gate: CallGate?
    /// Whether chat calls to this provider stream (providers.yaml `stream`, default on).
    package let streams: Bool
    /// Longest silence between two pieces of a streamed reply (providers.yaml `idle_timeout`).
    package let idleTimeoutSeconds: Double

    package init(
        http: HTTPClientPool, provider: String, logger: Logger, redactor: Redactor, gate: CallGate? = nil,
        streams: Bool = true, idleTimeoutSeconds: Double = ProviderLimits.defaultIdleTimeoutSeconds
    ) {
        self.http = http
        self.provider = provider
        self.logger = logger
        self.redactor = redactor
        self.gate = gate
        self.streams = streams
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    /// The request's rough token count when the gate charges tokens against a tokens-per-minute limit,
    /// else 0: estimating counts every character of the prompt (1 % of `refinery`'s CPU at N = 50,
    /// Benchmarks/README.md, real path), and nothing else reads the figure.
    package func estimatedTokens(_ request: ModelRequest) -> Int {
        gate?.countsTokens == true ? HTTPProviderSupport.estimateTokens(request: request) : 0
    }

    /// Largest reply body read (a guard against a runaway server).
    fileprivate static let maxBodyBytes = 64 * 1024 * 1024

    /// Sends `call` and returns the decoded JSON reply. Non-2xx replies, transport failures,
    /// timeouts, empty and non-JSON bodies all throw ``ProviderError``. `refresh`, when given,
    /// rebuilds the call once the gate admits it, so a call that waited its turn is sent with what
    /// the provider learned meanwhile (the structured mode the endpoint accepts); `failed` hears the
    /// error before the gate admits the next call, so it learns before that call is built.
    package func send(
        _ call: WireCall, refresh: (@Sendable () throws -> WireCall)? = nil,
        failed: (@Sendable (ProviderError) -> Void)? = nil
    ) async throws -> JSONValue {
        TaskStack.reserve(bytes: Self.exchangeFrameBytes)
        return try await gated(call, failed: failed) {
            let call = try refresh?() ?? call
            return try await withDeadline(call) {
                let client = http.acquire()
                defer { http.release() }
                let response = try await execute(call, on: client)
                let bytes = try await readBody(response, call: call)
                if logger.logLevel <= .debug {
                    let text = String(decoding: bytes, as: UTF8.self)
                    logger.debug(
                        "\(provider) reply body", metadata: ["body": "\(String(redactor.redact(text).prefix(4096)))"])
                }
                guard (200..<300).contains(Int(response.status.code)) else {
                    throw classify(response, body: String(decoding: bytes, as: UTF8.self), call: call)
                }
                guard bytes.contains(where: { !Self.isJSONWhitespace($0) }) else {
                    throw ProviderError(
                        code: .emptyResponse, message: "\(provider) sent an empty reply body", provider: provider,
                        statusCode: Int(response.status.code))
                }
                guard let json = JSONValue.parse(bytes: bytes) else {
                    let text = String(decoding: bytes, as: UTF8.self)
                    throw ProviderError(
                        code: .invalidResponse,
                        message:
                            "\(provider) sent a reply that is not JSON: \(String(redactor.redact(text).prefix(200)))",
                        provider: provider, statusCode: Int(response.status.code))
                }
                return json
            }
        }
    }

    /// Sends `call` expecting `text/event-stream`, feeds each event to `decoder`, passes text
    /// deltas to `onDelta`, and returns what the decoder gathered. A stream that ends before the
    /// decoder saw its end marker throws `.truncated`. The stream is read in the caller's task, under
    /// the call's watch: once the reply has begun, ``idleTimeoutSeconds`` without a piece of it fails
    /// the call (a transient `.timeout`), while a long reply that keeps arriving runs up to the call's
    /// own deadline.
    package func stream<Decoder: StreamDecoder>(
        _ call: WireCall, decoder: Decoder, refresh: (@Sendable () throws -> WireCall)? = nil,
        failed: (@Sendable (ProviderError) -> Void)? = nil, onDelta: (@Sendable (String) -> Void)? = nil
    ) async throws -> ModelReplyParts {
        TaskStack.reserve(bytes: Self.exchangeFrameBytes)
        return try await gated(call, failed: failed) {
            let call = try refresh?() ?? call
            return try await withDeadline(call) {
                let client = http.acquire()
                defer { http.release() }
                let response = try await execute(call, on: client)
                try await requireEventStream(response, call: call)
                // Every call in flight is suspended in this loop, and the async frames on its path
                // stay allocated until the call's task ends: the reading state lives in one object
                // and the synchronous work (parsing, decoding, errors) in its methods, never inlined.
                let reading = StreamReading(decoder: decoder, client: self, onDelta: onDelta)
                let watch = CallWatch.current
                reading.startIdleWatch(watch)
                do {
                    for try await buffer in response.body {
                        watch?.touch()
                        try reading.feed(buffer)
                    }
                    try reading.end()
                } catch {
                    throw reading.failure(error, call: call)
                }
                return try reading.finish()
            }
        }
    }

    /// The state of one streamed reply being read: the event parser, the decoder, the bytes so far.
    private final class StreamReading<Decoder: StreamDecoder> {
        private var decoder: Decoder
        private var parser = SSEParser()
        private var received = 0
        private let client: WireClient
        private let onDelta: (@Sendable (String) -> Void)?

        init(decoder: Decoder, client: WireClient, onDelta: (@Sendable (String) -> Void)?) {
            self.decoder = decoder
            self.client = client
            self.onDelta = onDelta
        }

        /// Once the reply has begun, ``WireClient/idleTimeoutSeconds`` without a piece of it fails the call.
        @inline(never)
        func startIdleWatch(_ watch: CallWatch?) {
            watch?.watchIdle(
                limit: .milliseconds(HTTPProviderSupport.milliseconds(client.idleTimeoutSeconds)),
                error: client.stalled())
        }

        /// Parses `buffer` into events and passes each event's text deltas on.
        @inline(never)
        func feed(_ buffer: ByteBuffer) throws {
            received += buffer.readableBytes
            guard received <= WireClient.maxBodyBytes else { throw client.oversized() }
            for event in parser.feed(buffer.readableBytesView) {
                client.logger.trace(
                    "\(client.provider) event",
                    metadata: ["event": "\(event.event)", "data": "\(client.redactor.redact(event.data))"])
                try consume(event)
            }
        }

        private func consume(_ event: SSEEvent) throws {
            for delta in try decoder.consume(event) where !delta.isEmpty { onDelta?(delta) }
        }

        /// The body has ended: an event it left unterminated is decoded.
        @inline(never)
        func end() throws {
            if let last = parser.finish() { try consume(last) }
        }

        /// What the decoder gathered, once the body has ended: an empty or truncated stream throws.
        @inline(never)
        func finish() throws -> ModelReplyParts {
            guard received > 0 else {
                throw ProviderError(
                    code: .emptyResponse, message: "\(client.provider) sent an empty stream",
                    provider: client.provider)
            }
            guard decoder.isComplete else {
                throw ProviderError(
                    code: .truncated,
                    message: "the \(client.provider) stream ended before the reply was complete; retry",
                    provider: client.provider)
            }
            return try decoder.reply()
        }

        /// A failure while reading the body: the decoder's or the limit's own error, else a transport error.
        @inline(never)
        func failure(_ error: any Error, call: WireCall) -> ProviderError {
            if let error = error as? ProviderError { return error }
            return client.transportError(error, call: call, duringBody: true)
        }
    }

    /// The async frames an exchange stacks below ``send(_:refresh:failed:)`` or
    /// ``stream(_:decoder:refresh:failed:onDelta:)`` (this file's and AsyncHTTPClient's), measured in a
    /// release build: about 13 KB. Reserved as one slab of the call's task (``TaskStack``).
    static let exchangeFrameBytes = 13 * 1024

    // MARK: - Pieces

    /// Throws unless `response` is a successful event stream: an error status is classified from its
    /// body, and a JSON body (some servers answer a streaming request with one JSON object, often an
    /// error) is read for its error.
    @inline(never)
    private func requireEventStream(_ response: HTTPClientResponse, call: WireCall) async throws {
        guard (200..<300).contains(Int(response.status.code)) else {
            let bytes = try await readBody(response, call: call)
            throw classify(response, body: String(decoding: bytes, as: UTF8.self), call: call)
        }
        if response.headers.first(name: "content-type")?.lowercased().hasPrefix("application/json") == true {
            throw jsonInsteadOfStream(try await readBody(response, call: call))
        }
    }

    private func jsonInsteadOfStream(_ bytes: [UInt8]) -> ProviderError {
        let json = JSONValue.parse(bytes: bytes)
        if let error = json?["error"], error != .null {
            let type = error["type"]?.string ?? error["status"]?.string ?? error["code"]?.string ?? ""
            return ErrorClassifier.classify(
                errorType: type, message: redactor.redact(ErrorClassifier.errorDetail(json) ?? ""), provider: provider,
                context: "instead of a stream")
        }
        let text = String(redactor.redact(String(decoding: bytes, as: UTF8.self)).prefix(200))
        return ProviderError(
            code: .invalidResponse, message: "\(provider) answered a streaming request with JSON, not events: \(text)",
            provider: provider)
    }

    private func gated<T: Sendable>(
        _ call: WireCall, failed: (@Sendable (ProviderError) -> Void)?, _ body: () async throws -> T
    ) async throws -> T {
        guard let gate else { return try await Self.reporting(failed, body) }
        do {
            // Queue time, not call time: the engine's deadline for the call pauses meanwhile.
            try await CallWatch.queued { try await gate.acquire(tokens: call.estimatedTokens) }
        } catch let paused as CallGate.Paused {
            // Not sent: the engine backs off (holding no slot) and retries when the pause is over.
            let (whole, fraction) = paused.remaining.components
            let seconds = Double(whole) + Double(fraction) / 1e18
            throw ProviderError(
                code: .rateLimited,
                message:
                    "\(provider) asked to pause calls (rate limit); not sent, retry after \(Int(seconds.rounded(.up))) s",
                provider: provider, retryAfterSeconds: seconds)
        }
        defer { gate.release() }
        return try await Self.reporting(failed, body)
    }

    /// `body`'s result; a ``ProviderError`` it throws is passed to `failed` first.
    private static func reporting<T: Sendable>(
        _ failed: (@Sendable (ProviderError) -> Void)?, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch let error as ProviderError {
            failed?(error)
            throw error
        }
    }

    private func execute(_ call: WireCall, on client: HTTPClient) async throws -> HTTPClientResponse {
        let request = try request(for: call)
        do {
            // No deadline of the client's own: the call's watch (`withDeadline`) bounds the whole
            // exchange, body included, which AsyncHTTPClient's deadline does not (it stops watching
            // once the response head has arrived).
            let response = try await client.execute(request, deadline: .distantFuture)
            logger.debug("\(provider) reply", metadata: ["status": "\(response.status.code)"])
            notePause(response)
            return response
        } catch {
            throw transportError(error, call: call, duringBody: false)
        }
    }

    /// The HTTP request of `call`. Synchronous, so the body's bytes are written straight into the
    /// request's buffer and nothing of their writing stays in the async frame that waits for the reply.
    @inline(never)
    private func request(for call: WireCall) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: call.url)
        request.method = .POST
        for (name, value) in call.headers { request.headers.add(name: name, value: value) }
        if !call.headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            request.headers.add(name: "content-type", value: "application/json")
        }
        var body = JSONOutput()
        guard call.body.write(into: &body) else {
            throw ProviderError(
                code: .badRequest,
                message: "the \(provider) request holds a number JSON cannot spell (NaN or infinity)",
                provider: provider)
        }
        request.body = .bytes(body.withBytes { ByteBuffer(bytes: $0) })
        if logger.logLevel <= .debug {
            let bodyText = body.text
            let headers = redactor.redactHeaders(call.headers).map { "\($0): \($1)" }.joined(separator: "; ")
            logger.debug(
                "\(provider) request",
                metadata: [
                    "url": "\(redactor.redact(call.url))", "headers": "\(headers)",
                    "body": "\(String(redactor.redact(bodyText).prefix(8192)))",
                ])
        }
        return request
    }

    /// Space, tab, line feed, carriage return (and the vertical tab and form feed a server may pad with).
    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private func readBody(_ response: HTTPClientResponse, call: WireCall) async throws -> [UInt8] {
        do {
            var bytes: [UInt8] = []
            for try await buffer in response.body {
                bytes.append(contentsOf: buffer.readableBytesView)
                if bytes.count > Self.maxBodyBytes { throw oversized() }
            }
            return bytes
        } catch let error as ProviderError {
            throw error
        } catch {
            throw transportError(error, call: call, duringBody: true)
        }
    }

    /// `error` with its message redacted: errors parsed from a reply (an `error` object in a
    /// 200 body or a stream) carry the server's text, which may echo a key.
    package func redacting(_ error: ProviderError) -> ProviderError {
        var error = error
        error.message = redactor.redact(error.message)
        error.cause = error.cause.map(redactor.redact)
        return error
    }

    /// Longest pause the gate takes from headers (5 minutes): the wait happens before the call's
    /// own deadline starts, so a server asking for hours must not stall a run unseen; longer waits
    /// are left to the engine's retry policy, which sees `retryAfterSeconds`.
    package static let maxGatePauseSeconds = 300.0

    /// Passes a pause the reply's rate-limit headers ask for to the gate, so the calls not yet
    /// started wait instead of hitting the same limit.
    private func notePause(_ response: HTTPClientResponse) {
        guard let gate else { return }
        let headers = response.headers.map { ($0.name, $0.value) }
        guard let seconds = ErrorClassifier.rateLimitPause(status: Int(response.status.code), headers: headers)
        else { return }
        let pause = min(seconds, Self.maxGatePauseSeconds)
        logger.debug("\(provider) rate limit", metadata: ["pause_seconds": "\(pause)"])
        gate.pause(for: .milliseconds(Int64((pause * 1000).rounded(.up))))
    }

    fileprivate func oversized() -> ProviderError {
        ProviderError(
            code: .invalidResponse, message: "\(provider) sent a reply over 64 MB; check the base URL and the server",
            provider: provider)
    }

    private func classify(_ response: HTTPClientResponse, body: String, call: WireCall) -> ProviderError {
        let headers = response.headers.map { ($0.name, $0.value) }
        var error = ErrorClassifier.classify(
            status: Int(response.status.code), headers: headers, body: redactor.redact(body), provider: provider,
            model: call.model)
        error.message = redactor.redact(error.message)
        // The provider's request id is what its support asks for.
        if let id = response.headers.first(name: "request-id") ?? response.headers.first(name: "x-request-id") {
            error.message += " [request id \(redactor.redact(id))]"
        }
        logger.debug("\(provider) failure", metadata: ["error": "\(error)"])
        return error
    }

    /// Classifies a transport failure. A cut during the body is `.truncated`: the server started
    /// answering, so the reply is incomplete rather than unreachable.
    package func transportError(_ error: any Error, call: WireCall, duringBody: Bool) -> ProviderError {
        if let error = error as? ProviderError { return error }
        if error is CancellationError || Task.isCancelled {
            return ProviderError(code: .cancelled, message: "the \(provider) call was cancelled", provider: provider)
        }
        let description = redactor.redact(String(describing: error))
        if let httpError = error as? HTTPClientError {
            switch httpError {
            case .cancelled:
                return ProviderError(
                    code: .cancelled, message: "the \(provider) call was cancelled", provider: provider)
            case .connectTimeout:
                return unreachableError(description, call: call)
            case .deadlineExceeded, .readTimeout, .getConnectionFromPoolTimeout:
                return timeoutError(call)
            default:
                break
            }
        }
        if !duringBody, Self.isUnreachable(error) { return unreachableError(description, call: call) }
        if duringBody {
            return ProviderError(
                code: .truncated, message: "the connection to \(provider) broke mid-reply (\(description)); retry",
                provider: provider)
        }
        return ProviderError(
            code: .network,
            message:
                "could not reach \(provider) at \(redactor.redact(call.url)) (\(description)); "
                + "check the network and the base URL",
            provider: provider)
    }

    /// Whether `error` says no connection could be made (refused, no route, name not resolved,
    /// connect timeout): the server never saw the request, so waiting longer cannot help.
    private static func isUnreachable(_ error: any Error) -> Bool {
        if error is NIOConnectionError || error is SocketAddressError { return true }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError { return true }
        if let ioError = error as? IOError {
            return [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN, EADDRNOTAVAIL].contains(
                ioError.errnoCode)
        }
        return false
    }

    private func unreachableError(_ description: String, call: WireCall) -> ProviderError {
        ProviderError(
            code: .unreachable,
            message:
                "could not connect to \(provider) at \(redactor.redact(call.url)) (\(description)); "
                + "check that the server is running and the base URL",
            provider: provider)
    }

    private func timeoutError(_ call: WireCall) -> ProviderError {
        ProviderError(
            code: .timeout,
            message:
                "\(provider) did not answer within \(ErrorClassifier.formatTimeout(call.timeoutSeconds)); "
                + "raise --timeout or retry",
            provider: provider)
    }

    /// The error of a stream that went ``idleTimeoutSeconds`` without a piece of its reply.
    fileprivate func stalled() -> ProviderError {
        ProviderError(
            code: .timeout,
            message:
                "the \(provider) stream stalled: nothing arrived for "
                + "\(ErrorClassifier.formatTimeout(idleTimeoutSeconds)) (idle timeout); retry, "
                + "or raise `idle_timeout` in providers.yaml for a model that thinks silently",
            provider: provider)
    }

    /// Runs `body` as one call bounded by the call's timeout: under the engine, its deadline for
    /// the call (which started when the gate admitted the call, as this one would); outside it, a
    /// watch of its own that throws `.timeout` when `body` outlasts `call`'s timeout.
    private func withDeadline<T: Sendable>(
        _ call: WireCall, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await CallWatch.bounding(
            timeout: .milliseconds(HTTPProviderSupport.milliseconds(call.timeoutSeconds)), expired: timeoutError(call)
        ) {
            do {
                return try await body()
            } catch {
                throw transportError(error, call: call, duringBody: false)
            }
        }
    }
}

extension ErrorClassifier {
    static func formatTimeout(_ seconds: Double) -> String {
        seconds.rounded() == seconds && abs(seconds) < 1e15 ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }
}
