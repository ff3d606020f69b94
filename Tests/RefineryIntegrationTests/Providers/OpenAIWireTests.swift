// OpenAI Chat Completions and compatible servers (Ollama, endpoints from providers.yaml)
// against a fake server: reasoning-model parameters, response_format, streaming with usage,
// estimated usage, embeddings.

import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

@Suite struct OpenAIWireTests {
    @Test func reasoningModelGetsCompletionTokensAndEffort() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("Hi!"))
            let format = ResponseFormat(
                name: "evaluation", schemaJSON: #"{"type":"object","properties":{"score":{"type":"number"}}}"#)
            let reply = try await RegistryHarness.with(server) {
                try await $0.provider(for: ModelRef(provider: "openai", model: "gpt-5.4")).complete(
                    RegistryHarness.request(
                        "openai", "gpt-5.4",
                        params: ModelParams(
                            temperature: 0.7, maxTokens: 500, reasoningEffort: "xhigh", seed: 3, stop: ["END"]),
                        format: format))
            }
            #expect(reply.text == "Hi!")
            #expect(reply.usage == TokenUsage(inputTokens: 11, outputTokens: 5))
            #expect(reply.finishReason == "stop")
            let request = try #require(server.lastRequest)
            #expect(request.header("authorization") == "Bearer \(RegistryHarness.openAIKey)")
            let body = try #require(request.json)
            #expect(body["max_completion_tokens"] as? Int == 500)
            #expect(body["max_tokens"] == nil)
            #expect(body["reasoning_effort"] as? String == "xhigh")
            #expect(body["temperature"] == nil)
            // Refused by reasoning models ("not supported with latest reasoning models o3 and o4-mini").
            #expect(body["stop"] == nil)
            #expect(body["seed"] as? Int == 3)
            let messages = try #require(body["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["system", "user"])
            let responseFormat = try #require(body["response_format"] as? [String: Any])
            #expect(responseFormat["type"] as? String == "json_schema")
            let schema = try #require(responseFormat["json_schema"] as? [String: Any])
            #expect(schema["name"] as? String == "evaluation")
            #expect(schema["strict"] as? Bool == true)
            #expect((schema["schema"] as? [String: Any])?["type"] as? String == "object")
        }
    }

    /// Each OpenAI reasoning family takes its own effort words and answers others with a 400 that dropped the
    /// member: `minimal` is `none` from gpt-5.1 on, `xhigh` is `high` before gpt-5.2 (but gpt-5.1-codex-max),
    /// the o-series has neither. Before, the workflow's word was sent as it was.
    @Test(arguments: [
        ("gpt-5.4", "minimal", "none"), ("gpt-5.4-mini", "xhigh", "xhigh"), ("gpt-5.1", "xhigh", "high"),
        ("gpt-5.1-codex-max", "xhigh", "xhigh"), ("gpt-5-mini", "minimal", "minimal"), ("gpt-5", "xhigh", "high"),
        ("o3", "minimal", "low"), ("o4-mini", "xhigh", "high"), ("o3", "medium", "medium"),
    ])
    func reasoningEffortIsSentAsTheModelTakesIt(model: String, effort: String, sent: String) async throws {
        let request = try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("ok"))
            _ = try await RegistryHarness.with(server) {
                try await $0.provider(for: ModelRef(provider: "openai", model: model)).complete(
                    RegistryHarness.request("openai", model, params: ModelParams(reasoningEffort: effort)))
            }
            return server.lastRequest
        }
        #expect(try #require(request?.json)["reasoning_effort"] as? String == sent)
    }

    @Test func chatModelGetsMaxTokensAndTemperature() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("ok"))
            _ = try await RegistryHarness.with(server) {
                try await $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).complete(
                    RegistryHarness.request(
                        "openai", "gpt-4o",
                        params: ModelParams(
                            temperature: 0.7, topP: 0.9, maxTokens: 300, reasoningEffort: "high", stop: ["END"])))
            }
            let body = try #require(server.lastRequest?.json)
            #expect(body["max_tokens"] as? Int == 300)
            #expect(body["stop"] as? [String] == ["END"])
            #expect(body["temperature"] as? Double == 0.7)
            #expect(body["top_p"] as? Double == 0.9)
            #expect(body["reasoning_effort"] == nil)
        }
    }

    @Test func streamRequestsUsageAndParsesIt() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.stream(["Hello", ", ", "world"]))
            let (deltas, reply) = try await RegistryHarness.with(server) {
                try await collect(
                    $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).stream(
                        RegistryHarness.request("openai", "gpt-4o")))
            }
            #expect(deltas == ["Hello", ", ", "world"])
            #expect(reply?.text == "Hello, world")
            #expect(reply?.usage == TokenUsage(inputTokens: 9, outputTokens: 4))
            let request = try #require(server.lastRequest)
            #expect(request.header("authorization") == "Bearer \(RegistryHarness.openAIKey)")
            #expect(request.header("accept") == "text/event-stream")
            #expect(request.header("content-type") == "application/json")
            let body = try #require(request.json)
            #expect(body["stream"] as? Bool == true)
            #expect((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
            #expect(body["model"] as? String == "gpt-4o")
            let messages = body["messages"] as? [[String: String]]
            #expect(
                messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Say hello"]])
        }
    }

    /// A model's refusal of a structured request comes as `refusal`, not `content`: streamed
    /// (`delta.refusal`) it is the reply's text as it is whole, not an empty reply that says to raise
    /// `max_tokens`.
    @Test func aRefusalIsTheTextStreamedOrNot() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeOpenAI.path,
                .json(
                    #"{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"#
                        + #""message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"#
                        + #""finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":6}}"#))
            let (whole, streamed) = try await RegistryHarness.with(server) { registry in
                let provider = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                let request = RegistryHarness.request("openai", "gpt-4o")
                return (try await provider.complete(request), try await collect(provider.stream(request)).1)
            }
            #expect(whole.text == "I can't help with that.")
            #expect(streamed?.text == "I can't help with that.")
        }
    }

    @Test func missingUsageIsEstimatedAndMarked() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.stream(["abcdefgh"], usage: false))
            let (_, reply) = try await RegistryHarness.with(server) {
                try await collect(
                    $0.provider(for: ModelRef(provider: "ollama", model: "llama3.2")).stream(
                        RegistryHarness.request("ollama", "llama3.2", system: nil, prompt: "12345678")))
            }
            #expect(reply?.usage == TokenUsage(inputTokens: 2, outputTokens: 2, isEstimated: true))
        }
    }

    /// A reply without usage that is longer than the cap sent (a server ignoring `max_tokens`) is estimated
    /// at no more output tokens than that cap, which is all a provider bills: 40,000 characters for
    /// `max_tokens: 100` were booked 10,000 tokens.
    @Test func estimatedOutputNeverPassesTheCapSent() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeOpenAI.path,
                FakeOpenAI.stream(Array(repeating: String(repeating: "y", count: 400), count: 100), usage: false))
            let (_, reply) = try await RegistryHarness.with(server) {
                try await collect(
                    $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).stream(
                        RegistryHarness.request("openai", "gpt-4o", params: ModelParams(maxTokens: 100))))
            }
            #expect(reply?.text.count == 40_000)
            #expect(reply?.usage.outputTokens == 100)
            #expect(reply?.usage.isEstimated == true)
            let body = try #require(server.lastRequest?.json)
            #expect(body["max_tokens"] as? Int == 100)
        }
    }

    /// A local OpenAI-compatible server speaks HTTP/1.1: one request per connection. The HTTP client must
    /// not add a cap of its own (AsyncHTTPClient keeps 8 connections per host by default): the engine's
    /// `max_concurrent` and the endpoint's `max_concurrent` are the limits a user sets and sees.
    @Test func manyConcurrentCallsToOneHTTP1HostAreNotCappedByTheClient() async throws {
        try await FakeServer.run { server in
            // Each reply waits 6 s, so all 24 are in flight together even on a loaded machine (with 300 ms,
            // the first replies came back before the last requests were sent: 22 at once; with 2 s, 15 at once
            // while five builds and a test run shared the two cores).
            server.route(FakeOpenAI.path, .delayed(.seconds(6), FakeOpenAI.completion("ok")))
            let replies = try await RegistryHarness.with(server, extra: ["OPENAI_API_KEY": ""]) { registry in
                let provider = try registry.provider(for: ModelRef(provider: "ollama", model: "llama3.2"))
                return try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<24 {
                        group.addTask {
                            try await provider.complete(RegistryHarness.request("ollama", "llama3.2")).text
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(replies == Array(repeating: "ok", count: 24))
            #expect(server.maxInFlight == 24)
        }
    }

    @Test func ollamaNeedsNoKeyAndUsesOllamaHost() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("local"))
            let reply = try await RegistryHarness.with(server, extra: ["OPENAI_API_KEY": ""]) {
                try await $0.provider(for: ModelRef(provider: "ollama", model: "llama3.2")).complete(
                    RegistryHarness.request("ollama", "llama3.2"))
            }
            #expect(reply.text == "local")
            let request = try #require(server.lastRequest)
            #expect(request.path == "/v1/chat/completions")
            #expect(request.header("authorization") == nil)
            #expect(request.json?["model"] as? String == "llama3.2")
        }
    }

    @Test func declaredEndpointUsesItsKeyVariableAndHeaders() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("custom"))
            let config = ProvidersConfig(endpoints: [
                EndpointConfig(
                    name: "lab", baseURL: server.baseURL + "/v1", apiKeyEnv: "LAB_KEY", headers: ["X-Team": "refinery"])
            ])
            let reply = try await RegistryHarness.with(
                server, extra: ["LAB_KEY": "lab-PLANTED-key-123"], configuration: config
            ) {
                try await $0.provider(for: ModelRef(provider: "lab", model: "qwen")).complete(
                    RegistryHarness.request("lab", "qwen"))
            }
            #expect(reply.text == "custom")
            let request = try #require(server.lastRequest)
            #expect(request.path == "/v1/chat/completions")
            #expect(request.header("authorization") == "Bearer lab-PLANTED-key-123")
            #expect(request.header("x-team") == "refinery")
        }
    }

    @Test func handlerRoutesAnswerByRequestContent() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path) { request in
                FakeOpenAI.completion(request.body.contains("ping") ? "pong" : "?")
            }
            let replies = try await RegistryHarness.with(server) { registry in
                let provider = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                return [
                    try await provider.complete(RegistryHarness.request("openai", "gpt-4o", prompt: "ping")).text,
                    try await provider.complete(RegistryHarness.request("openai", "gpt-4o", prompt: "other")).text,
                ]
            }
            #expect(replies == ["pong", "?"])
        }
    }

    @Test func embeddingsComeBackInInputOrder() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.embeddingsPath, FakeOpenAI.embeddings([[1, 0], [0, 1], [0.5, 0.5]]))
            let vectors = try await RegistryHarness.with(server) {
                try await $0.embed(
                    ["a", "b", "c"], model: ModelRef(provider: "openai", model: "text-embedding-3-small"))
            }
            #expect(vectors == [[1, 0], [0, 1], [0.5, 0.5]])
            #expect(server.lastRequest?.header("authorization") == "Bearer \(RegistryHarness.openAIKey)")
            #expect(server.lastRequest?.header("content-type") == "application/json")
            let body = try #require(server.lastRequest?.json)
            #expect(body["input"] as? [String] == ["a", "b", "c"])
            #expect(body["model"] as? String == "text-embedding-3-small")
        }
    }
}
