// Planted keys must appear nowhere: not in debug/trace logs of requests and replies, not in
// errors, even when a server echoes the key back.

import Logging
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

@Suite struct RedactionTests {
    @Test func plantedKeysNeverReachLogsOrErrors() async throws {
        let capture = LogCapture()
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.stream(["fine"]))
            server.route(
                FakeAnthropic.path,
                FakeAnthropic.error(
                    "authentication_error", "invalid x-api-key \(RegistryHarness.anthropicKey)", status: 401))
            server.route(FakeGemini.path("gemini-2.5-pro", "generateContent"), FakeGemini.reply("ok"))
            let errors = try await RegistryHarness.with(server, logger: capture.logger(level: .trace)) { registry in
                _ = try await collect(
                    registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).stream(
                        RegistryHarness.request("openai", "gpt-4o")))
                _ = try await registry.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-pro")).complete(
                    RegistryHarness.request("gemini", "gemini-2.5-pro"))
                let error = await providerError {
                    _ = try await registry.provider(for: ModelRef(provider: "anthropic", model: "claude-x")).complete(
                        RegistryHarness.request("anthropic", "claude-x"))
                }
                return [error.map { "\($0)" } ?? "", registry.redactor.redact("echo \(RegistryHarness.openAIKey)")]
            }
            // The keys did travel to the server...
            #expect(server.requests.map(\.fullText).joined().contains(RegistryHarness.anthropicKey))
            // ...but appear in no log line and no error.
            let logs = capture.text
            #expect(capture.count >= 6)
            for key in [RegistryHarness.anthropicKey, RegistryHarness.openAIKey, RegistryHarness.geminiKey] {
                #expect(!logs.contains(key))
                #expect(!errors.joined().contains(key))
            }
            #expect(logs.contains("x-api-key: [REDACTED]"))
            #expect(logs.contains("authorization: [REDACTED]"))
            #expect(logs.contains("x-goog-api-key: [REDACTED]"))
            #expect(errors[0].contains("invalid x-api-key [REDACTED]"))
            #expect(errors[1] == "echo [REDACTED]")
        }
    }

    @Test func printingARedactorOrAnEnvironmentShowsNoSecret() {
        let secret = "sk-never-printed-123"
        let redactor = Redactor(secrets: [secret])
        let environment = ProviderEnvironment(environment: ["OPENAI_API_KEY": secret])
        var dumped = ""
        dump(redactor, to: &dumped)
        dump(environment, to: &dumped)
        let printed = [
            "\(redactor)", String(reflecting: redactor), "\(environment)", String(reflecting: environment), dumped,
        ]
        #expect(!printed.joined().contains(secret))
        #expect(printed[0] == "Redactor(1 secrets)")
        #expect(printed[2] == "ProviderEnvironment(OPENAI_API_KEY)")
    }

    @Test(arguments: [
        ("key sk-secret-123456 leaked", "key [REDACTED] leaked"),
        ("https://x/v1?alt=sse&key=AIzaXYZ&b=1", "https://x/v1?alt=sse&key=[REDACTED]&b=1"),
        ("https://x/?access_token=abc#frag", "https://x/?access_token=[REDACTED]#frag"),
        ("nothing to hide", "nothing to hide"),
    ])
    func redactorHidesSecretsAndQueryCredentials(input: String, expected: String) {
        #expect(Redactor(secrets: ["sk-secret-123456", "abc"]).redact(input) == expected)
    }

    @Test(arguments: [
        ("Authorization", true), ("x-api-key", true), ("X-Goog-Api-Key", true), ("x-auth-token", true),
        ("anthropic-version", false), ("content-type", false),
    ])
    func sensitiveHeadersAreRecognised(name: String, sensitive: Bool) {
        #expect(Redactor.isSensitiveHeader(name) == sensitive)
    }
}
