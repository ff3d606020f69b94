// `refinery mcp`'s stdio transport: one JSON-RPC message a line on stdin and stdout, each written whole.

import Dispatch
import Foundation
import Logging
import MCP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// MCP over a pair of file descriptors (stdin and stdout), newline-delimited as the stdio transport of the
/// MCP specification says. It stands in for the SDK's `StdioTransport` (swift-sdk 0.12), which
/// - slept inside its actor when the pipe to the client was full, so another message (a concurrent call's
///   result, a progress notification) was written into the middle of the one being sent: concurrent runs
///   with long answers corrupted the stream, and the client dropped the broken lines and waited forever;
/// - searched all of a message read so far for its end at every 4 KB read, on the actor that also sends:
///   a 5 MB prompt took minutes to read, and held back every reply meanwhile.
/// Here every message is written whole, in the order sent, by one serial queue that blocks (off Swift's
/// cooperative threads) until the client has read enough; a thread of its own reads, looking for line ends
/// in the new bytes only.
actor LineTransport: Transport {
    nonisolated let logger = Logger(label: "refinery.mcp.stdio", factory: { _ in SwiftLogNoOpLogHandler() })
    private let input: Int32
    private let output: Int32
    /// Writes one message at a time, whole.
    private let writer = DispatchQueue(label: "refinery.mcp.stdout")
    private let messages: AsyncThrowingStream<Data, any Error>
    private let received: AsyncThrowingStream<Data, any Error>.Continuation
    private var connected = false

    init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) {
        self.input = input
        self.output = output
        (messages, received) = AsyncThrowingStream.makeStream()
    }

    func connect() async throws {
        guard !connected else { return }
        connected = true
        let input = input
        let received = received
        Thread.detachNewThread { Self.readLines(from: input, into: received) }
    }

    func disconnect() async {
        guard connected else { return }
        connected = false
        received.finish()
    }

    /// Queues `data` and a line end to be written after every message sent before it, and returns once written.
    func send(_ data: Data) async throws {
        guard connected else { throw MCPError.transportError(POSIXError(.ENOTCONN)) }
        var frame = data
        frame.append(UInt8(ascii: "\n"))
        let line = frame
        let output = output
        // Queued before this method's first suspension, so in the order of the calls to `send`.
        try await withCheckedThrowingContinuation { (written: CheckedContinuation<Void, any Error>) in
            writer.async {
                written.resume(with: Result { try Self.write(line, to: output) })
            }
        }
    }

    func receive() -> AsyncThrowingStream<Data, any Error> { messages }

    /// Writes all of `line`, waiting while the descriptor cannot take more (a non-blocking one included).
    private static func write(_ line: Data, to descriptor: Int32) throws {
        try line.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, base + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    wait(for: descriptor, events: POLLOUT)
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    throw MCPError.transportError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
                }
            }
        }
    }

    /// Reads `descriptor` until its end, yielding each non-empty line without its line end, then finishes.
    private static func readLines(
        from descriptor: Int32, into received: AsyncThrowingStream<Data, any Error>.Continuation
    ) {
        let newline = Int32(UInt8(ascii: "\n"))
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        // The start of a line whose end has not been read yet.
        var partial = Data()
        reading: while true {
            let count = buffer.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                switch errno {
                case EINTR: continue reading
                case EAGAIN, EWOULDBLOCK:
                    wait(for: descriptor, events: POLLIN)
                    continue reading
                default: break reading
                }
            }
            buffer.withUnsafeBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                var start = 0
                while start < count, let end = memchr(base + start, newline, count - start) {
                    let length = base.distance(to: UnsafeRawPointer(end)) - start
                    partial.append(base.advanced(by: start).assumingMemoryBound(to: UInt8.self), count: length)
                    if !partial.isEmpty { received.yield(partial) }
                    partial = Data()
                    start += length + 1
                }
                partial.append(base.advanced(by: start).assumingMemoryBound(to: UInt8.self), count: count - start)
            }
        }
        received.finish()
    }

    /// Blocks until `descriptor` is ready for `events` (or has failed or closed).
    private static func wait(for descriptor: Int32, events: Int32) {
        var ready = pollfd(fd: descriptor, events: Int16(events), revents: 0)
        _ = poll(&ready, 1, -1)
    }

    private static func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.write(descriptor, bytes, count)
        #else
            Darwin.write(descriptor, bytes, count)
        #endif
    }

    private static func systemRead(_ descriptor: Int32, _ bytes: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.read(descriptor, bytes, count)
        #else
            Darwin.read(descriptor, bytes, count)
        #endif
    }
}
