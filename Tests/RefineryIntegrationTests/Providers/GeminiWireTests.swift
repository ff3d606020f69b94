// Gemini generateContent / streamGenerateContent / embeddings against a fake server.

import Foundation
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

@Suite struct GeminiWireTests {
    @Test func nonStreamedCallUsesHeaderKeyAndDocumentedBody() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeGemini.path("gemini-2.5-pro", "generateContent"), FakeGemini.reply("Bonjour", thoughts: 30))
            let format = ResponseFormat(
                name: "verdict",
                schemaJSON:
                    #"{"$schema":"x","type":"object","additionalProperties":false,"properties":{"ok":{"type":["boolean","null"]},"kind":{"const":"a"}},"required":["ok"]}"#
            )
            let reply = try await RegistryHarness.with(server) {
                try await $0.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-pro")).complete(
                    RegistryHarness.request(
                        "gemini", "gemini-2.5-pro",
                        params: ModelParams(temperature: 0.3, topP: 0.8, maxTokens: 256, reasoningEffort: "low"),
                        format: format))
            }
            #expect(reply.text == "Bonjour")
            #expect(reply.usage == TokenUsage(inputTokens: 8, outputTokens: 36))
            #expect(reply.finishReason == "STOP")
            let request = try #require(server.lastRequest)
            #expect(request.header("x-goog-api-key") == RegistryHarness.geminiKey)
            #expect(request.query == nil)
            #expect(!request.fullText.contains("key=\(RegistryHarness.geminiKey)"))
            let body = try #require(request.json)
            #expect(
                ((body["systemInstruction"] as? [String: Any])?["parts"] as? [[String: Any]])?.first?["text"] as? String
                    == "Be brief.")
            let contents = try #require(body["contents"] as? [[String: Any]])
            #expect(contents.first?["role"] as? String == "user")
            let config = try #require(body["generationConfig"] as? [String: Any])
            #expect(config["temperature"] as? Double == 0.3)
            #expect(config["topP"] as? Double == 0.8)
            // `max_tokens` is the answer's allowance; the thinking budget comes on top (Gemini
            // counts thoughts against `maxOutputTokens`).
            #expect(config["maxOutputTokens"] as? Int == 256 + 1024)
            #expect((config["thinkingConfig"] as? [String: Any])?["thinkingBudget"] as? Int == 1024)
            #expect(config["responseMimeType"] as? String == "application/json")
            let schema = try #require(config["responseSchema"] as? [String: Any])
            #expect(schema["$schema"] == nil)
            #expect(schema["additionalProperties"] == nil)
            #expect(schema["required"] as? [String] == ["ok"])
            let properties = try #require(schema["properties"] as? [String: [String: Any]])
            #expect(properties["ok"]?["type"] as? String == "boolean")
            #expect(properties["ok"]?["nullable"] as? Bool == true)
            #expect(properties["kind"]?["enum"] as? [String] == ["a"])
        }
    }

    /// Every call carries `maxOutputTokens`: the answer allowance (the request's `max_tokens`, else
    /// providers.yaml's, else 4,096) plus the thinking allowance (the budget sent, else 32,768 for
    /// a model that thinks by default), within Gemini's 65,536. Without it a thinking model ran
    /// uncapped; with a bare 4,096 it could spend the whole cap thinking and answer nothing.
    @Test(
        arguments: [
            ("gemini-2.5-pro", nil, nil, nil, #"{"maxOutputTokens":36864}"#),
            (
                "gemini-2.5-flash", "low", nil, nil,
                #"{"maxOutputTokens":5120,"thinkingConfig":{"thinkingBudget":1024}}"#
            ),
            (
                "gemini-2.5-flash", "minimal", nil, nil,
                #"{"maxOutputTokens":4096,"thinkingConfig":{"thinkingBudget":0}}"#
            ),
            (
                "gemini-3.1-pro-preview", "high", nil, nil,
                #"{"maxOutputTokens":36864,"thinkingConfig":{"thinkingLevel":"high"}}"#
            ),
            ("gemini-2.0-flash", nil, nil, nil, #"{"maxOutputTokens":4096}"#),
            ("gemma-3-27b-it", nil, nil, nil, #"{"maxOutputTokens":4096}"#),
            ("gemini-2.5-pro", nil, nil, 1000, #"{"maxOutputTokens":33768}"#),
            ("gemini-2.5-pro", nil, 300, 1000, #"{"maxOutputTokens":33068}"#),
            ("gemini-2.5-pro", nil, 60000, nil, #"{"maxOutputTokens":65536}"#),
        ] as [(String, String?, Int?, Int?, String)])
    func everyCallCarriesAnOutputCapWithRoomToThink(
        model: String, effort: String?, requestCap: Int?, endpointCap: Int?, expected: String
    ) async throws {
        try await FakeServer.run { server in
            server.route(FakeGemini.path(model, "generateContent"), FakeGemini.reply("ok"))
            let request = RegistryHarness.request(
                "gemini", model, params: ModelParams(maxTokens: requestCap, reasoningEffort: effort))
            let configuration = ProvidersConfig(limits: [
                "gemini": ProviderLimits(stream: false, maxTokens: endpointCap)
            ])
            _ = try await RegistryHarness.with(server, configuration: configuration) {
                try await $0.provider(for: request.model).complete(request)
            }
            let body = try #require(server.lastRequest?.json)
            let config = try #require(body["generationConfig"] as? [String: Any])
            let pinned = try #require(try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? [String: Any])
            #expect(NSDictionary(dictionary: config) == NSDictionary(dictionary: pinned), "\(config)")
        }
    }

    @Test func assistantTurnsUseModelRole() async throws {
        try await FakeServer.run { server in
            server.route(FakeGemini.path("gemini-3.1-pro-preview", "generateContent"), FakeGemini.reply("ok"))
            var request = RegistryHarness.request(
                "gemini", "gemini-3.1-pro-preview", params: ModelParams(reasoningEffort: "high"))
            request.messages = [
                ChatMessage(role: .user, content: "a"), ChatMessage(role: .assistant, content: "b"),
                ChatMessage(role: .user, content: "c"),
            ]
            _ = try await RegistryHarness.with(server) { [request] in
                try await $0.provider(for: request.model).complete(request)
            }
            let body = try #require(server.lastRequest?.json)
            let roles = (body["contents"] as? [[String: Any]])?.map { $0["role"] as? String }
            #expect(roles == ["user", "model", "user"])
            let thinking = (body["generationConfig"] as? [String: Any])?["thinkingConfig"] as? [String: Any]
            #expect(thinking?["thinkingLevel"] as? String == "high")
        }
    }

    @Test func streamUsesAltSSE() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeGemini.path("gemini-2.5-flash", "streamGenerateContent"), FakeGemini.stream(["Un", "deux"]))
            let (deltas, reply) = try await RegistryHarness.with(server) {
                try await collect(
                    $0.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-flash")).stream(
                        RegistryHarness.request("gemini", "gemini-2.5-flash")))
            }
            #expect(deltas == ["Un", "deux"])
            #expect(reply?.text == "Undeux")
            #expect(reply?.usage == TokenUsage(inputTokens: 10, outputTokens: 20))
            let request = try #require(server.lastRequest)
            #expect(request.query == "alt=sse")
            #expect(request.header("x-goog-api-key") == RegistryHarness.geminiKey)
            #expect(request.header("accept") == "text/event-stream")
            #expect(request.query?.contains(RegistryHarness.geminiKey) == false)
            let body = try #require(request.json)
            #expect(
                (body["systemInstruction"] as? [String: Any])?["parts"] as? [[String: String]] == [
                    ["text": "Be brief."]
                ])
            let contents = try #require(body["contents"] as? [[String: Any]])
            #expect(contents.count == 1)
            #expect(contents.first?["role"] as? String == "user")
            #expect(contents.first?["parts"] as? [[String: String]] == [["text": "Say hello"]])
        }
    }

    /// A long reply in many events (5 MB in 5,000) is read in time linear in its length (under a second
    /// here): each event's delta was cut from the reply's tail by counting the whole reply's characters, so
    /// 4 MB took a minute of one event loop in a debug build, and this stream failed its 30 s timeout.
    @Test func aLongStreamIsReadWithinItsTimeout() async throws {
        try await FakeServer.run { server in
            let piece = String(repeating: "y", count: 1000)
            server.route(
                FakeGemini.path("gemini-2.5-flash", "streamGenerateContent"),
                FakeGemini.stream(Array(repeating: piece, count: 5000)))
            let (deltas, reply) = try await RegistryHarness.with(server) {
                try await collect(
                    $0.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-flash")).stream(
                        RegistryHarness.request("gemini", "gemini-2.5-flash", timeout: 30)))
            }
            #expect(deltas.count == 5000)
            #expect(reply?.text.utf8.count == 5_000_000)
        }
    }

    @Test func blockedPromptIsAClearPermanentError() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeGemini.path("gemini-2.5-pro", "generateContent"),
                .json(#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":5}}"#))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await $0.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-pro")).complete(
                        RegistryHarness.request("gemini", "gemini-2.5-pro"))
                }
            }
            #expect(error?.code == .badRequest)
            #expect(error?.isTransient == false)
            #expect(error?.message.contains("blocked the prompt (SAFETY)") == true)
        }
    }

    @Test func safetyFinishWithoutTextIsAnError() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeGemini.path("gemini-2.5-pro", "generateContent"),
                .json(#"{"candidates":[{"finishReason":"SAFETY","index":0}],"usageMetadata":{"promptTokenCount":5}}"#))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await $0.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-pro")).complete(
                        RegistryHarness.request("gemini", "gemini-2.5-pro"))
                }
            }
            #expect(error?.code == .badRequest)
            #expect(error?.message.contains("finish reason SAFETY") == true)
        }
    }

    @Test func embeddingsUseBatchAndSingleEndpoints() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeGemini.path("gemini-embedding-001", "batchEmbedContents"),
                .json(#"{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3,0.4]}]}"#))
            server.route(
                FakeGemini.path("gemini-embedding-001", "embedContent"), .json(#"{"embedding":{"values":[0.5,0.6]}}"#))
            let model = ModelRef(provider: "gemini", model: "gemini-embedding-001")
            let (batch, single) = try await RegistryHarness.with(server) {
                (try await $0.embed(["a", "b"], model: model), try await $0.embed(["c"], model: model))
            }
            #expect(batch == [[0.1, 0.2], [0.3, 0.4]])
            #expect(single == [[0.5, 0.6]])
            let batchBody = try #require(server.requests.first?.json)
            let requests = try #require(batchBody["requests"] as? [[String: Any]])
            #expect(requests.first?["model"] as? String == "models/gemini-embedding-001")
            #expect(server.requests.allSatisfy { $0.header("x-goog-api-key") == RegistryHarness.geminiKey })
        }
    }
}
