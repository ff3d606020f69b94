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
import Synchronization

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

    /// Largest whole (not streamed) reply body read: 16 MB, far above any real one. The longest completion a model
    /// writes today (128 K output tokens) is ~0.5 MB of text, ~3 MB were every character escaped as `\uXXXX`; an
    /// embeddings reply holds ~30 KB of JSON per 1,536-dimension vector, so ~500 texts in one call. A larger body
    /// (a runaway server, a download behind the base URL) is refused at its `content-length`, or as soon as it
    /// passes the limit, without buffering the rest.
    package static let maxReplyBytes = 16 * 1024 * 1024

    /// Largest event stream read: 64 MB. A stream spends ~150-250 bytes of JSON on each piece of text (OpenAI's
    /// chunk of one token), so a 128 K-token reply streams ~30 MB; only its text is kept.
    package static let maxStreamBytes = 64 * 1024 * 1024

    /// Sends `call` and returns the decoded JSON reply. Non-2xx replies, transport failures,
    /// timeouts, empty and non-JSON bodies all throw ``ProviderError``. `failed`, when given, hears
    /// the error before the gate admits the next call, so it learns before that call is built.
    package func send(
        _ call: WireCall, failed: (@Sendable (ProviderError) -> Void)? = nil
    ) async throws -> JSONValue {
        try await send(estimatedTokens: call.estimatedTokens, failed: failed) { call }
    }

    /// Sends the call `build` makes once the gate admits it, charged `estimatedTokens` there, as
    /// ``send(_:failed:)`` does: a call that waited its turn is sent with what the provider learned
    /// meanwhile (the structured mode the endpoint accepts). Built once, after the gate: a call also
    /// built before it was held, body and all, by every call waiting or in flight
    /// (Benchmarks/README.md, session 8).
    package func send(
        estimatedTokens: Int, failed: (@Sendable (ProviderError) -> Void)? = nil,
        building build: () throws -> WireCall
    ) async throws -> JSONValue {
        TaskStack.reserve(bytes: Self.exchangeFrameBytes)
        return try await gated(tokens: estimatedTokens, failed: failed) {
            let call = try build()
            return try await withDeadline(call) {
                try await exchange(call, reading: WholeReply())
            }
        }
    }

    /// Sends `call` expecting `text/event-stream`, feeds each event to `decoder`, passes text
    /// deltas to `onDelta`, and returns what the decoder gathered. A stream that ends before the
    /// decoder saw its end marker throws `.truncated`. The stream is read on the connection's event
    /// loop under the call's watch: once the reply has begun, ``idleTimeoutSeconds`` without a piece
    /// of it fails the call (a transient `.timeout`), while a long reply that keeps arriving runs up
    /// to the call's own deadline.
    package func stream<Decoder: StreamDecoder>(
        _ call: WireCall, decoder: Decoder, failed: (@Sendable (ProviderError) -> Void)? = nil,
        onDelta: (@Sendable (String) -> Void)? = nil
    ) async throws -> ModelReplyParts {
        try await stream(
            estimatedTokens: call.estimatedTokens, decoder: decoder, failed: failed, onDelta: onDelta
        ) { call }
    }

    /// Streams the call `build` makes once the gate admits it, as ``stream(_:decoder:failed:onDelta:)``
    /// does and built as ``send(estimatedTokens:failed:building:)`` builds it.
    package func stream<Decoder: StreamDecoder>(
        estimatedTokens: Int, decoder: Decoder, failed: (@Sendable (ProviderError) -> Void)? = nil,
        onDelta: (@Sendable (String) -> Void)? = nil, building build: () throws -> WireCall
    ) async throws -> ModelReplyParts {
        TaskStack.reserve(bytes: Self.exchangeFrameBytes)
        return try await gated(tokens: estimatedTokens, failed: failed) {
            let call = try build()
            return try await withDeadline(call) {
                try await exchange(
                    call, reading: StreamedReply(decoder: decoder, onDelta: onDelta, watch: CallWatch.current))
            }
        }
    }

    /// The async frames an exchange stacks below ``send(estimatedTokens:failed:building:)`` or
    /// ``stream(estimatedTokens:decoder:failed:onDelta:building:)``, measured in a release build (the
    /// context sizes in their async function pointers): about 3.6 KB for a stream in ten frames; 4.9 KB
    /// while the gate's pause error and the error reporting were built in their frames, 13 KB while
    /// AsyncHTTPClient's async `execute` and its body sequence were among them. Reserved as one slab of
    /// the call's task (``TaskStack``).
    static let exchangeFrameBytes = 4 * 1024

    // MARK: - The exchange

    /// Sends `call` through AsyncHTTPClient's delegate API and waits, once, for the reply `reading`
    /// made of it. The head and every piece of the body are read on the connection's event loop as
    /// they arrive (parsed, decoded, bounded, the idle limit pushed back), so the caller's task is
    /// resumed once, with the finished reply or its error, instead of once for every piece; and a call
    /// in flight holds this exchange object and AsyncHTTPClient's request instead of its async
    /// `execute`'s frames, transaction and body sequence (Benchmarks/README.md, issue 12). Cancelling
    /// the caller's task (the call's deadline or idle limit under the engine) cancels the request.
    private func exchange<Reading: ReplyReading>(_ call: WireCall, reading: Reading) async throws -> Reading.Result {
        let request = try request(for: call)
        let exchange = Exchange(client: self, call: call, reading: reading)
        let httpClient = http.acquire()
        defer { http.release() }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    exchange.start(on: httpClient, request: request, continuation: continuation)
                }
            } onCancel: {
                exchange.cancel()
            }
        } catch {
            // A connection that broke after the reply was whole (a proxy dropping it after Anthropic's
            // `message_stop`, without the chunked body's last chunk) cost the reply already: it is the answer,
            // not a `truncated` failure the engine pays for again. Not when the call was cancelled or failed
            // on what it read.
            if !(error is ProviderError), !(error is CancellationError), !Task.isCancelled,
                let reply = exchange.completedReply()
            {
                return reply
            }
            throw transportError(error, call: call, duringBody: exchange.hasBegun)
        }
    }

    /// One request and its reply, read on the event loop by AsyncHTTPClient's delegate calls.
    ///
    /// `@unchecked Sendable`: AsyncHTTPClient calls a delegate's methods one at a time on the task's
    /// event loop (`HTTPClientResponseDelegate`'s documented contract), and the deferred start of the idle
    /// watch, the look at a whole answer's end and its tail wait run on that loop too, so `reading`, `head`,
    /// `isDone`, `endCheckQueued`, `tail` and `tailIsGrace` are only touched there (once the
    /// reply has ended, the deferred start only reads `isDone`); the caller reads `hasBegun` only after it
    /// was resumed by the task's future, which completes after every delegate call. The request's task,
    /// which the cancellation handler reaches from another thread, is behind a `Mutex`.
    private final class Exchange<Reading: ReplyReading>: HTTPClientResponseDelegate, @unchecked Sendable {
        typealias Response = Reading.Result

        private let client: WireClient
        private let call: WireCall
        private var reading: Reading
        private var head: HTTPResponseHead?
        /// Whether the reply has ended, read or failed.
        private var isDone = false
        /// Whether a look at a whole answer's end (``endEarly(_:)``) is queued on the event loop.
        private var endCheckQueued = false
        /// The wait for the last events of a reply whose answer is whole (``endEarly(_:)``).
        private var tail: Scheduled<Void>?
        /// Whether ``tail`` is the short wait for the body's end after the terminal event.
        private var tailIsGrace = false
        /// Longest wait for the body's end once the reply's terminal event came (``endEarly(_:)``).
        private let finishedGraceSeconds = 1.0
        private let task = Mutex<Progress>(.notStarted)

        private enum Progress {
            case notStarted
            case running(HTTPClient.Task<Reading.Result>)
            case cancelled
            case done
        }

        init(client: WireClient, call: WireCall, reading: Reading) {
            self.client = client
            self.call = call
            self.reading = reading
        }

        /// Whether the reply's head arrived: a failure after it cut the reply short.
        var hasBegun: Bool { head != nil }

        /// The reply, when what arrived before the exchange failed already holds all of it; read, as
        /// ``hasBegun`` is, only once the caller was resumed.
        func completedReply() -> Reading.Result? {
            guard head != nil else { return nil }
            return reading.completed(client: client)
        }

        /// Sends the request on `http` and resumes `continuation` once with its outcome.
        @inline(never)
        func start(
            on http: HTTPClient, request: HTTPClient.Request,
            continuation: CheckedContinuation<Reading.Result, any Error>
        ) {
            // A call whose task was cancelled before it was sent (the run stopping) opens no connection.
            guard task.withLock({ if case .cancelled = $0 { false } else { true } }) else {
                return continuation.resume(throwing: CancellationError())
            }
            // No deadline of the client's own: the call's watch (`withDeadline`) bounds the whole exchange.
            let task = http.execute(request: request, delegate: self, eventLoop: .indifferent, deadline: nil)
            let cancelledBefore = self.task.withLock { progress -> Bool in
                if case .cancelled = progress { return true }
                progress = .running(task)
                return false
            }
            if cancelledBefore { task.cancel() }
            task.futureResult.whenComplete { result in
                // The task holds AsyncHTTPClient's request, which holds this delegate: let go of it.
                self.task.withLock { $0 = .done }
                continuation.resume(with: result)
            }
        }

        /// Cancels the request, now or as soon as it is sent.
        func cancel() {
            let running = task.withLock { progress -> HTTPClient.Task<Reading.Result>? in
                switch progress {
                case .notStarted:
                    progress = .cancelled
                    return nil
                case .running(let task):
                    progress = .cancelled
                    return task
                case .cancelled, .done:
                    return nil
                }
            }
            running?.cancel()
        }

        func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            self.head = head
            client.logger.debug("\(client.provider) reply", metadata: ["status": "\(head.status.code)"])
            client.notePause(head)
            let watches: Bool
            do {
                watches = try reading.begin(head, client: client)
            } catch {
                // AsyncHTTPClient fails the task with this error and closes the connection, unread.
                return task.eventLoop.makeFailedFuture(error)
            }
            if watches {
                // The idle watch starts once the event loop is done with what it read with the head: a reply
                // that came whole with it (most do) is finished by then and never takes the run's deadline
                // table's lock on the event loop, where waiting for a preempted holder stalls every
                // connection of the loop (N = 100 on a loaded machine, Benchmarks/README.md, session 7).
                task.eventLoop.execute { self.watchIdle() }
            }
            return task.eventLoop.makeSucceededVoidFuture()
        }

        /// Starts the reply's idle watch unless the reply has already ended, or waits for its tail.
        private func watchIdle() {
            guard !isDone, tail == nil else { return }
            reading.watchIdle(client: client)
        }

        func didReceiveError(task: HTTPClient.Task<Response>, _ error: any Error) {
            ended()
        }

        /// The reply has ended, read or failed: nothing more to wait for.
        private func ended() {
            isDone = true
            tail?.cancel()
            tail = nil
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            do {
                try reading.read(buffer, client: client)
                if reading.isComplete, !endCheckQueued {
                    // Once the event loop is done with what it read with this piece: a body that ends with its
                    // terminal event (every well-behaved server's) has ended by then, and its connection goes back
                    // to the pool.
                    endCheckQueued = true
                    task.eventLoop.execute { self.endEarly(task) }
                }
                return task.eventLoop.makeSucceededVoidFuture()
            } catch {
                // AsyncHTTPClient fails the task with this error and closes the connection.
                return task.eventLoop.makeFailedFuture(error)
            }
        }

        /// Ends a reply whose answer is whole but whose body has not ended. Once the protocol's terminal event
        /// has come (Anthropic's stop reason or `message_stop`, OpenAI's usage after the finish reason or
        /// `[DONE]`, Gemini's finish reason), after ``finishedGraceSeconds`` at most: a server that then holds the
        /// connection open had the call wait for the idle limit and fail as a stall, and the engine paid for the
        /// same answer again; the short wait lets a server whose last bytes come in a read of their own end the
        /// body, so that its connection goes back to the pool. Before it (OpenAI's finish reason, with the usage
        /// chunk `include_usage` asks for and `[DONE]` still to come), after ``idleTimeoutSeconds`` of silence, as
        /// between any two pieces, instead of failing: the answer is taken without them (its usage estimated and
        /// marked). Cancelling the request ends the exchange, which takes the reply the decoder holds
        /// (``completedReply()``).
        private func endEarly(_ task: HTTPClient.Task<Response>) {
            endCheckQueued = false
            guard !isDone else { return }
            let finished = reading.isFinished
            guard tail == nil || (finished && !tailIsGrace) else { return }
            reading.endIdleWatch()
            tail?.cancel()
            tailIsGrace = finished
            let seconds = finished ? min(client.idleTimeoutSeconds, finishedGraceSeconds) : client.idleTimeoutSeconds
            tail = task.eventLoop.scheduleTask(in: .milliseconds(HTTPProviderSupport.milliseconds(seconds))) {
                [weak self] in
                guard let self, !self.isDone else { return }
                client.logger.debug(
                    "\(client.provider) stream went silent after its answer; answer taken",
                    metadata: ["finished": "\(finished)"])
                task.cancel()
            }
        }

        func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
            ended()
            guard let head else { throw HTTPClientError.remoteConnectionClosed }
            return try reading.end(head, client: client, call: call)
        }
    }

    /// Whether `head` begins a successful event stream: not an error status, nor a JSON body (some
    /// servers answer a streaming request with one JSON object, often an error), nor a web page (a base
    /// URL that names a web interface or a proxy's login page), which are read whole.
    fileprivate static func isEventStream(_ head: HTTPResponseHead) -> Bool {
        guard (200..<300).contains(Int(head.status.code)) else { return false }
        let type = head.headers.first(name: "content-type")?.lowercased() ?? ""
        return !type.hasPrefix("application/json") && !type.hasPrefix("text/html")
    }

    /// Most of an error reply's body kept: its message is read from the first few hundred characters (a web
    /// page's title from its first 64 KB), so the rest of a huge one is dropped as it arrives.
    fileprivate static let maxErrorBodyBytes = 64 * 1024

    /// Adds a piece of a whole reply body, up to ``maxReplyBytes``; the body of an error status (`isError`), its
    /// first ``maxErrorBodyBytes`` only: a 500 with a 100 MB page was held whole until it passed 64 MB, and then
    /// reported as a reply over 64 MB (`invalid_response`) instead of as the server error it was.
    fileprivate static func collect(
        _ buffer: ByteBuffer, into body: inout BodyBytes, isError: Bool, client: WireClient
    ) throws {
        guard !isError else {
            return body.append(buffer.readableBytesView.prefix(max(0, maxErrorBodyBytes - body.count)))
        }
        guard body.count + buffer.readableBytes <= maxReplyBytes else {
            throw client.oversized(limit: maxReplyBytes, declared: nil)
        }
        body.append(buffer.readableBytesView)
    }

    /// Prepares `body` for a reply with `head`: an announced length over ``maxReplyBytes`` is refused before a byte
    /// of it is read, and one within it is reserved at once (an error's, up to ``maxErrorBodyBytes``).
    fileprivate static func expect(
        _ head: HTTPResponseHead, into body: inout BodyBytes, isError: Bool, client: WireClient
    ) throws {
        guard let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > 0 else { return }
        guard isError || length <= maxReplyBytes else { throw client.oversized(limit: maxReplyBytes, declared: length) }
        body.reserve(min(length, isError ? maxErrorBodyBytes : maxReplyBytes))
    }

    /// A whole reply body's bytes, gathered as they arrive in about the memory of the body: into one array sized
    /// from the reply's `content-length` when it has one, else each piece as it came, joined once at the end. An
    /// array grown by appending held up to twice the body, three times while it moved (a 64 MB body took ~200 MB).
    fileprivate struct BodyBytes {
        private var bytes: [UInt8] = []
        private var pieces: [[UInt8]] = []
        /// Bytes gathered.
        private(set) var count = 0

        mutating func reserve(_ length: Int) { bytes.reserveCapacity(length) }

        mutating func append(_ piece: some Collection<UInt8>) {
            count += piece.count
            if pieces.isEmpty, bytes.isEmpty || bytes.capacity - bytes.count >= piece.count {
                bytes.append(contentsOf: piece)
            } else {
                pieces.append(Array(piece))
            }
        }

        /// The whole body, as one array; the pieces are let go.
        mutating func joined() -> [UInt8] {
            guard !pieces.isEmpty else { return bytes }
            var whole: [UInt8] = []
            whole.reserveCapacity(count)
            whole.append(contentsOf: bytes)
            bytes = []
            for index in pieces.indices {
                whole.append(contentsOf: pieces[index])
                pieces[index] = []
            }
            pieces = []
            bytes = whole
            return whole
        }
    }

    /// A whole (non-streamed) reply: its bytes, then its JSON.
    private struct WholeReply: ReplyReading {
        private var body = BodyBytes()
        private var isError = false

        mutating func begin(_ head: HTTPResponseHead, client: WireClient) throws -> Bool {
            isError = !(200..<300).contains(Int(head.status.code))
            try WireClient.expect(head, into: &body, isError: isError, client: client)
            return false
        }

        mutating func watchIdle(client: WireClient) {}

        /// Never: a body cut short may be a prefix of itself that still parses.
        mutating func completed(client: WireClient) -> JSONValue? { nil }

        /// Never before its end: a whole body has no terminal event.
        var isComplete: Bool { false }
        var isFinished: Bool { false }
        mutating func endIdleWatch() {}

        mutating func read(_ buffer: ByteBuffer, client: WireClient) throws {
            try WireClient.collect(buffer, into: &body, isError: isError, client: client)
        }

        mutating func end(_ head: HTTPResponseHead, client: WireClient, call: WireCall) throws -> JSONValue {
            try client.json(of: body.joined(), head: head, call: call)
        }
    }

    /// A streamed reply: server-sent events fed to the decoder as they arrive; a reply that is not
    /// an event stream (an error status, a JSON body) is read whole for its error.
    private struct StreamedReply<Decoder: StreamDecoder>: ReplyReading {
        private var decoder: Decoder
        private var parser = SSEParser()
        private var received = 0
        private var isEvents = false
        private var isError = false
        private var isWatched = false
        private var body = BodyBytes()
        private let onDelta: (@Sendable (String) -> Void)?
        private let watch: CallWatch?

        init(decoder: Decoder, onDelta: (@Sendable (String) -> Void)?, watch: CallWatch?) {
            self.decoder = decoder
            self.onDelta = onDelta
            self.watch = watch
        }

        /// Whether the reply is an event stream, whose pieces the call's idle watch bounds.
        mutating func begin(_ head: HTTPResponseHead, client: WireClient) throws -> Bool {
            isEvents = WireClient.isEventStream(head)
            isError = !(200..<300).contains(Int(head.status.code))
            if !isEvents { try WireClient.expect(head, into: &body, isError: isError, client: client) }
            return isEvents && watch != nil
        }

        mutating func watchIdle(client: WireClient) {
            isWatched = true
            watch?.watchIdle(
                limit: .milliseconds(HTTPProviderSupport.milliseconds(client.idleTimeoutSeconds)),
                error: client.stalled())
        }

        /// Parses `buffer` into events and passes each event's text deltas on.
        mutating func read(_ buffer: ByteBuffer, client: WireClient) throws {
            guard isEvents else {
                return try WireClient.collect(buffer, into: &body, isError: isError, client: client)
            }
            if isWatched { watch?.touch() }
            received += buffer.readableBytes
            guard received <= WireClient.maxStreamBytes else {
                throw client.oversized(limit: WireClient.maxStreamBytes, declared: nil)
            }
            for event in parser.feed(buffer.readableBytesView) {
                client.logger.trace(
                    "\(client.provider) event",
                    metadata: ["event": "\(event.event)", "data": "\(client.redactor.redact(event.data))"])
                try consume(event, client: client)
            }
        }

        /// Passes `event`'s text deltas on. An event that does not decode after the reply's end (Anthropic's
        /// `message_stop`, a finish reason) is a broken tail, a proxy's or a cut frame: the reply is whole and
        /// paid for, and failing the call as `invalid_response` had the engine pay for it again.
        private mutating func consume(_ event: SSEEvent, client: WireClient) throws {
            let wasComplete = decoder.isComplete
            do {
                for delta in try decoder.consume(event) where !delta.isEmpty { onDelta?(delta) }
            } catch let error as ProviderError where wasComplete && error.code == .invalidResponse {
                client.logger.debug(
                    "\(client.provider) sent an undecodable event after its reply's end; ignored",
                    metadata: ["data": "\(client.redactor.redact(String(event.data.prefix(200))))"])
            }
        }

        var isComplete: Bool { isEvents && decoder.isComplete }

        var isFinished: Bool { isEvents && decoder.isFinished }

        mutating func endIdleWatch() {
            guard isWatched else { return }
            isWatched = false
            watch?.endIdleWatch()
        }

        /// What the decoder gathered when it had the reply's end before the exchange failed.
        mutating func completed(client: WireClient) -> ModelReplyParts? {
            guard isEvents else { return nil }
            if let last = parser.finish() { _ = try? consume(last, client: client) }
            guard decoder.isComplete else { return nil }
            return try? decoder.reply()
        }

        /// What the decoder gathered, once the body has ended (an event it left unterminated is
        /// decoded): an empty or truncated stream throws, and so does a reply that was not a stream.
        mutating func end(_ head: HTTPResponseHead, client: WireClient, call: WireCall) throws -> ModelReplyParts {
            guard isEvents else {
                let bytes = body.joined()
                guard (200..<300).contains(Int(head.status.code)) else {
                    throw client.classify(head, body: String(decoding: bytes, as: UTF8.self), call: call)
                }
                // A server that ignores `stream: true` (some OpenAI-compatible ones) sends the whole reply: it is
                // the answer, paid for. It failed as `invalid_response` ("JSON, not events") and was asked for
                // again, paid each time, with the same reply.
                if let json = JSONValue.parse(bytes: bytes), json["error"] == nil || json["error"] == .null,
                    let parts = try decoder.wholeReply(json)
                {
                    client.logger.debug("\(client.provider) answered a streaming request whole; reply taken")
                    return parts
                }
                throw client.notAStream(bytes, head: head)
            }
            if let last = parser.finish() { try consume(last, client: client) }
            guard received > 0 else { throw ProviderError.emptyStream(provider: client.provider) }
            guard decoder.isComplete else {
                let reason = decoder.incompleteReason.map { " (\($0))" } ?? ""
                throw ProviderError(
                    code: .truncated,
                    message: "the \(client.provider) stream ended before the reply was complete\(reason); retry",
                    provider: client.provider)
            }
            return try decoder.reply()
        }
    }

    // MARK: - Pieces

    /// The JSON of a whole reply's `bytes`: an error status is classified from them, an empty or
    /// non-JSON body throws.
    private func json(of bytes: [UInt8], head: HTTPResponseHead, call: WireCall) throws -> JSONValue {
        if logger.logLevel <= .debug {
            let text = String(decoding: bytes, as: UTF8.self)
            logger.debug(
                "\(provider) reply body", metadata: ["body": "\(String(redactor.redact(text).prefix(4096)))"])
        }
        guard (200..<300).contains(Int(head.status.code)) else {
            throw classify(head, body: String(decoding: bytes, as: UTF8.self), call: call)
        }
        guard bytes.contains(where: { !Self.isJSONWhitespace($0) }) else {
            throw ProviderError(
                code: .emptyResponse, message: "\(provider) sent an empty reply body", provider: provider,
                statusCode: Int(head.status.code))
        }
        guard let json = JSONValue.parse(bytes: bytes) else {
            let text = redactor.redact(String(decoding: bytes, as: UTF8.self))
            let headers = head.headers.map { ($0.name, $0.value) }
            let summary = ErrorClassifier.bodySummary(text, headers: headers)
            // A web page is not the API (a captive portal, a proxy's login page): asked again, it answers the same.
            guard !ErrorClassifier.isWebPage(text, headers: headers) else {
                throw ProviderError(
                    code: .badResponse,
                    message: "\(provider) answered with \(summary), not JSON; check the base URL "
                        + "and whether a proxy or a network login page stands in the way",
                    provider: provider, statusCode: Int(head.status.code))
            }
            throw ProviderError(
                code: .invalidResponse, message: "\(provider) sent a reply that is not JSON: \(summary)",
                provider: provider, statusCode: Int(head.status.code))
        }
        return json
    }

    /// The error of a 2xx reply to a streaming request that is not an event stream: the error object it
    /// holds, else what it was.
    fileprivate func notAStream(_ bytes: [UInt8], head: HTTPResponseHead) -> ProviderError {
        if head.headers.first(name: "content-type")?.lowercased().hasPrefix("text/html") == true {
            let text = redactor.redact(String(decoding: bytes, as: UTF8.self))
            let summary = ErrorClassifier.bodySummary(text, headers: head.headers.map { ($0.name, $0.value) })
            return ProviderError(
                code: .badResponse,
                message: "\(provider) answered a streaming request with \(summary), not events; check the base URL",
                provider: provider, statusCode: Int(head.status.code))
        }
        guard bytes.contains(where: { !Self.isJSONWhitespace($0) }) else {
            return ProviderError(
                code: .emptyResponse,
                message: "\(provider) answered a streaming request with an empty body (HTTP \(head.status.code)), "
                    + "not events",
                provider: provider, statusCode: Int(head.status.code))
        }
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

    // Not inlined into `send`/`stream`: its frame belongs in the exchange's reserved slab, not in the one the
    // frames above it share (which then overflows into a slab of its own for every call in flight).
    @inline(never)
    private func gated<T: Sendable>(
        tokens: Int, failed: (@Sendable (ProviderError) -> Void)?, _ body: () async throws -> T
    ) async throws -> T {
        guard let gate else { return try await Self.reporting(failed, body) }
        do {
            // Queue time, not call time: the engine's deadline for the call pauses meanwhile.
            try await CallWatch.queued { try await gate.acquire(tokens: tokens) }
        } catch let paused as CallGate.Paused {
            throw pausedError(paused)
        }
        defer { gate.release() }
        return try await Self.reporting(failed, body)
    }

    /// The error of a call the gate did not send because the endpoint asked for a pause: the engine backs
    /// off (holding no slot) and retries when the pause is over. Not inlined: built in `gated`, its
    /// temporaries were most of that async frame, held by every call in flight (Benchmarks/README.md, session 8).
    /// The wait is what the provider asked for (less the time since), not the gate's cap of it: the engine
    /// refuses a wait longer than the call's timeout, and says the one the provider asked for.
    @inline(never)
    private func pausedError(_ paused: CallGate.Paused) -> ProviderError {
        let asked = paused.asked.rounded(.up)  // whole seconds: `86400 s (1 day)`, not `(24 hours)` a moment later
        return ProviderError(
            code: .rateLimited,
            message:
                "\(provider) asked to pause calls (rate limit); not sent, retry after \(ProviderError.waitText(asked))",
            provider: provider, retryAfterSeconds: asked)
    }

    /// `body`'s result; a ``ProviderError`` it throws is passed to `failed` first.
    private static func reporting<T: Sendable>(
        _ failed: (@Sendable (ProviderError) -> Void)?, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch {
            throw reported(error, to: failed)
        }
    }

    /// `error`, passed to `failed` first when it is a ``ProviderError``. Not inlined, so that its cast and
    /// copy of the error are not in `reporting`'s async frame, which every call in flight holds.
    @inline(never)
    private static func reported(_ error: any Error, to failed: (@Sendable (ProviderError) -> Void)?) -> any Error {
        if let error = error as? ProviderError { failed?(error) }
        return error
    }

    /// The HTTP request of `call`, which shares the call's body bytes. Synchronous, so nothing of its
    /// building stays in the async frame that waits for the reply.
    @inline(never)
    private func request(for call: WireCall) throws -> HTTPClient.Request {
        var headers = HTTPHeaders()
        for (name, value) in call.headers { headers.add(name: name, value: value) }
        if !call.headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            headers.add(name: "content-type", value: "application/json")
        }
        guard let body = call.body else {
            throw ProviderError(
                code: .badRequest,
                message: "the \(provider) request holds a number JSON cannot spell (NaN or infinity)",
                provider: provider)
        }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: call.url, method: .POST, headers: headers,
                body: .byteBuffer(body))
        } catch {
            throw transportError(error, call: call, duringBody: false)
        }
        if logger.logLevel <= .debug {
            let bodyText = String(buffer: body)
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
    fileprivate func notePause(_ head: HTTPResponseHead) {
        guard let gate else { return }
        let headers = head.headers.map { ($0.name, $0.value) }
        guard let seconds = ErrorClassifier.rateLimitPause(status: Int(head.status.code), headers: headers)
        else { return }
        let pause = min(seconds, Self.maxGatePauseSeconds)
        logger.debug("\(provider) rate limit", metadata: ["pause_seconds": "\(pause)"])
        gate.pause(for: .milliseconds(Int64((pause * 1000).rounded(.up))), asked: seconds)
    }

    /// The error of a reply over `limit` bytes (`declared` so in its `content-length`): permanent, as the same
    /// request gets the same reply (and may be billed again).
    fileprivate func oversized(limit: Int, declared: Int?) -> ProviderError {
        let announced = declared.map { " (content-length \($0))" } ?? ""
        return ProviderError(
            code: .badResponse,
            message:
                "\(provider) sent a reply over \(limit / (1024 * 1024)) MB\(announced), the most read; "
                + "check the base URL and the server",
            provider: provider)
    }

    fileprivate func classify(_ head: HTTPResponseHead, body: String, call: WireCall) -> ProviderError {
        let headers = head.headers.map { ($0.name, $0.value) }
        var error = ErrorClassifier.classify(
            status: Int(head.status.code), headers: headers, body: redactor.redact(body), provider: provider,
            model: call.model)
        error.message = redactor.redact(error.message)
        // The provider's request id is what its support asks for.
        if let id = head.headers.first(name: "request-id") ?? head.headers.first(name: "x-request-id") {
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
        let description = redactor.redact(Self.describe(error))
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

    /// A transport failure in a message: an operating-system error in its own words (`Connection refused (errno
    /// 111)`), not NIO's note of where it was read (`connection reset (error set): Connection refused (errno: 111)`,
    /// which reads as a reset), also inside NIO's connection error; anything else as it describes itself.
    static func describe(_ error: any Error) -> String {
        if let ioError = error as? IOError {
            return "\(String(cString: strerror(ioError.errnoCode))) (errno \(ioError.errnoCode))"
        }
        if let connection = error as? NIOConnectionError, connection.connectionErrors.count == 1,
            let only = connection.connectionErrors.first
        {
            return describe(only.error)
        }
        return String(describing: error)
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

/// How one reply is read, on the event loop, as AsyncHTTPClient delivers it.
private protocol ReplyReading: Sendable {
    associatedtype Result: Sendable
    /// The reply's head arrived (after any redirects); whether an idle watch should start for the body.
    mutating func begin(_ head: HTTPResponseHead, client: WireClient) throws -> Bool
    /// From now on ``WireClient/idleTimeoutSeconds`` without a piece of the body fails the call.
    mutating func watchIdle(client: WireClient)
    /// A piece of the body arrived.
    mutating func read(_ buffer: ByteBuffer, client: WireClient) throws
    /// The body has ended: the reply, or its error.
    mutating func end(_ head: HTTPResponseHead, client: WireClient, call: WireCall) throws -> Result
    /// The exchange failed after the head: the reply, when what was read already holds all of it; else `nil`.
    mutating func completed(client: WireClient) -> Result?
    /// Whether the answer is whole (a stream's end-of-reply marker came), though more events may follow.
    var isComplete: Bool { get }
    /// Whether the reply's terminal event came: nothing it needs is still to come.
    var isFinished: Bool { get }
    /// Ends the idle watch: the answer is whole, and the exchange bounds the wait for the rest.
    mutating func endIdleWatch()
}
