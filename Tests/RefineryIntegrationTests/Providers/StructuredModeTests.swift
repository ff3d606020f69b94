// Structured output that adapts per endpoint: json_schema, then json_object (schema in the request
// and the prompt), then the prompt alone. A refusal that names `response_format` (400, 422, or 500
// as llama-cpp-python sends it) steps the endpoint down at once, without an engine retry, and the
// endpoint keeps the weaker mode for the rest of the run.

import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import RefinerySyntax
import Testing

@Suite struct StructuredModeTests {
    static let format = ResponseFormat(
        name: "evaluation", schemaJSON: #"{"type":"object","properties":{"score":{"type":"number"}}}"#)

    /// The `response_format.type` of a request, `nil` when it has none.
    static func mode(_ request: RecordedRequest) -> String? {
        (request.json?["response_format"] as? [String: Any])?["type"] as? String
    }

    /// The last message's text.
    static func lastMessage(_ request: RecordedRequest) -> String {
        ((request.json?["messages"] as? [[String: Any]])?.last?["content"] as? String) ?? ""
    }

    /// A server refusing the modes in `refused` with `refusal`, answering the others.
    static func server(_ server: FakeServer, refusing refused: Set<String>, with refusal: FakeReply) {
        server.route(FakeOpenAI.path) { request in
            refused.contains(mode(request) ?? "prompt") ? refusal : FakeOpenAI.completion(#"{"score": 4}"#)
        }
    }

    static let refusals: [(Int, String)] = [
        // llama-cpp-python: a pydantic validation error, reported as HTTP 500.
        (
            500,
            #"{"error":{"message":"1 validation error: response_format.type "#
                + #"Input should be 'text' or 'json_object'","type":"internal_server_error"}}"#
        ),
        (
            400,
            #"{"error":{"message":"Invalid parameter: 'response_format' of type 'json_schema' is not "#
                + #"supported with this model.","type":"invalid_request_error","param":"response_format"}}"#
        ),
        // FastAPI's own validation error shape.
        (
            422,
            #"{"detail":[{"loc":["body","response_format","type"],"#
                + #""msg":"Input should be 'text' or 'json_object'"}]}"#
        ),
    ]

    @Test(arguments: [500, 400, 422])
    func aRefusalOfJsonSchemaFallsBackToJsonObjectAtOnceAndIsRemembered(status: Int) async throws {
        let body = try #require(Self.refusals.first { $0.0 == status }?.1)
        try await FakeServer.run { server in
            Self.server(server, refusing: ["json_schema"], with: .json(body, status: status))
            let configuration = try ProvidersConfig.parse(
                text: "providers:\n  - { name: local, base_url: \"\(server.baseURL)\", stream: false }\n")
            let replies = try await RegistryHarness.with(server, configuration: configuration) { registry in
                let provider = try registry.provider(for: ModelRef(provider: "local", model: "m"))
                let request = RegistryHarness.request("local", "m", format: Self.format)
                return [try await provider.complete(request), try await provider.complete(request)]
            }
            #expect(replies.map(\.text) == [#"{"score": 4}"#, #"{"score": 4}"#])
            #expect(replies.map(\.structuredMode) == ["json_object", "json_object"])
            // One refused request, then json_object for this call and the next: no retry of the refusal.
            let requests = server.requests
            #expect(requests.map(Self.mode) == ["json_schema", "json_object", "json_object"])
            let fallback = try #require(requests.dropFirst().first)
            let responseFormat = try #require(fallback.json?["response_format"] as? [String: Any])
            #expect((responseFormat["schema"] as? [String: Any])?["type"] as? String == "object")
            #expect(Self.lastMessage(fallback).contains(Self.format.schemaJSON))
            #expect(!Self.lastMessage(requests[0]).contains(Self.format.schemaJSON))
        }
    }

    @Test func aRefusalOfJsonObjectFallsBackToThePromptAlone() async throws {
        try await FakeServer.run { server in
            let refusal = FakeReply.json(
                #"{"error":{"message":"response_format is not supported","type":"invalid_request_error"}}"#,
                status: 400)
            Self.server(server, refusing: ["json_schema", "json_object"], with: refusal)
            let reply = try await RegistryHarness.with(server) { registry in
                try await registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                    .reply(to: RegistryHarness.request("openai", "gpt-4o", format: Self.format))
            }
            #expect(reply.structuredMode == "prompt")
            let requests = server.requests
            #expect(requests.map(Self.mode) == ["json_schema", "json_object", nil])
            #expect(Self.lastMessage(requests[2]).contains(Self.format.schemaJSON))
        }
    }

    @Test func anEndpointDeclaresItsMode() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion(#"{"score": 1}"#))
            let configuration = try ProvidersConfig.parse(
                text: "providers:\n  - { name: local, base_url: \"\(server.baseURL)\", structured: prompt }\n")
            let reply = try await RegistryHarness.with(server, configuration: configuration) { registry in
                try await registry.provider(for: ModelRef(provider: "local", model: "m"))
                    .reply(to: RegistryHarness.request("local", "m", format: Self.format))
            }
            #expect(reply.structuredMode == "prompt")
            #expect(server.requests.map(Self.mode) == [nil])
            #expect(Self.lastMessage(try #require(server.lastRequest)).contains(Self.format.schemaJSON))
        }
    }

    @Test func anUnknownDeclaredModeIsABadInputWithItsLocation() throws {
        let error = #expect(throws: ProvidersConfigError.self) {
            try ProvidersConfig.parse(
                text: "providers:\n  - { name: local, base_url: \"http://127.0.0.1:9\", structured: json }\n",
                file: "providers.yaml")
        }
        let diagnostic = try #require(error?.diagnostics.first)
        #expect(diagnostic.description.hasPrefix("providers.yaml:2:"), "\(diagnostic)")
        #expect(diagnostic.description.contains("unknown structured mode"), "\(diagnostic)")
        #expect(diagnostic.hint?.contains("json_schema, json_object, prompt") == true)
    }

    @Test func aServerErrorThatDoesNotNameResponseFormatIsNotAFallback() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeOpenAI.path,
                .json(#"{"error":{"message":"out of memory","type":"server_error"}}"#, status: 500))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) { registry in
                    try await registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                        .complete(RegistryHarness.request("openai", "gpt-4o", format: Self.format))
                }
            }
            #expect(error?.code == .server)
            #expect(server.requests.map(Self.mode) == ["json_schema"])
        }
    }

    @Test func everyCallCarriesAnOutputCapTheEndpointCanSet() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("ok"))
            let configuration = try ProvidersConfig.parse(
                text: "providers:\n  - { name: local, base_url: \"\(server.baseURL)\", max_tokens: 256 }\n")
            try await RegistryHarness.with(server, configuration: configuration) { registry in
                _ = try await registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                    .complete(RegistryHarness.request("openai", "gpt-4o"))
                _ = try await registry.provider(for: ModelRef(provider: "local", model: "m"))
                    .complete(RegistryHarness.request("local", "m"))
                _ = try await registry.provider(for: ModelRef(provider: "local", model: "m"))
                    .complete(RegistryHarness.request("local", "m", params: ModelParams(maxTokens: 99)))
            }
            #expect(server.requests.map { $0.json?["max_tokens"] as? Int } == [4096, 256, 99])
        }
    }
}
