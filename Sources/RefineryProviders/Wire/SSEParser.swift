// Server-sent events framing (the WHATWG `text/event-stream` format), as a pure state machine:
// bytes in, complete events out. Anthropic names its events (`event: message_start`); OpenAI
// and Gemini send only `data:` lines.

/// One server-sent event.
package struct SSEEvent: Sendable, Hashable {
    /// The `event:` field, `message` when absent.
    package var event: String
    /// The `data:` lines joined with newlines.
    package var data: String

    package init(event: String = "message", data: String) {
        self.event = event
        self.data = data
    }
}

/// Splits a byte stream into server-sent events.
package struct SSEParser: Sendable {
    private var pending: [UInt8] = []
    private var event: String?
    private var dataLines: [String] = []
    private var scanned = 0
    private var checkedBOM = false
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    package init() {}

    /// Feeds bytes; returns the events they complete.
    package mutating func feed(_ bytes: some Sequence<UInt8>) -> [SSEEvent] {
        pending.append(contentsOf: bytes)
        if !checkedBOM {
            // A stream may start with a UTF-8 byte order mark, which is not part of the first field name.
            guard pending.count >= 3 || !Self.bom.starts(with: pending) else { return [] }
            if pending.starts(with: Self.bom) { pending.removeFirst(3) }
            checkedBOM = true
        }
        var events: [SSEEvent] = []
        var lineStart = 0
        // Bytes before `scanned` were searched for a line end by an earlier call: a long line
        // arriving in many small chunks is scanned once, not once per chunk.
        var index = scanned
        // Where the search stopped: the end of the bytes, or a lone trailing `\r`, which may be the first
        // half of `\r\n` and is looked at again with the next bytes.
        var searched = pending.count
        while let end = Self.lineEnd(in: pending, from: index) {
            let byte = pending[end]
            if byte == UInt8(ascii: "\r"), end + 1 == pending.count {
                searched = end
                break
            }
            if let completed = process(line: pending[lineStart..<end]) { events.append(completed) }
            index = end + 1
            if byte == UInt8(ascii: "\r"), pending[index] == UInt8(ascii: "\n") { index += 1 }
            lineStart = index
        }
        pending.removeFirst(lineStart)
        scanned = searched - lineStart
        return events
    }

    /// The index of the first `\n` or `\r` at or after `start`, `nil` when there is none.
    private static func lineEnd(in bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer in
            var index = start
            while index < buffer.count {
                if buffer[index] == UInt8(ascii: "\n") || buffer[index] == UInt8(ascii: "\r") { return index }
                index += 1
            }
            return nil
        }
    }

    /// Ends the stream; returns an event left without its closing blank line, if any.
    package mutating func finish() -> SSEEvent? {
        if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
        if !pending.isEmpty {
            let line = pending[...]
            pending.removeAll()
            _ = process(line: line)
        }
        scanned = 0
        return dispatch()
    }

    /// Bytes buffered for a line not yet ended (a caller may refuse a stream whose line grows without bound).
    package var bufferedBytes: Int { pending.count }

    /// Whether bytes or fields of an unfinished event are buffered.
    package var hasPartialEvent: Bool { !pending.isEmpty || !dataLines.isEmpty }

    /// One line's field, read from its bytes: only a `data` or `event` value becomes a `String` (making a
    /// `String` of every line, and of its field name, was most of the parser's time, Benchmarks/README.md
    /// session 7). A field name is ASCII, so splitting the bytes at the first `:` and one space after it
    /// gives what splitting the decoded text gave.
    private mutating func process(line: ArraySlice<UInt8>) -> SSEEvent? {
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        var valueStart = colon < line.endIndex ? colon + 1 : colon
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let field = line[..<colon]
        if field.elementsEqual("data".utf8) {
            dataLines.append(String(decoding: line[valueStart...], as: UTF8.self))
        } else if field.elementsEqual("event".utf8) {
            event = String(decoding: line[valueStart...], as: UTF8.self)
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            event = nil
            dataLines = []
        }
        guard let first = dataLines.first else { return nil }
        return SSEEvent(
            event: event ?? "message", data: dataLines.count == 1 ? first : dataLines.joined(separator: "\n"))
    }
}
