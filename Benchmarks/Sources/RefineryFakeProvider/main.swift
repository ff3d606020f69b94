// A fast fake model API for the real-path benchmark (Benchmarks/README.md): plain SwiftNIO HTTP/1.1 with
// keep-alive, answering every POST after a fixed delay with a reply prepared once at start-up, so a request
// costs the fake far less CPU than it costs `refinery`.
//
//   RefineryFakeProvider [--port P] [--delay-ms D] [--threads T]
//
// POST /v1/chat/completions: OpenAI Chat Completions, a `chat.completion` or, when the request accepts
// `text/event-stream`, `chat.completion.chunk` events ending with a usage chunk and `data: [DONE]`.
// POST /v1/messages: Anthropic Messages, a `message` or its streamed events.
// The reply text is one JSON object every stage accepts (an answer, and a review with a score), so
// evaluation stages parse it and consensus converges. GET /stats: requests served and the fake's own CPU
// (user + sys µs), read by the driver before and after each run. The first line on stdout is the port.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

struct Options {
    var port = 0
    var delayMilliseconds: Int64 = 200
    var threads = 1

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            let value = rest.popFirst() ?? ""
            switch flag {
            case "--port": port = Int(value) ?? 0
            case "--delay-ms": delayMilliseconds = Int64(value) ?? 200
            case "--threads": threads = max(1, Int(value) ?? 1)
            default:
                FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
                exit(2)
            }
        }
    }
}

/// The prepared replies: every byte of every response is built once.
enum Replies {
    static let text =
        #"{\"answer\":\"Four.\",\"strengths\":[\"correct\"],\"weaknesses\":[],\"suggestions\":[],"#
        + #"\"rationale\":\"It is right.\",\"score\":9,\"synthesis\":\"Four.\",\"confidence\":0.95,"#
        + #"\"dissent\":\"\",\"refinement_areas\":[],\"needs_iteration\":false,\"ranking\":[]}"#

    static let openAIWhole = response(
        type: "application/json",
        body: #"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"fake","#
            + #""choices":[{"index":0,"message":{"role":"assistant","content":"\#(text)","refusal":null},"#
            + #""logprobs":null,"finish_reason":"stop"}],"#
            + #""usage":{"prompt_tokens":120,"completion_tokens":60,"total_tokens":180}}"#)

    static let openAIStream: ByteBuffer = {
        func chunk(_ delta: String, _ finish: String) -> String {
            #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"fake","#
                + #""choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finish)}],"#
                + "\"usage\":null}\n\n"
        }
        let body =
            chunk(#"{"role":"assistant","content":""}"#, "null")
            + chunk(#"{"content":"\#(text)"}"#, "null")
            + chunk("{}", "\"stop\"")
            + #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"fake","#
            + #""choices":[],"usage":{"prompt_tokens":120,"completion_tokens":60,"total_tokens":180}}"# + "\n\n"
            + "data: [DONE]\n\n"
        return response(type: "text/event-stream", body: body)
    }()

    static let anthropicWhole = response(
        type: "application/json",
        body: #"{"id":"msg_01","type":"message","role":"assistant","model":"fake","#
            + #""content":[{"type":"text","text":"\#(text)"}],"stop_reason":"end_turn","stop_sequence":null,"#
            + #""usage":{"input_tokens":120,"output_tokens":60}}"#)

    static let anthropicStream: ByteBuffer = {
        let events: [(String, String)] = [
            (
                "message_start",
                #"{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","#
                    + #""content":[],"model":"fake","stop_reason":null,"stop_sequence":null,"#
                    + #""usage":{"input_tokens":120,"output_tokens":1}}}"#
            ),
            (
                "content_block_start",
                #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
            ),
            (
                "content_block_delta",
                #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(text)"}}"#
            ),
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            (
                "message_delta",
                #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"#
                    + #""usage":{"output_tokens":60}}"#
            ),
            ("message_stop", #"{"type":"message_stop"}"#),
        ]
        return response(
            type: "text/event-stream", body: events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined())
    }()

    static let notFound = response(
        type: "application/json", body: #"{"error":{"message":"no such path"}}"#, status: "404 Not Found")

    /// A whole HTTP/1.1 response, headers and body, with a fixed length (keep-alive).
    static func response(type: String, body: String, status: String = "200 OK") -> ByteBuffer {
        let bytes = Array(body.utf8)
        let head =
            "HTTP/1.1 \(status)\r\ncontent-type: \(type)\r\ncontent-length: \(bytes.count)\r\n"
            + "connection: keep-alive\r\n\r\n"
        var buffer = ByteBufferAllocator().buffer(capacity: head.utf8.count + bytes.count)
        buffer.writeString(head)
        buffer.writeBytes(bytes)
        return buffer
    }
}

/// Requests served, for `/stats`.
let served = Atomic<Int>(0)

/// Answers each request after the fixed delay with a prepared reply; the response bytes are written
/// raw (the channel has the request decoder only), so no header is encoded per request.
final class FakeHandler: ChannelInboundHandler, @unchecked Sendable {
    // Only touched on the channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    let delay: TimeAmount
    private var reply: ByteBuffer = Replies.notFound
    private var stats = false

    init(delay: TimeAmount) { self.delay = delay }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            stats = head.method == .GET && head.uri == "/stats"
            let streaming = head.headers.first(name: "accept")?.contains("text/event-stream") ?? false
            if head.uri.hasSuffix("/chat/completions") {
                reply = streaming ? Replies.openAIStream : Replies.openAIWhole
            } else if head.uri.hasSuffix("/messages") {
                reply = streaming ? Replies.anthropicStream : Replies.anthropicWhole
            } else {
                reply = Replies.notFound
            }
        case .body:
            break
        case .end:
            if stats {
                var usage = rusage()
                getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
                let cpu =
                    (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 1_000_000
                    + Int(usage.ru_utime.tv_usec) + Int(usage.ru_stime.tv_usec)
                let count = served.load(ordering: .relaxed)
                let body = #"{"requests":\#(count),"cpu_us":\#(cpu),"max_rss_kb":\#(usage.ru_maxrss)}"#
                context.writeAndFlush(
                    wrapOutboundOut(Replies.response(type: "application/json", body: body)), promise: nil)
                return
            }
            served.add(1, ordering: .relaxed)
            let reply = self.reply
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            if delay == .zero {
                context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
            } else {
                context.eventLoop.scheduleTask(in: delay) {
                    let context = loopBound.value
                    context.writeAndFlush(NIOAny(reply), promise: nil)
                }
            }
        }
    }
}

let options = Options(CommandLine.arguments)
let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
let delay = TimeAmount.milliseconds(options.delayMilliseconds)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
            try channel.pipeline.syncOperations.addHandler(FakeHandler(delay: delay))
        }
    }
do {
    let channel = try bootstrap.bind(host: "127.0.0.1", port: options.port).wait()
    FileHandle.standardOutput.write(Data("\(channel.localAddress?.port ?? 0)\n".utf8))
    try channel.closeFuture.wait()
} catch {
    FileHandle.standardError.write(Data("RefineryFakeProvider: \(error)\n".utf8))
    exit(1)
}
