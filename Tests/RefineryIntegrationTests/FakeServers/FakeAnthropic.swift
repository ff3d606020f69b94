// Anthropic Messages replies as the public API documents them (JSON reply, SSE events
// `message_start`, `content_block_start`, `ping`, `content_block_delta`, `content_block_stop`,
// `message_delta`, `message_stop`, and the `error` event / error body).

enum FakeAnthropic {
    static let path = "/v1/messages"

    static func message(
        _ text: String, model: String = "claude-test", input: Int = 12, output: Int = 7, stop: String = "end_turn"
    ) -> FakeReply {
        .json(
            """
            {"id":"msg_01","type":"message","role":"assistant","model":"\(model)",\
            "content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":\(quoted(text))}],\
            "stop_reason":"\(stop)","stop_sequence":null,"usage":{"input_tokens":\(input),"output_tokens":\(output)}}
            """)
    }

    /// The streamed events for `pieces` (each a `text_delta`).
    static func events(_ pieces: [String], model: String = "claude-test", input: Int = 25, output: Int = 15) -> [(
        String?, String
    )] {
        var events: [(String?, String)] = [
            (
                "message_start",
                """
                {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],\
                "model":"\(model)","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\(input),"output_tokens":1}}}
                """
            ),
            (
                "content_block_start",
                #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
            ),
            ("ping", #"{"type": "ping"}"#),
        ]
        for piece in pieces {
            events.append(
                (
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"# + quoted(piece)
                        + "}}"
                ))
        }
        events += [
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            (
                "message_delta",
                #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":"#
                    + "\(output)}}"
            ),
            ("message_stop", #"{"type":"message_stop"}"#),
        ]
        return events
    }

    static func stream(_ pieces: [String], pause: Duration? = nil) -> FakeReply {
        .sse(events(pieces), pause: pause)
    }

    static func error(_ type: String, _ message: String, status: Int, headers: [String: String] = [:]) -> FakeReply {
        .json(
            #"{"type":"error","error":{"type":"\#(type)","message":"\#(message)"}}"#, status: status, headers: headers)
    }
}

/// `text` as a JSON string literal.
func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        // Any other control character is escaped, as JSON requires: a raw one made the reply unreadable.
        case _ where scalar.value < 0x20:
            result += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
