// A fake server speaks the shape the client asked for: a whole reply scripted for a test is sent
// as the equivalent server-sent events when the request streams (OpenAI and Anthropic
// `"stream": true`, Gemini `:streamGenerateContent`), so one script serves both paths and the
// streamed wire format is what the engine's calls meet.

import Foundation

enum FakeStreamShapes {
    /// `reply` as `request` expects it: a 200 JSON reply becomes events when the request streams;
    /// anything else (errors, scripted streams, faults) is sent as scripted.
    static func adapt(_ reply: FakeReply, to request: RecordedRequest) -> FakeReply {
        switch reply {
        case .delayed(let delay, let next):
            return .delayed(delay, adapt(next, to: request))
        case .body(200, let contentType, let text, _) where contentType.hasPrefix("application/json"):
            guard let events = events(for: text, request: request) else { return reply }
            return .sse(events)
        default:
            return reply
        }
    }

    private static func events(for text: String, request: RecordedRequest) -> [(String?, String)]? {
        guard let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
            json["error"] == nil
        else { return nil }
        if request.path.hasSuffix(":streamGenerateContent") {
            // Gemini streams the same `GenerateContentResponse` objects, one per `data:` line.
            return [(nil, text)]
        }
        guard request.json?["stream"] as? Bool == true else { return nil }
        if request.path.hasSuffix("/chat/completions") { return openAI(json) }
        if request.path.hasSuffix("/messages") { return anthropic(json) }
        return nil
    }

    /// `chat.completion` → a role chunk, a content chunk, a finish chunk, a usage chunk, `[DONE]`.
    private static func openAI(_ json: [String: Any]) -> [(String?, String)]? {
        guard let choice = (json["choices"] as? [[String: Any]])?.first else { return nil }
        let message = choice["message"] as? [String: Any] ?? [:]
        let model = json["model"] as? String ?? "gpt-test"
        func chunk(_ delta: [String: Any], finish: Any) -> String {
            encode([
                "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model,
                "choices": [["index": 0, "delta": delta, "finish_reason": finish]],
            ])
        }
        var events: [(String?, String)] = [(nil, chunk(["role": "assistant", "content": ""], finish: NSNull()))]
        if let content = message["content"] as? String {
            events.append((nil, chunk(["content": content], finish: NSNull())))
        }
        if let refusal = message["refusal"] as? String {
            events.append((nil, chunk(["refusal": refusal], finish: NSNull())))
        }
        events.append((nil, chunk([:], finish: choice["finish_reason"] ?? NSNull())))
        if let usage = json["usage"] {
            events.append(
                (
                    nil,
                    encode([
                        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000,
                        "model": model, "choices": [Any](), "usage": usage,
                    ])
                ))
        }
        events.append((nil, "[DONE]"))
        return events
    }

    /// A Messages reply → `message_start`, one block per text part, `message_delta`, `message_stop`.
    private static func anthropic(_ json: [String: Any]) -> [(String?, String)]? {
        guard let content = json["content"] as? [[String: Any]] else { return nil }
        let usage = json["usage"] as? [String: Any] ?? [:]
        var start = json
        start["content"] = [Any]()
        start["stop_reason"] = NSNull()
        // The input counts, prompt-cache reads and writes included, come in `message_start`, as the API sends them.
        var startUsage = usage
        startUsage["input_tokens"] = usage["input_tokens"] ?? 0
        startUsage["output_tokens"] = 1
        start["usage"] = startUsage
        var events: [(String?, String)] = [("message_start", encode(["type": "message_start", "message": start]))]
        for (index, block) in content.enumerated() where block["type"] as? String == "text" {
            events.append(
                (
                    "content_block_start",
                    encode([
                        "type": "content_block_start", "index": index, "content_block": ["type": "text", "text": ""],
                    ])
                ))
            events.append(("ping", #"{"type": "ping"}"#))
            events.append(
                (
                    "content_block_delta",
                    encode([
                        "type": "content_block_delta", "index": index,
                        "delta": ["type": "text_delta", "text": block["text"] ?? ""],
                    ])
                ))
            events.append(("content_block_stop", encode(["type": "content_block_stop", "index": index])))
        }
        events.append(
            (
                "message_delta",
                encode([
                    "type": "message_delta",
                    "delta": ["stop_reason": json["stop_reason"] ?? NSNull(), "stop_sequence": NSNull()],
                    "usage": ["output_tokens": usage["output_tokens"] ?? 0],
                ])
            ))
        events.append(("message_stop", #"{"type":"message_stop"}"#))
        return events
    }

    private static func encode(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
