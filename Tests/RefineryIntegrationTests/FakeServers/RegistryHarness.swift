// Builds a ProviderRegistry pointed at a fake server, so a test sets only what it checks.

import Logging
import RefineryCompiler
import RefineryProviders
import RefineryRuntime

enum RegistryHarness {
    /// Fake credentials planted in tests; real keys never are.
    static let anthropicKey = "sk-ant-test-PLANTED-0123456789"
    static let openAIKey = "sk-test-PLANTED-abcdefghijkl"
    static let geminiKey = "AIza-test-PLANTED-zyxwvutsrq"

    /// Environment pointing every built-in provider at `server`.
    static func environment(_ server: FakeServer, extra: [String: String] = [:]) -> [String: String] {
        [
            "ANTHROPIC_API_KEY": anthropicKey, "ANTHROPIC_BASE_URL": server.baseURL,
            "OPENAI_API_KEY": openAIKey, "OPENAI_BASE_URL": server.baseURL,
            "GEMINI_API_KEY": geminiKey, "GEMINI_BASE_URL": server.baseURL,
            "OLLAMA_HOST": "127.0.0.1:\(server.port)",
        ].merging(extra) { _, new in new }
    }

    static func with<T: Sendable>(
        _ server: FakeServer, extra: [String: String] = [:], configuration: ProvidersConfig = ProvidersConfig(),
        logger: Logger = quietLogger, _ body: (ProviderRegistry) async throws -> T
    ) async throws -> T {
        try await ProviderRegistry.withRegistry(
            environment: ProviderEnvironment(environment: environment(server, extra: extra)),
            configuration: configuration,
            logger: logger, body)
    }

    static func request(
        _ provider: String, _ model: String, system: String? = "Be brief.", prompt: String = "Say hello",
        params: ModelParams = ModelParams(), format: ResponseFormat? = nil, timeout: Double? = 10
    ) -> ModelRequest {
        ModelRequest(
            model: ModelRef(provider: provider, model: model), system: system,
            messages: [ChatMessage(role: .user, content: prompt)], params: params, responseFormat: format,
            timeoutSeconds: timeout)
    }
}

/// Runs `request` through `stream` and returns the deltas and the finished reply.
func collect(_ stream: AsyncThrowingStream<ModelStreamEvent, any Error>) async throws -> (
    deltas: [String], reply: ModelReply?
) {
    var deltas: [String] = []
    var reply: ModelReply?
    for try await event in stream {
        switch event {
        case .delta(let text): deltas.append(text)
        case .finished(let finished): reply = finished
        }
    }
    return (deltas, reply)
}

/// The `ProviderError` thrown by `body`, or `nil`.
func providerError(_ body: () async throws -> Void) async -> ProviderError? {
    do {
        try await body()
        return nil
    } catch let error as ProviderError {
        return error
    } catch {
        return ProviderError(code: .server, message: "unexpected error type: \(error)", provider: "test")
    }
}
