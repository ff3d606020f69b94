// An in-process HTTP server for wire tests: binds 127.0.0.1 on a free port, answers scripted
// replies per route, records every request, and injects faults (status codes, slow first
// byte, a stream cut mid-way, a dropped connection). A whole reply scripted for a streaming
// request is sent as events (see `FakeStreamShapes`). Shared by the provider and CLI tests.

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// One request the server received.
struct RecordedRequest: Sendable {
    var method: String
    /// Path without the query.
    var path: String
    /// The query string (without `?`), if any.
    var query: String?
    /// Headers in arrival order, names lowercased.
    var headers: [(name: String, value: String)]
    var body: String

    /// The first value of a header (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name == name.lowercased() }?.value
    }

    /// The body parsed as JSON (Foundation objects), `nil` when it is not JSON.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }

    /// Everything the request carried, as one text (for "the key appears nowhere" checks).
    var fullText: String {
        ([method, path, query ?? ""] + headers.map { "\($0.name): \($0.value)" } + [body]).joined(separator: "\n")
    }
}

/// A scripted reply.
enum FakeReply: Sendable {
    /// A complete reply.
    case body(
        status: Int = 200, contentType: String = "application/json", text: String, headers: [String: String] = [:])
    /// `text/event-stream` written chunk by chunk (each chunk flushed), optionally pausing between chunks.
    case stream(chunks: [String], pause: Duration? = nil, headers: [String: String] = [:])
    /// `text/event-stream` that writes `chunks` at once, then each chunk `more` yields, as the test
    /// yields it, and ends when the test finishes `more`: a stream whose pace the test sets, so a test
    /// on a ``TestClock`` moves time between two pieces, not the server's sleeps on the wall clock.
    case fed(chunks: [String], more: AsyncStream<String>)
    /// Writes the chunks, then drops the connection without ending the chunked body.
    case cutStream(chunks: [String])
    /// Closes the connection without any reply.
    case dropConnection
    /// Waits, then replies (a slow first byte).
    indirect case delayed(Duration, FakeReply)
    /// Never finishes: holds the request open until the client closes the connection (a server
    /// that stops computing a request its client abandoned) or `limit` passes. With `chunks` it
    /// first starts an event stream and sends them (abandoned mid-reply); without, it sends
    /// nothing. A closure is counted in ``FakeServer/abandonedConnections``.
    case hold(limit: Duration, chunks: [String] = [])

    /// A JSON reply.
    static func json(_ text: String, status: Int = 200, headers: [String: String] = [:]) -> FakeReply {
        .body(status: status, text: text, headers: headers)
    }

    /// SSE events from `(event, data)` pairs; `event` nil writes only `data:`.
    static func sse(_ events: [(String?, String)], pause: Duration? = nil) -> FakeReply {
        .stream(chunks: events.map(FakeReply.frame), pause: pause)
    }

    /// One SSE frame.
    static func frame(_ event: (String?, String)) -> String {
        (event.0.map { "event: \($0)\n" } ?? "") + "data: \(event.1)\n\n"
    }
}

/// The fake server. Create it with ``FakeServer/run(_:)``.
final class FakeServer: Sendable {
    private struct State {
        var routes: [String: [FakeReply]] = [:]
        var handlers: [String: @Sendable (RecordedRequest) -> FakeReply] = [:]
        var fallback: (@Sendable (RecordedRequest) -> FakeReply)?
        var requests: [RecordedRequest] = []
        var inFlight = 0
        var maxInFlight = 0
        var abandoned = 0
        /// ``stop()`` has begun: every wait of a reply ends (``untilStopped(_:)``).
        var stopping = false
    }

    private let state = Mutex(State())
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    /// The bound port.
    let port: Int

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// `http://127.0.0.1:PORT`.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Scripts the replies to `path` (exact path, query ignored), served in order; the last
    /// one repeats. A request to an unscripted path gets 404.
    func route(_ path: String, _ replies: FakeReply...) {
        state.withLock {
            $0.routes[path] = replies
            $0.handlers[path] = nil
        }
    }

    /// Answers `path` with whatever `handler` returns for each request: for callers whose
    /// requests arrive in no fixed order (a workflow's concurrent calls), keyed on the body.
    func route(_ path: String, handler: @escaping @Sendable (RecordedRequest) -> FakeReply) {
        state.withLock {
            $0.handlers[path] = handler
            $0.routes[path] = nil
        }
    }

    /// Answers every path that has no route of its own with whatever `handler` returns: for a
    /// server that stands in for several providers at once.
    func routeAny(handler: @escaping @Sendable (RecordedRequest) -> FakeReply) {
        state.withLock { $0.fallback = handler }
    }

    /// Every request received so far, in order.
    var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// The most requests that were being answered at the same time.
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    fileprivate func finished() { state.withLock { $0.inFlight -= 1 } }

    /// How many held requests (``FakeReply/hold(limit:)``) saw their client close the connection.
    var abandonedConnections: Int { state.withLock { $0.abandoned } }

    fileprivate func abandon() { state.withLock { $0.abandoned += 1 } }

    /// Waits until `count` held requests saw their connection closed; `false` when `limit` passes first.
    /// The count moves as the closes arrive (``ClientClosureWatcher``); give a generous `limit`: only a
    /// missing close should fail a test, not a loaded machine.
    func waitForAbandonedConnections(_ count: Int, within limit: Duration) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while abandonedConnections < count {
            guard clock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Waits until `count` requests have arrived; `false` when `limit` passes first.
    func waitForRequests(_ count: Int, within limit: Duration) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while requests.count < count {
            guard clock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// The most recent request.
    var lastRequest: RecordedRequest? { requests.last }

    fileprivate func record(_ request: RecordedRequest) -> FakeReply? {
        state.withLock { state in
            state.requests.append(request)
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            // A Gemini stream request is answered by the script of the whole-reply method when it
            // has none of its own (see `FakeStreamShapes`).
            var path = request.path
            if state.handlers[path] == nil, state.routes[path] == nil, path.hasSuffix(":streamGenerateContent") {
                path = String(path.dropLast(":streamGenerateContent".count)) + ":generateContent"
            }
            if let handler = state.handlers[path] { return handler(request) }
            guard var replies = state.routes[path], let first = replies.first else {
                return state.fallback?(request)
            }
            if replies.count > 1 {
                replies.removeFirst()
                state.routes[path] = replies
            }
            return first
        }
    }

    /// Starts a server on 127.0.0.1 (port 0: the system picks), runs `body` with it, and stops it
    /// when `body` returns or throws. Prefer this to ``start()``/``stop()``.
    static func run<T: Sendable>(_ body: @Sendable (FakeServer) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Starts a server on 127.0.0.1 on a free port. Call ``stop()`` when done.
    static func start() async throws -> FakeServer {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let holder = ServerHolder()
        var logger = Logger(label: "fake-server")
        logger.logLevel = .critical
        let app = Application(
            responder: FakeResponder(holder: holder),
            // Every connection is watched for its client's close from its start: a close that comes
            // before a held request's handler runs (a loaded machine's pool can delay it past a short
            // timeout) is still seen.
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientClosureWatcher()])),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        // The server outlives this call, so it runs in a task that `stop()` shuts down gracefully and
        // awaits. Never by cancelling that task: a connection accepted but not yet handed to its handler
        // would be dropped unserved, and swift-nio traps on its writer ("Deinited NIOAsyncWriter without
        // calling finish()", apple/swift-nio#2637, #3481), killing the test process. A graceful shutdown
        // closes the listening socket and serves every connection already accepted.
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await group.triggerGracefulShutdown()
            _ = await task.result
            throw FakeServerError(message: "the fake server did not start")
        }
        let server = FakeServer(port: port, group: group, task: task)
        holder.server.withLock { $0 = server }
        return server
    }

    /// Stops the server and waits until it has shut down: every reply still waiting (held, fed by
    /// the test, delayed) ends at once, then the server closes its connections once their replies end.
    func stop() async {
        state.withLock { $0.stopping = true }
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Runs `wait` (a reply's pause, or its wait for the client or the test) until it returns or the
    /// server stops, whichever comes first; `nil` when the server stopped first. A graceful stop waits
    /// for every reply in flight, so no wait of a reply may outlast the stop.
    fileprivate func untilStopped<T: Sendable>(_ wait: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask(operation: wait)
            group.addTask {
                while !self.state.withLock({ $0.stopping }) { try await Task.sleep(for: .milliseconds(5)) }
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}

struct FakeServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Lets the responder reach the server created after the port is known.
private final class ServerHolder: Sendable {
    let server = Mutex<FakeServer?>(nil)
}

/// The request context: Hummingbird's basics plus the channel, which fault injection closes.
struct FakeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }
}

private struct FakeResponder: HTTPResponder {
    typealias Context = FakeContext
    let holder: ServerHolder

    func respond(to request: Request, context: FakeContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024 * 1024)
        let recorded = RecordedRequest(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
            headers: request.headers.map { ($0.name.canonicalName.lowercased(), $0.value) },
            body: String(buffer: body))
        guard let server = holder.server.withLock({ $0 }) else { throw FakeServerError(message: "not started") }
        defer { server.finished() }
        guard let reply = server.record(recorded) else {
            return Response(
                status: .notFound,
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":{"message":"no route"}}"#)))
        }
        return try await respond(FakeStreamShapes.adapt(reply, to: recorded), server: server, context: context)
    }

    private func respond(_ reply: FakeReply, server: FakeServer, context: FakeContext) async throws -> Response {
        switch reply {
        case .delayed(let delay, let next):
            _ = try await server.untilStopped { try await Task.sleep(for: delay) }
            return try await respond(next, server: server, context: context)
        case .body(let status, let contentType, let text, let headers):
            var fields = HTTPFields()
            fields[.contentType] = contentType
            for (name, value) in headers { if let name = HTTPField.Name(name) { fields[name] = value } }
            return Response(
                status: HTTPResponse.Status(code: status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .stream(let chunks, let pause, let headers):
            return Self.eventStream([], headers: headers) { writer in
                for chunk in chunks {
                    try await writer.write(ByteBuffer(string: chunk))
                    if let pause { _ = try await server.untilStopped { try await Task.sleep(for: pause) } }
                }
                try await writer.finish(nil)
            }
        case .fed(let chunks, let more):
            return Self.eventStream(chunks) { writer in
                // One piece at a time, each wait ended by the server's stop (the test may never finish `more`).
                while let chunk = try await server.untilStopped({
                    var pieces = more.makeAsyncIterator()
                    return await pieces.next()
                }) ?? nil {
                    try await writer.write(ByteBuffer(string: chunk))
                }
                try await writer.finish(nil)
            }
        case .cutStream(let chunks):
            let channel = context.channel
            return Self.eventStream(chunks) { _ in
                // Give the client time to read what was sent, then drop the connection.
                try await Task.sleep(for: .milliseconds(50))
                try? await channel.close()
                throw FakeServerError(message: "stream cut")
            }
        case .dropConnection:
            try? await context.channel.close()
            throw FakeServerError(message: "connection dropped")
        case .hold(let limit, let chunks):
            let channel = context.channel
            // Hummingbird allows half-closure, so a client's close (its FIN) leaves the channel
            // active: the connection's watcher hears it as `inputClosed`, and counts it there, on the
            // event loop, as it happens (counted by this handler's polling task, it waited for a thread
            // of the shared task pool, which a loaded machine can keep busy for seconds), or at once
            // here when it came before.
            let closed = try await channel.pipeline.handler(type: ClientClosureWatcher.self).get().closure
            closed.hold(for: server)
            // Polls rather than awaiting an event: the handler must also end when the server stops
            // (which cancels the wait), whichever comes first.
            let wait: @Sendable () async -> Void = {
                let clock = ContinuousClock()
                let deadline = clock.now + limit
                while !closed.happened, channel.isActive, clock.now < deadline, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                closed.stopHolding()
            }
            guard !chunks.isEmpty else {
                _ = try? await server.untilStopped(wait)
                throw FakeServerError(message: "held request ended")
            }
            return Self.eventStream(chunks) { _ in
                _ = try? await server.untilStopped(wait)
                throw FakeServerError(message: "held stream ended")
            }
        }
    }

    /// A `text/event-stream` reply that writes `chunks`, then runs `end` (which writes the rest and
    /// finishes the body, or throws to end it unfinished).
    private static func eventStream(
        _ chunks: [String], headers: [String: String] = [:],
        then end: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
    ) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "text/event-stream"
        for (name, value) in headers { if let name = HTTPField.Name(name) { fields[name] = value } }
        return Response(
            status: .ok, headers: fields,
            body: ResponseBody { writer in
                for chunk in chunks { try await writer.write(ByteBuffer(string: chunk)) }
                try await end(&writer)
            })
    }
}

/// Whether the client closed its side of a connection, watched from the connection's start; its
/// first close while a request on it is held is counted in ``FakeServer/abandonedConnections`` at once.
private final class ClientClosure: Sendable {
    private struct State {
        var happened = false
        /// The server a request on the connection is held for, while it is held.
        var holding: FakeServer?
        var counted = false

        /// The server to tell of an abandonment, once.
        mutating func abandoned() -> FakeServer? {
            guard happened, !counted, let holding else { return nil }
            counted = true
            return holding
        }
    }

    private let state = Mutex(State())

    var happened: Bool { state.withLock { $0.happened } }

    func record() {
        state.withLock { state in
            state.happened = true
            return state.abandoned()
        }?.abandon()
    }

    /// A request on the connection is held for `server`: a close, before or from now on, is an abandonment.
    func hold(for server: FakeServer?) {
        state.withLock { state in
            state.holding = server
            return state.abandoned()
        }?.abandon()
    }

    /// The request is no longer held (its limit passed, or the server stops): a close is no abandonment.
    func stopHolding() { state.withLock { $0.holding = nil } }
}

/// Records a client's close of its connection: its FIN (`inputClosed`, the channel staying half-open)
/// or a reset. One per connection, from its start (after the HTTP decoder, which passes both on).
private final class ClientClosureWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Never
    let closure = ClientClosure()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event { closure.record() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closure.record()
        context.fireChannelInactive()
    }
}
