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

    /// Errors read from a reply body rather than an HTTP status: an `error` event mid-stream, an
    /// `error` object in a 200 JSON reply, a JSON error answering a streaming request.
    static let echoedErrors: [(String, FakeReply, Bool)] = [
        (
            "anthropic",
            .sse([
                ("message_start", #"{"type":"message_start","message":{"model":"m","usage":{"input_tokens":1}}}"#),
                (
                    "error",
                    #"{"type":"error","error":{"type":"overloaded_error","message":"key \#(RegistryHarness.anthropicKey)"}}"#
                ),
            ]), true
        ),
        (
            "openai",
            .json(#"{"error":{"type":"server_error","message":"bad key \#(RegistryHarness.openAIKey)"}}"#), false
        ),
        (
            "openai",
            .json(#"{"error":{"type":"rate_limit_exceeded","message":"for \#(RegistryHarness.openAIKey)"}}"#), true
        ),
        (
            "gemini",
            .stream(chunks: [#"data: {"error":{"status":"UNAVAILABLE","message":"k=\#(RegistryHarness.geminiKey)"}}"# + "\n\n"]),
            true
        ),
    ]

    @Test(arguments: 0..<echoedErrors.count)
    func keysEchoedInReplyErrorsAreRedacted(index: Int) async throws {
        let (provider, reply, stream) = Self.echoedErrors[index]
        let model = ModelRef(provider: provider, model: provider == "gemini" ? "gemini-2.5-pro" : "m")
        let path =
            switch provider {
            case "anthropic": FakeAnthropic.path
            case "openai": FakeOpenAI.path
            default: FakeGemini.path("gemini-2.5-pro", "streamGenerateContent")
            }
        let capture = LogCapture()
        try await FakeServer.run { server in
            server.route(path, reply)
            let error = await providerError {
                try await RegistryHarness.with(server, logger: capture.logger(level: .trace)) { registry in
                    let request = RegistryHarness.request(provider, model.model)
                    let chosen = try registry.provider(for: model)
                    if stream { _ = try await collect(chosen.stream(request)) } else { _ = try await chosen.complete(request) }
                }
            }
            let caught = try #require(error)
            #expect(caught.message.contains("[REDACTED]"), "\(caught)")
            let context = stream ? (provider == "openai" ? "instead of a stream" : "mid-stream") : "in its reply"
            #expect(caught.message.hasPrefix("\(provider) reported an error \(context): "), "\(caught)")
            for key in [RegistryHarness.anthropicKey, RegistryHarness.openAIKey, RegistryHarness.geminiKey] {
                #expect(!"\(caught)".contains(key))
                #expect(!capture.text.contains(key))
            }
        }
    }

    /// A redirect is never followed: AsyncHTTPClient would forward `x-api-key` and
    /// `x-goog-api-key` (it strips only `Authorization`) to whatever host the reply names.
    @Test(arguments: [("anthropic", "claude-x"), ("gemini", "gemini-2.5-pro"), ("openai", "gpt-4o")])
    func redirectsAreNotFollowed(provider: String, model: String) async throws {
        try await FakeServer.run { server in
            let target = "http://localhost:\(server.port)/steal?key=\(RegistryHarness.geminiKey)"
            let redirect = FakeReply.body(status: 307, contentType: "text/plain", text: "", headers: ["Location": target])
            for path in [FakeAnthropic.path, FakeOpenAI.path, FakeGemini.path(model, "generateContent")] {
                server.route(path, redirect)
            }
            server.route("/steal", FakeOpenAI.completion("stolen"))
            let error = await providerError {
                try await RegistryHarness.with(server) { registry in
                    _ = try await registry.provider(for: ModelRef(provider: provider, model: model)).complete(
                        RegistryHarness.request(provider, model))
                }
            }
            let caught = try #require(error)
            #expect(caught.code == .invalidResponse)
            #expect(caught.statusCode == 307)
            #expect(caught.message.contains("answered with a redirect (HTTP 307)"))
            #expect(caught.message.contains("key=[REDACTED]"))
            #expect(server.requests.map(\.path) == [server.requests.first?.path ?? ""])
            #expect(!server.requests.contains { $0.path == "/steal" })
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
        ("https://db/?user=u&password=hunter22&x=1", "https://db/?user=u&password=[REDACTED]&x=1"),
        ("https://blob/f?sv=1&sig=AbC%2Bd", "https://blob/f?sv=1&sig=[REDACTED]"),
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
