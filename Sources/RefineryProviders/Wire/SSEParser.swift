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
        while index < pending.count {
            let byte = pending[index]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                // A lone trailing `\r` may be the first half of `\r\n`: wait for more bytes.
                if byte == UInt8(ascii: "\r"), index + 1 == pending.count { break }
                let line = String(decoding: pending[lineStart..<index], as: UTF8.self)
                if let completed = process(line: line) { events.append(completed) }
                if byte == UInt8(ascii: "\r"), pending[index + 1] == UInt8(ascii: "\n") { index += 1 }
                lineStart = index + 1
            }
            index += 1
        }
        pending.removeFirst(lineStart)
        scanned = index - lineStart
        return events
    }

    /// Ends the stream; returns an event left without its closing blank line, if any.
    package mutating func finish() -> SSEEvent? {
        if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
        if !pending.isEmpty {
            let line = String(decoding: pending, as: UTF8.self)
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

    private mutating func process(line: String) -> SSEEvent? {
        if line.isEmpty { return dispatch() }
        if line.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = ""
        }
        switch field {
        case "event": event = String(value)
        case "data": dataLines.append(String(value))
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            event = nil
            dataLines = []
        }
        guard !dataLines.isEmpty else { return nil }
        return SSEEvent(event: event ?? "message", data: dataLines.joined(separator: "\n"))
    }
}
