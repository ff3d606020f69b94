// The real path's floor (Benchmarks/README.md): what the HTTP client stack alone costs per request on this machine,
// with nothing of `refinery` around it. It sends the requests `refinery run consensus` sends with N members and
// 2 rounds (the same layers, in flight all at once: N answers, N·(N−1) reviews, N refinements, N·(N−1) reviews;
// the same body sizes, headers and streamed replies) to RefineryFakeProvider, and reads each reply's events
// without parsing them.
//
//   RefineryHTTPFloor --port P --n N [--client ahc|ahc-async|nio] [--shards K]
//
// `ahc`: AsyncHTTPClient as `refinery` uses it (WireClient): configured as ProviderRegistry configures it, through
// an `HTTPClientPool` (one client per 256 requests in flight), one task per request that sends its own copy of the
// body with the delegate API (`execute(request:delegate:)`) and waits once, in a continuation, for the delegate
// that counts the reply's bytes on the event loop. `ahc-async`: AsyncHTTPClient's async `execute`, the body read
// as an async sequence by the request's task, over `--shards K` clients (round robin), as `refinery` used it
// before session 7. `nio`: a bare SwiftNIO HTTP/1.1 client (one keep-alive connection per request in flight,
// reused across layers, the response parts counted in the channel handler), so AsyncHTTPClient's own share is the
// difference of the two and the rest is NIO, the kernel's loopback and the scheduler. The process's peak RSS
// (`realpath.py --floor` reads it) is then what the chosen client holds for every request in flight.
// Prints one JSON line: requests, CPU (user + sys µs of the process) spent from the first request to the last
// reply, and the wall time of that span. `realpath.py --floor` runs it beside `refinery`.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RefineryProviders
import Synchronization

struct Options {
    var port = 0
    var members = 10
    var client = "ahc"
    var shards = 1

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            let value = rest.popFirst() ?? ""
            switch flag {
            case "--port": port = Int(value) ?? 0
            case "--n": members = max(2, Int(value) ?? 10)
            case "--client": client = value
            case "--shards": shards = max(1, Int(value) ?? 1)
            default:
                FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
                exit(2)
            }
        }
    }
}

/// A JSON body of `count` bytes (what matters to the transport is its size).
func body(_ count: Int) -> ByteBuffer {
    let prefix = #"{"model":"m","stream":true,"messages":[{"role":"user","content":""#
    let suffix = #""}]}"#
    let filler = String(repeating: "x", count: max(0, count - prefix.utf8.count - suffix.utf8.count))
    return ByteBuffer(string: prefix + filler + suffix)
}

/// The layers of `refinery run consensus` with `n` members and 2 rounds: how many requests and each one's body
/// size, measured from `refinery --debug` at N = 10 (139, 1,866, 1,036 and 1,866 bytes).
func layers(_ n: Int) -> [(count: Int, body: ByteBuffer)] {
    [(n, body(139)), (n * (n - 1), body(1866)), (n, body(1036)), (n * (n - 1), body(1866))]
}

func cpuMicroseconds() -> Int {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 1_000_000 + Int(usage.ru_utime.tv_usec)
        + Int(usage.ru_stime.tv_usec)
}

// MARK: - AsyncHTTPClient, as WireClient sends (delegate API, a pool of clients)

/// Counts a reply's body bytes on the event loop, as `WireClient.Exchange` reads one.
final class Counting: HTTPClientResponseDelegate, @unchecked Sendable {
    // Only touched on the request's event loop (AsyncHTTPClient calls a delegate one call at a time there).
    typealias Response = Int
    private var status: HTTPResponseStatus = .ok
    private var bytes = 0

    func didReceiveHead(task: HTTPClient.Task<Int>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = head.status
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Int>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        bytes += buffer.readableBytes
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Int>) throws -> Int {
        guard status == .ok else { throw HTTPClientError.invalidURL }
        return bytes
    }
}

func runAHCDelegate(url: String, layers: [(count: Int, body: ByteBuffer)]) async throws -> Int {
    try await HTTPClientPool.withPool(configuration: ProviderRegistry.httpConfiguration) { pool in
        var received = 0
        for layer in layers {
            received += try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<layer.count {
                    group.addTask {
                        // Each request its own body, as each call of `refinery` writes its own.
                        var headers = HTTPHeaders()
                        headers.add(name: "accept", value: "text/event-stream")
                        headers.add(name: "content-type", value: "application/json")
                        let request = try HTTPClient.Request(
                            url: url, method: .POST, headers: headers,
                            body: .byteBuffer(ByteBuffer(bytes: layer.body.readableBytesView)))
                        let http = pool.acquire()
                        defer { pool.release() }
                        return try await withCheckedThrowingContinuation { continuation in
                            http.execute(request: request, delegate: Counting(), eventLoop: .indifferent, deadline: nil)
                                .futureResult.whenComplete { continuation.resume(with: $0) }
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        return received
    }
}

// MARK: - AsyncHTTPClient's async API, as `refinery` used it before session 7

func runAHC(url: String, layers: [(count: Int, body: ByteBuffer)], shards: Int) async throws -> Int {
    let configuration = ProviderRegistry.httpConfiguration
    let clients = (0..<shards).map { _ in
        HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
    var received = 0
    for layer in layers {
        received += try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<layer.count {
                let http = clients[index % shards]
                group.addTask {
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "accept", value: "text/event-stream")
                    request.headers.add(name: "content-type", value: "application/json")
                    request.body = .bytes(layer.body)
                    let response = try await http.execute(request, deadline: .distantFuture)
                    guard response.status == .ok else { throw HTTPClientError.invalidURL }
                    var bytes = 0
                    for try await buffer in response.body { bytes += buffer.readableBytes }
                    return bytes
                }
            }
            return try await group.reduce(0, +)
        }
    }
    for http in clients { try await http.shutdown() }
    return received
}

// MARK: - Bare NIO HTTP/1.1 client

/// Sends one request at a time on its connection and completes a promise with the reply's byte count.
final class Exchange: ChannelDuplexHandler, @unchecked Sendable {
    // Only touched on the channel's event loop.
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var pending: EventLoopPromise<Int>?
    private var bytes = 0

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func send(head: HTTPRequestHead, body: ByteBuffer, promise: EventLoopPromise<Int>) {
        guard let context else { return promise.fail(ChannelError.ioOnClosedChannel) }
        pending = promise
        bytes = 0
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: break
        case .body(let buffer): bytes += buffer.readableBytes
        case .end:
            let promise = pending
            pending = nil
            promise?.succeed(bytes)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }
}

struct Connection: Sendable {
    let channel: any Channel
    let exchange: NIOLoopBound<Exchange>
}

/// Idle keep-alive connections, reused before a new one is opened (as AsyncHTTPClient's pool does).
final class Connections: Sendable {
    let port: Int
    private let idle = Mutex<[Connection]>([])

    init(port: Int) { self.port = port }

    func take() async throws -> Connection {
        if let reused = idle.withLock({ $0.popLast() }) { return reused }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port).get()
        return try await channel.eventLoop.submit {
            let exchange = Exchange()
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(exchange)
            return Connection(channel: channel, exchange: NIOLoopBound(exchange, eventLoop: channel.eventLoop))
        }.get()
    }

    func giveBack(_ connection: Connection) { idle.withLock { $0.append(connection) } }

    func closeAll() async {
        for connection in idle.withLock({ $0 }) { try? await connection.channel.close() }
    }
}

func runNIO(port: Int, layers: [(count: Int, body: ByteBuffer)]) async throws -> Int {
    let connections = Connections(port: port)
    var received = 0
    for layer in layers {
        received += try await withThrowingTaskGroup(of: Int.self) { tasks in
            for _ in 0..<layer.count {
                tasks.addTask {
                    let connection = try await connections.take()
                    var headers = HTTPHeaders()
                    headers.add(name: "host", value: "127.0.0.1:\(port)")
                    headers.add(name: "accept", value: "text/event-stream")
                    headers.add(name: "content-type", value: "application/json")
                    headers.add(name: "content-length", value: "\(layer.body.readableBytes)")
                    let head = HTTPRequestHead(
                        version: .http1_1, method: .POST, uri: "/v1/chat/completions", headers: headers)
                    let loop = connection.channel.eventLoop
                    let promise = loop.makePromise(of: Int.self)
                    // Each request its own body, as each call of `refinery` writes its own.
                    let body = ByteBuffer(bytes: layer.body.readableBytesView)
                    loop.execute { connection.exchange.value.send(head: head, body: body, promise: promise) }
                    let bytes = try await promise.futureResult.get()
                    connections.giveBack(connection)
                    return bytes
                }
            }
            return try await tasks.reduce(0, +)
        }
    }
    await connections.closeAll()
    return received
}

// MARK: - Main

let options = Options(CommandLine.arguments)
let plan = layers(options.members)
let cpuBefore = cpuMicroseconds()
let started = ContinuousClock.now
let received: Int
switch options.client {
case "nio": received = try await runNIO(port: options.port, layers: plan)
case "ahc-async":
    received = try await runAHC(
        url: "http://127.0.0.1:\(options.port)/v1/chat/completions", layers: plan, shards: options.shards)
default:
    received = try await runAHCDelegate(url: "http://127.0.0.1:\(options.port)/v1/chat/completions", layers: plan)
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let requests = plan.reduce(0) { $0 + $1.count }
print(
    #"{"client":"\#(options.client)","requests":\#(requests),"reply_bytes":\#(received),"#
        + #""loop_cpu_us":\#(cpuMicroseconds() - cpuBefore),"loop_wall_s":\#(seconds)}"#)
