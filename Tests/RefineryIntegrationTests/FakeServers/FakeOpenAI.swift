// OpenAI Chat Completions replies as documented: a `chat.completion` object, streamed
// `chat.completion.chunk` objects ending with a usage chunk (`stream_options.include_usage`)
// and `data: [DONE]`, embeddings lists, and `{"error": {...}}` bodies.

enum FakeOpenAI {
    static let path = "/v1/chat/completions"
    static let embeddingsPath = "/v1/embeddings"

    static func completion(
        _ text: String, model: String = "gpt-test", prompt: Int = 11, completion: Int = 5, finish: String = "stop"
    ) -> FakeReply {
        .json(
            """
            {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"\(model)",\
            "choices":[{"index":0,"message":{"role":"assistant","content":\(quoted(text)),"refusal":null},\
            "logprobs":null,"finish_reason":"\(finish)"}],\
            "usage":{"prompt_tokens":\(prompt),"completion_tokens":\(completion),"total_tokens":\(prompt + completion)}}
            """)
    }

    static func chunks(
        _ pieces: [String], model: String = "gpt-test", prompt: Int = 9, completion: Int = 4, usage: Bool = true,
        done: Bool = true
    ) -> [(String?, String)] {
        func chunk(_ delta: String, finish: String?) -> String {
            """
            {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"\(model)",\
            "choices":[{"index":0,"delta":\(delta),"logprobs":null,"finish_reason":\(finish.map(quoted) ?? "null")}],"usage":null}
            """
        }
        var events: [(String?, String)] = [(nil, chunk(#"{"role":"assistant","content":""}"#, finish: nil))]
        events += pieces.map { (nil, chunk(#"{"content":"# + quoted($0) + "}", finish: nil)) }
        events.append((nil, chunk("{}", finish: "stop")))
        if usage {
            events.append(
                (
                    nil,
                    """
                    {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"\(model)","choices":[],\
                    "usage":{"prompt_tokens":\(prompt),"completion_tokens":\(completion),"total_tokens":\(prompt + completion)}}
                    """
                ))
        }
        if done { events.append((nil, "[DONE]")) }
        return events
    }

    static func stream(_ pieces: [String], usage: Bool = true) -> FakeReply {
        .sse(chunks(pieces, usage: usage))
    }

    /// A stream pausing `pause` after each event.
    static func sseReply(_ pieces: [String], pause: Duration) -> FakeReply {
        .sse(chunks(pieces), pause: pause)
    }

    static func error(_ message: String, type: String, status: Int, headers: [String: String] = [:]) -> FakeReply {
        .json(
            #"{"error":{"message":"\#(message)","type":"\#(type)","param":null,"code":null}}"#, status: status,
            headers: headers)
    }

    static func embeddings(_ vectors: [[Double]]) -> FakeReply {
        // Deliberately out of order: clients must sort by `index`.
        let items = vectors.enumerated().reversed().map { index, vector in
            #"{"object":"embedding","index":\#(index),"embedding":[\#(vector.map { "\($0)" }.joined(separator: ","))]}"#
        }
        return .json(
            #"{"object":"list","data":[\#(items.joined(separator: ","))],"model":"emb","usage":{"prompt_tokens":3,"total_tokens":3}}"#
        )
    }
}
