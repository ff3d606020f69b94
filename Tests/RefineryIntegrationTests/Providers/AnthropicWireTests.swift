// Anthropic Messages against a fake server: headers, body shape, JSON and SSE replies, usage,
// OAuth, thinking, and errors reported inside the stream.

import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

@Suite struct AnthropicWireTests {
    @Test func nonStreamedCallSendsDocumentedHeadersAndBody() async throws {
        try await FakeServer.run { server in
            server.route(FakeAnthropic.path, FakeAnthropic.message("Hello there"))
            let reply = try await RegistryHarness.with(server) { registry in
                try await registry.provider(for: ModelRef(provider: "anthropic", model: "claude-x"))
                    .complete(
                        RegistryHarness.request(
                            "anthropic", "claude-x", params: ModelParams(temperature: 0.2, stop: ["END"])))
            }
            #expect(reply.text == "Hello there")
            #expect(reply.usage == TokenUsage(inputTokens: 12, outputTokens: 7))
            #expect(reply.finishReason == "end_turn")
            #expect(reply.model == "claude-test")
            let request = try #require(server.lastRequest)
            #expect(request.method == "POST")
            #expect(request.header("x-api-key") == RegistryHarness.anthropicKey)
            #expect(request.header("anthropic-version") == "2023-06-01")
            #expect(request.header("authorization") == nil)
            #expect(request.header("content-type") == "application/json")
            let body = try #require(request.json)
            #expect(body["model"] as? String == "claude-x")
            #expect(body["system"] as? String == "Be brief.")
            #expect(body["max_tokens"] as? Int == 8192)
            #expect(body["temperature"] as? Double == 0.2)
            #expect(body["stop_sequences"] as? [String] == ["END"])
            #expect(body["stream"] == nil)
            let messages = try #require(body["messages"] as? [[String: Any]])
            #expect(messages.count == 1)
            #expect(messages[0]["role"] as? String == "user")
            #expect(messages[0]["content"] as? String == "Say hello")
        }
    }

    /// `temperature` and `top_p` both set (a workflow's params): only `temperature` is sent, since Anthropic's
    /// models since Claude 4.5 refuse the pair with a 400 that dropped the member for the run. `top_p` alone
    /// is sent.
    @Test func temperatureAndTopPAreNeverSentTogether() async throws {
        try await FakeServer.run { server in
            server.route(FakeAnthropic.path, FakeAnthropic.message("Hello"), FakeAnthropic.message("Hello"))
            try await RegistryHarness.with(server) { registry in
                let provider = try registry.provider(for: ModelRef(provider: "anthropic", model: "claude-x"))
                _ = try await provider.complete(
                    RegistryHarness.request("anthropic", "claude-x", params: ModelParams(temperature: 0.7, topP: 0.9)))
                _ = try await provider.complete(
                    RegistryHarness.request("anthropic", "claude-x", params: ModelParams(topP: 0.9)))
            }
            let bodies = server.requests.compactMap(\.json)
            #expect(bodies.count == 2)
            #expect(bodies.first?["temperature"] as? Double == 0.7)
            #expect(bodies.first?["top_p"] == nil)
            #expect(bodies.last?["temperature"] == nil)
            #expect(bodies.last?["top_p"] as? Double == 0.9)
        }
    }

    @Test func oauthTokenUsesBearerAndBetaHeader() async throws {
        try await FakeServer.run { server in
            server.route(FakeAnthropic.path, FakeAnthropic.message("ok"))
            _ = try await RegistryHarness.with(
                server, extra: ["ANTHROPIC_API_KEY": "", "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-PLANTED-token"]
            ) {
                try await $0.provider(for: ModelRef(provider: "anthropic", model: "claude-x"))
                    .complete(RegistryHarness.request("anthropic", "claude-x"))
            }
            let request = try #require(server.lastRequest)
            #expect(request.header("authorization") == "Bearer sk-ant-oat01-PLANTED-token")
            #expect(request.header("anthropic-beta") == "oauth-2025-04-20")
            #expect(request.header("x-api-key") == nil)
        }
    }

    @Test func refusedOAuthTokenPointsToAlternatives() async throws {
        try await FakeServer.run { server in
            server.route(FakeAnthropic.path, FakeAnthropic.error("invalid_request_error", "Error", status: 400))
            let error = await providerError {
                _ = try await RegistryHarness.with(
                    server, extra: ["ANTHROPIC_API_KEY": "", "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-PLANTED-token"]
                ) {
                    try await $0.provider(for: ModelRef(provider: "anthropic", model: "claude-x"))
                        .complete(RegistryHarness.request("anthropic", "claude-x"))
                }
            }
            #expect(error?.code == .badRequest)
            #expect(
                error?.message.hasSuffix(
                    "set ANTHROPIC_API_KEY or use the model `command/claude`, which runs Claude Code)") == true)
        }
    }

    @Test func streamedCallYieldsDeltasAndUsage() async throws {
        try await FakeServer.run { server in
            server.route(FakeAnthropic.path, FakeAnthropic.stream(["Hel", "lo", " world"]))
            let (deltas, reply) = try await RegistryHarness.with(server) {
                try await collect(
                    $0.provider(for: ModelRef(provider: "anthropic", model: "claude-x")).stream(
                        RegistryHarness.request("anthropic", "claude-x")))
            }
            #expect(deltas == ["Hel", "lo", " world"])
            #expect(reply?.text == "Hello world")
            #expect(reply?.usage == TokenUsage(inputTokens: 25, outputTokens: 15))
            #expect(reply?.finishReason == "end_turn")
            let request = try #require(server.lastRequest)
            #expect(request.json?["stream"] as? Bool == true)
            #expect(request.header("accept") == "text/event-stream")
        }
    }

    @Test(arguments: [("low", 2048), ("medium", 8192), ("high", 16384), ("xhigh", 32000)])
    func reasoningEffortBecomesThinkingBudget(effort: String, budget: Int) async throws {
        try await FakeServer.run { server in
            server.route(FakeAnthropic.path, FakeAnthropic.message("ok"))
            _ = try await RegistryHarness.with(server) {
                try await $0.provider(for: ModelRef(provider: "anthropic", model: "claude-x")).complete(
                    RegistryHarness.request(
                        "anthropic", "claude-x",
                        params: ModelParams(temperature: 0.5, maxTokens: 1000, reasoningEffort: effort)))
            }
            let body = try #require(server.lastRequest?.json)
            let thinking = try #require(body["thinking"] as? [String: Any])
            #expect(thinking["type"] as? String == "enabled")
            #expect(thinking["budget_tokens"] as? Int == budget)
            #expect(body["max_tokens"] as? Int == 1000 + budget)
            #expect(body["temperature"] == nil)
        }
    }

    /// From Opus 4.7 on, reasoning effort is adaptive thinking with `output_config.effort` (the fixed budget is a
    /// 400 there, which dropped every such Claude member asked to think); older models keep the budget.
    /// `max_tokens` is the same cap either way. Before, every model got the budget.
    @Test(arguments: [
        ("claude-opus-4-7", "xhigh", "xhigh", 32000), ("claude-opus-4-8-20260901", "low", "low", 2048),
        ("claude-opus-5", "medium", "medium", 8192), ("claude-sonnet-5", "high", "high", 16384),
    ])
    func claudeFrom47ThinksAdaptively(model: String, effort: String, sent: String, room: Int) async throws {
        let body = try await sentBody(model, ModelParams(temperature: 0.5, maxTokens: 1000, reasoningEffort: effort))
        #expect(body["thinking"] as? [String: String] == ["type": "adaptive"])
        #expect(body["output_config"] as? [String: String] == ["effort": sent])
        #expect(body["max_tokens"] as? Int == 1000 + room)
        #expect(body["temperature"] == nil)
    }

    @Test(arguments: [
        ("claude-opus-4-6", "high", 16384), ("claude-sonnet-4-6-20260217", "xhigh", 32000),
        ("claude-sonnet-4-5-20250929", "high", 16384), ("claude-opus-4-20250514", "medium", 8192),
        ("claude-3-7-sonnet-latest", "low", 2048), ("claude-x", "xhigh", 32000),
    ])
    func claudeBefore47KeepsTheThinkingBudget(model: String, effort: String, budget: Int) async throws {
        let body = try await sentBody(model, ModelParams(maxTokens: 1000, reasoningEffort: effort))
        let thinking = try #require(body["thinking"] as? [String: Any])
        #expect(thinking["type"] as? String == "enabled")
        #expect(thinking["budget_tokens"] as? Int == budget)
        #expect(body["output_config"] == nil)
        #expect(body["max_tokens"] as? Int == 1000 + budget)
    }

    /// Opus 4.7 and later answer `temperature` or `top_p` with a 400 ("`temperature` is deprecated for this
    /// model"): not sent to them; still sent to 4.6 and to a name without a version. `minimal` effort
    /// thinks on no model. Before, both were sent to every model.
    @Test func opus47AndLaterAreSentNoSamplingParameters() async throws {
        let opus47 = try await sentBody("claude-opus-4-7", ModelParams(temperature: 0.3))
        #expect(opus47["temperature"] == nil)
        #expect(opus47["thinking"] == nil)
        let opus5 = try await sentBody("claude-opus-5-20260724", ModelParams(topP: 0.9, reasoningEffort: "minimal"))
        #expect(opus5["top_p"] == nil)
        #expect(opus5["thinking"] == nil)
        #expect(opus5["output_config"] == nil)
        #expect(try await sentBody("claude-sonnet-4-6", ModelParams(temperature: 0.3))["temperature"] as? Double == 0.3)
        #expect(try await sentBody("claude-x", ModelParams(topP: 0.8))["top_p"] as? Double == 0.8)
    }

    /// The JSON body of one call of `model` with `params`, as the fake server received it.
    private func sentBody(_ model: String, _ params: ModelParams) async throws -> [String: Any] {
        let request = try await FakeServer.run { server in
            server.route(FakeAnthropic.path, FakeAnthropic.message("ok"))
            _ = try await RegistryHarness.with(server) {
                try await $0.provider(for: ModelRef(provider: "anthropic", model: model)).complete(
                    RegistryHarness.request("anthropic", model, params: params))
            }
            return server.lastRequest
        }
        return try #require(request?.json)
    }

    @Test func responseFormatIsAskedForInTheSystemPrompt() async throws {
        try await FakeServer.run { server in
            server.route(FakeAnthropic.path, FakeAnthropic.message("{}"))
            _ = try await RegistryHarness.with(server) {
                try await $0.provider(for: ModelRef(provider: "anthropic", model: "claude-x")).complete(
                    RegistryHarness.request(
                        "anthropic", "claude-x",
                        format: ResponseFormat(name: "verdict", schemaJSON: #"{"type":"object"}"#)))
            }
            let system = try #require(server.lastRequest?.json?["system"] as? String)
            #expect(system.hasPrefix("Be brief.\n\nReply with a single JSON object"))
            #expect(system.hasSuffix(#"{"type":"object"}"#))
        }
    }

    @Test func errorEventMidStreamIsClassified() async throws {
        try await FakeServer.run { server in
            let events =
                Array(FakeAnthropic.events(["partial"]).prefix(4)) + [
                    ("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
                ]
            server.route(FakeAnthropic.path, .sse(events))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await collect(
                        $0.provider(for: ModelRef(provider: "anthropic", model: "claude-x")).stream(
                            RegistryHarness.request("anthropic", "claude-x")))
                }
            }
            #expect(error?.code == .overloaded)
            #expect(error?.isTransient == true)
            #expect(error?.message.contains("Overloaded") == true)
        }
    }
}
