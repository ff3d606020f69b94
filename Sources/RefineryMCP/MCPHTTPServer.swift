// `refinery mcp --http HOST:PORT`: the same tools over MCP's streamable HTTP transport, for an agent that
// reaches Refinery over the network rather than by starting it. Hummingbird serves HTTP; the SDK's
// stateful transport speaks the protocol, one per session; every request must carry the bearer token.

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MCP
import NIOCore
import Refinery
import ServiceLifecycle

/// Where `refinery mcp --http` listens, and the token every request must carry.
public struct MCPHTTPEndpoint: Sendable {
    /// The address to bind: a host name or IP address.
    public var host: String
    /// The port; 0 lets the system choose (the server says which once it listens).
    public var port: Int
    /// What `Authorization: Bearer …` must say on every request.
    public var token: String

    /// The environment variable the token is read from (never an option: a command line is visible to
    /// every user of the machine).
    public static let tokenVariable = "REFINERY_MCP_TOKEN"
    /// The shortest token accepted: anything shorter is guessable.
    public static let shortestToken = 16

    /// Reads `HOST:PORT` (`[::1]:PORT` for an IPv6 address) and the token, or says what is wrong.
    public init(address: String, token: String?) throws(Invalid) {
        guard let colon = address.lastIndex(of: ":") else {
            throw Invalid("--http wants HOST:PORT, e.g. 127.0.0.1:8765; got '\(address)'.")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(address[address.index(after: colon)...]), (0...65_535).contains(port)
        else {
            throw Invalid(
                "--http wants HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8765; got '\(address)'.")
        }
        guard let token, !token.isEmpty else {
            throw Invalid(
                "--http needs a bearer token in \(Self.tokenVariable); "
                    + "hint: export \(Self.tokenVariable)=$(openssl rand -hex 32), and give the client the same.")
        }
        guard token.count >= Self.shortestToken, token.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw Invalid(
                "\(Self.tokenVariable) must be at least \(Self.shortestToken) printable ASCII characters; "
                    + "hint: export \(Self.tokenVariable)=$(openssl rand -hex 32).")
        }
        self.host = host
        self.port = port
        self.token = token
    }

    /// What is wrong with `--http`'s address or the token, with a hint.
    public struct Invalid: Error, CustomStringConvertible {
        /// The problem and its hint.
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Whether the server listens only on this machine (then requests naming another host are refused,
    /// against DNS rebinding).
    var isLoopback: Bool { ["127.0.0.1", "localhost", "::1"].contains(host) }
}

extension RefineryMCPServer {
    /// The path the protocol is served on.
    public static let httpPath = "/mcp"

    /// Serves MCP over streamable HTTP at `endpoint` until a stop signal (SIGINT, SIGTERM, SIGHUP); calls
    /// `listening` with the URL once the socket is bound. On stop, the runs in flight are cancelled and
    /// recorded (resumable) before the server closes.
    public func serveHTTP(
        _ endpoint: MCPHTTPEndpoint, listening: @escaping @Sendable (String) -> Void
    ) async throws {
        let sessions = MCPHTTPSessions(base: self, loopback: endpoint.isLoopback)
        var logger = Logger(label: "refinery.mcp.http")
        logger.logLevel = .critical
        let app = Application(
            responder: MCPHTTPResponder(sessions: sessions, token: Array(endpoint.token.utf8)),
            configuration: ApplicationConfiguration(address: .hostname(endpoint.host, port: endpoint.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? endpoint.port
                let host = endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host
                listening("http://\(host):\(port)\(Self.httpPath)")
            },
            logger: logger)
        // Stopped by a graceful shutdown, never by cancelling the server's task: a cancelled accept loop drops a
        // connection it accepted but had not handed on, which traps in swift-nio ("Deinited NIOAsyncWriter
        // without calling finish()", apple/swift-nio#3481) and would kill the process on a stop signal.
        let server = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup { group in
            group.addTask { try await server.run() }
            let (stops, stop) = AsyncStream.makeStream(of: Void.self)
            let signals = await StopSignals.listen { _ in stop.yield() }
            defer { for source in signals { source.cancel() } }
            group.addTask {
                for await _ in stops { break }
                // The sessions first: their runs are cancelled and recorded, their event streams end, so
                // the HTTP server's graceful shutdown has no open response left to wait for.
                await sessions.closeAll()
                await server.triggerGracefulShutdown()
            }
            // The server ends on the stop (or fails to bind); the signal task is then no longer needed.
            try await group.next()
            stop.finish()
            while (try? await group.next()) != nil {}
            await sessions.closeAll()
        }
    }
}

/// The open sessions: each has its own protocol server and transport, and all draw on one spend account.
actor MCPHTTPSessions {
    private struct Session {
        let tools: RefineryMCPServer
        let server: Server
        let transport: StatefulHTTPServerTransport
        /// When the client last sent a request, in the order of ``MCPHTTPSessions/clock``.
        var lastUsed: Int

        func close() async {
            await tools.cancelCalls()
            await server.stop()
        }
    }

    /// The most sessions open at once. A client that goes away without ending its session leaves it open;
    /// a new session past this many ends the one unused longest with no tool call in progress.
    static let mostSessions = 256

    private let base: RefineryMCPServer
    private let loopback: Bool
    private var sessions: [String: Session] = [:]
    private var closed = false
    /// Counts requests, to tell which session was used last.
    private var clock = 0

    init(base: RefineryMCPServer, loopback: Bool) {
        self.base = base
        self.loopback = loopback
    }

    /// The response to one request: to its session's transport, or, with no session, a new session
    /// if the request is `initialize`.
    func respond(to request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        guard !closed else {
            return .error(statusCode: 503, .internalError("The server is stopping."))
        }
        clock += 1
        if let id = request.header(HTTPHeaderName.sessionID) {
            sessions[id]?.lastUsed = clock
            guard let session = sessions[id] else {
                return .error(
                    statusCode: 404,
                    .invalidRequest("Not Found: no open session \(id); send initialize to open a new one."))
            }
            let response = await session.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE", response.statusCode == 200 {
                sessions[id] = nil
                await session.close()
            }
            return response
        }
        if sessions.count >= Self.mostSessions {
            guard
                let (id, oldest) = sessions.filter({ $0.value.tools.isIdle }).min(by: {
                    $0.value.lastUsed < $1.value.lastUsed
                })
            else {
                return .error(
                    statusCode: 503,
                    .internalError(
                        "\(Self.mostSessions) sessions are open, each with a tool call in progress; try again later."))
            }
            sessions[id] = nil
            await oldest.close()
        }
        let tools = RefineryMCPServer(service: base.service, safety: base.safety, account: base.account)
        let transport = StatefulHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                loopback ? OriginValidator.localhost() : OriginValidator.disabled,
                AcceptHeaderValidator(mode: .sseRequired),
                ContentTypeValidator(),
                ProtocolVersionValidator(),
                SessionValidator(),
            ]))
        let server = await tools.makeServer()
        do {
            try await server.start(transport: transport)
        } catch {
            return .error(statusCode: 500, .internalError("The session could not start: \(error)"))
        }
        let response = await transport.handleRequest(request)
        // Only an initialize request that the transport accepted opens a session.
        if case .stream = response, let id = response.headers[HTTPHeaderName.sessionID], !closed {
            sessions[id] = Session(tools: tools, server: server, transport: transport, lastUsed: clock)
        } else {
            await server.stop()
        }
        return response
    }

    /// Ends every session: their runs cancelled and recorded, their streams closed.
    func closeAll() async {
        closed = true
        let open = sessions.values
        sessions = [:]
        for session in open { await session.close() }
    }
}

/// HTTP in and out of the sessions, behind the bearer token.
private struct MCPHTTPResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let sessions: MCPHTTPSessions
    let token: [UInt8]

    /// The largest request body read (a workflow, a prompt and its files fit many times over).
    static let largestBody = 16 * 1024 * 1024

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        guard request.uri.path == RefineryMCPServer.httpPath else {
            return Self.response(
                .error(
                    statusCode: 404,
                    .invalidRequest("Not Found: MCP is served at \(RefineryMCPServer.httpPath).")))
        }
        guard authorized(request.headers[.authorization]) else {
            return Self.response(
                .error(
                    statusCode: 401,
                    .invalidRequest(
                        "Unauthorized: send the server's token as 'Authorization: Bearer …' "
                            + "(the value of \(MCPHTTPEndpoint.tokenVariable) where it runs)."),
                    extraHeaders: [HTTPHeaderName.wwwAuthenticate: #"Bearer realm="refinery mcp""#]))
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.largestBody)
        } catch {
            return Self.response(
                .error(
                    statusCode: 413,
                    .invalidRequest("Payload Too Large: a request body is at most \(Self.largestBody) bytes.")))
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let mcpRequest = MCP.HTTPRequest(
            method: request.method.rawValue, headers: headers,
            body: body.readableBytes > 0 ? Data(body.readableBytesView) : nil, path: request.uri.path)
        return Self.response(await sessions.respond(to: mcpRequest))
    }

    /// Whether `header` is `Bearer` and the token, compared in time independent of where they differ.
    private func authorized(_ header: String?) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.utf8.dropFirst(7))
        var difference = given.count ^ token.count
        for index in token.indices {
            difference |= Int(token[index] ^ (index < given.count ? given[index] : 0))
        }
        return difference == 0
    }

    private static func response(_ response: MCP.HTTPResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        let status = HTTPTypes.HTTPResponse.Status(code: response.statusCode)
        switch response {
        case .stream(let events, _):
            return Response(
                status: status, headers: fields,
                body: ResponseBody { writer in
                    // A client that goes away ends the write; its session stays open until it is deleted.
                    for try await event in events { try await writer.write(ByteBuffer(bytes: event)) }
                    try await writer.finish(nil)
                })
        default:
            return Response(
                status: status, headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.bodyData ?? Data())))
        }
    }
}
