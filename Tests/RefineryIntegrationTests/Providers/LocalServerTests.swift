// Check against a real OpenAI-compatible server on this machine (Ollama, llama.cpp, vLLM,
// LM Studio). In CI (CI=true) it always runs, against the server .ci/run starts
// (.ci/local-model-server.sh); elsewhere it is skipped unless REFINERY_LOCAL_BASE_URL is set:
//
//   REFINERY_LOCAL_BASE_URL=http://127.0.0.1:11434 REFINERY_LOCAL_MODEL=llama3.2 \
//     swift test --filter LocalServerTests
//
// REFINERY_LOCAL_API_KEY is sent as a Bearer key when the server wants one.

import Foundation
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["REFINERY_LOCAL_BASE_URL"] != nil
            || ProcessInfo.processInfo.environment["CI"] == "true",
        "no local model server: REFINERY_LOCAL_BASE_URL is not set (.ci/run starts one)")
)
struct LocalServerTests {
    /// `body` with the provider of the local server's model (`REFINERY_LOCAL_BASE_URL`, `REFINERY_LOCAL_MODEL`).
    private func withLocalServer<T: Sendable>(
        _ body: (_ provider: any ModelProvider, _ model: ModelRef) async throws -> T
    ) async throws -> T {
        let variables = ProcessInfo.processInfo.environment
        let baseURL = try #require(
            variables["REFINERY_LOCAL_BASE_URL"],
            "CI=true but REFINERY_LOCAL_BASE_URL is not set: .ci/run starts the local model server")
        let model = ModelRef(provider: "local", model: variables["REFINERY_LOCAL_MODEL"] ?? "llama3.2")
        let keyVariable = variables["REFINERY_LOCAL_API_KEY"] == nil ? nil : "REFINERY_LOCAL_API_KEY"
        let config = ProvidersConfig(endpoints: [
            EndpointConfig(name: "local", baseURL: baseURL, apiKeyEnv: keyVariable)
        ])
        return try await ProviderRegistry.withRegistry(
            environment: ProviderEnvironment(environment: variables), configuration: config, logger: quietLogger
        ) { registry in
            try await body(try registry.provider(for: model), model)
        }
    }

    @Test func localServerAnswersWholeAndStreamed() async throws {
        let (whole, streamed) = try await withLocalServer { provider, model in
            let request = ModelRequest(
                model: model, messages: [ChatMessage(role: .user, content: "Reply with the single word: pong")],
                params: ModelParams(temperature: 0, maxTokens: 20), timeoutSeconds: 300)
            return (try await provider.complete(request), try await collect(provider.stream(request)))
        }
        #expect(!whole.text.isEmpty)
        #expect(whole.usage.outputTokens > 0)
        #expect(streamed.reply?.text == streamed.deltas.joined())
        #expect(!streamed.deltas.isEmpty)
    }

    /// A prompt over the server's context is refused with the server's reason, as a request it will not serve
    /// (`bad_request`, no retry): llama-cpp-python's server answers such a streamed request with an empty
    /// stream, which was all the run said ("local sent an empty stream"); asked whole on the connection it then
    /// closes, it is asked once more. A server that truncates the prompt instead (Ollama) answers.
    @Test func aPromptOverTheContextIsRefusedWithTheServersReason() async throws {
        do {
            let reply = try await withLocalServer { provider, model in
                try await provider.reply(
                    to: ModelRequest(
                        model: model,
                        messages: [ChatMessage(role: .user, content: String(repeating: "word ", count: 12_000))],
                        params: ModelParams(temperature: 0, maxTokens: 8), timeoutSeconds: 300))
            }
            #expect(!reply.text.isEmpty)
        } catch let error as ProviderError {
            #expect(error.code == .badRequest, "\(error)")
            #expect(error.message.contains("context"), "\(error)")
        }
    }
}
