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
    @Test func localServerAnswersWholeAndStreamed() async throws {
        let variables = ProcessInfo.processInfo.environment
        let baseURL = try #require(
            variables["REFINERY_LOCAL_BASE_URL"],
            "CI=true but REFINERY_LOCAL_BASE_URL is not set: .ci/run starts the local model server")
        let model = ModelRef(provider: "local", model: variables["REFINERY_LOCAL_MODEL"] ?? "llama3.2")
        let keyVariable = variables["REFINERY_LOCAL_API_KEY"] == nil ? nil : "REFINERY_LOCAL_API_KEY"
        let config = ProvidersConfig(endpoints: [
            EndpointConfig(name: "local", baseURL: baseURL, apiKeyEnv: keyVariable)
        ])
        let request = ModelRequest(
            model: model, messages: [ChatMessage(role: .user, content: "Reply with the single word: pong")],
            params: ModelParams(temperature: 0, maxTokens: 20), timeoutSeconds: 300)
        let (whole, streamed) = try await ProviderRegistry.withRegistry(
            environment: ProviderEnvironment(environment: variables), configuration: config, logger: quietLogger
        ) { registry in
            let provider = try registry.provider(for: model)
            return (try await provider.complete(request), try await collect(provider.stream(request)))
        }
        #expect(!whole.text.isEmpty)
        #expect(whole.usage.outputTokens > 0)
        #expect(streamed.reply?.text == streamed.deltas.joined())
        #expect(!streamed.deltas.isEmpty)
    }
}
