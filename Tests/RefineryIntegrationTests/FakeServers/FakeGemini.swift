// Gemini API replies as documented: `GenerateContentResponse` objects (`candidates[].content.parts[].text`,
// `finishReason`, `usageMetadata`, `promptFeedback.blockReason`), the same objects one per SSE
// `data:` line for `streamGenerateContent?alt=sse`, embeddings, and `{"error": {code, message, status}}`.

enum FakeGemini {
    static func path(_ model: String, _ method: String) -> String { "/v1beta/models/\(model):\(method)" }

    static func response(
        _ text: String, finish: String? = "STOP", prompt: Int = 8, candidates: Int = 6, thoughts: Int? = nil
    ) -> String {
        let usage =
            #"{"promptTokenCount":\#(prompt),"candidatesTokenCount":\#(candidates),"totalTokenCount":\#(prompt + candidates)\#(thoughts.map { ",\"thoughtsTokenCount\":\($0)" } ?? "")}"#
        return """
            {"candidates":[{"content":{"parts":[{"text":"thinking...","thought":true},{"text":\(quoted(text))}],"role":"model"},\
            \(finish.map { "\"finishReason\":\"\($0)\"," } ?? "")"index":0}],"usageMetadata":\(usage),"modelVersion":"gemini-test"}
            """
    }

    static func reply(_ text: String, finish: String = "STOP", thoughts: Int? = nil) -> FakeReply {
        .json(response(text, finish: finish, thoughts: thoughts))
    }

    static func stream(_ pieces: [String]) -> FakeReply {
        var events: [(String?, String)] = []
        for (index, piece) in pieces.enumerated() {
            let last = index == pieces.count - 1
            events.append(
                (
                    nil,
                    #"{"candidates":[{"content":{"parts":[{"text":\#(quoted(piece))}],"role":"model"},\#(last ? "\"finishReason\":\"STOP\"," : "")"index":0}],"usageMetadata":{"promptTokenCount":10\#(last ? ",\"candidatesTokenCount\":20" : "")},"modelVersion":"gemini-test"}"#
                ))
        }
        return .sse(events)
    }

    static func error(_ message: String, status: String, code: Int, headers: [String: String] = [:]) -> FakeReply {
        .json(
            #"{"error":{"code":\#(code),"message":"\#(message)","status":"\#(status)"}}"#, status: code,
            headers: headers)
    }
}
