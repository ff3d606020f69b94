// Credential checks, status reporting (names, never values), lazy creation and providers.yaml.

import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import RefinerySyntax
import Testing

@Suite struct RegistryTests {
    private func withRegistry<T: Sendable>(
        _ variables: [String: String], configuration: ProvidersConfig = ProvidersConfig(),
        _ body: (ProviderRegistry) async throws -> T
    ) async throws -> T {
        try await ProviderRegistry.withRegistry(
            environment: ProviderEnvironment(environment: variables), configuration: configuration, logger: quietLogger,
            body)
    }

    @Test func checkCredentialsNamesTheVariablesToSet() async throws {
        let problems = try await withRegistry(["OPENAI_API_KEY": "sk-present-123456", "PATH": "/nonexistent-bin"]) {
            $0.checkCredentials(for: [
                ModelRef(provider: "anthropic", model: "claude-opus-4-6"),
                ModelRef(provider: "openai", model: "gpt-5.4"),
                ModelRef(provider: "anthropic", model: "claude-opus-4-6"),
                ModelRef(provider: "gemini", model: "gemini-2.5-pro"),
                ModelRef(provider: "ollama", model: "llama3.2"), ModelRef(provider: "command", model: "claude"),
            ])
        }
        // A command agent needs no key, but its program: `claude` is not on this PATH.
        #expect(problems.map(\.provider) == ["anthropic", "gemini", "command"])
        #expect(problems.last?.missing == .program("claude", path: "/nonexistent-bin"))
        #expect(problems[0].variables == ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"])
        #expect(problems[0].models == ["claude-opus-4-6"])
        #expect(
            problems[0].description
                == "no credentials for anthropic (claude-opus-4-6): set `ANTHROPIC_API_KEY` or `CLAUDE_CODE_OAUTH_TOKEN` in the environment or .env"
        )
    }

    @Test func missingKeyIsAPermanentMissingCredentialsError() async throws {
        let error = await providerError {
            _ = try await withRegistry([:]) {
                try $0.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-pro"))
            }
        }
        #expect(error?.code == .missingCredentials)
        #expect(error?.isTransient == false)
        #expect(error?.message.contains("`GEMINI_API_KEY` or `GOOGLE_API_KEY`") == true)
    }

    @Test func unknownProviderIsUnknownModel() async throws {
        let error = await providerError {
            _ = try await withRegistry([:]) { try $0.provider(for: ModelRef(provider: "nowhere", model: "m")) }
        }
        #expect(error?.code == .unknownModel)
    }

    @Test func credentialStatusReportsNamesNeverValues() async throws {
        let config = ProvidersConfig(endpoints: [
            EndpointConfig(name: "lab", baseURL: "http://127.0.0.1:1", apiKeyEnv: "LAB_KEY")
        ])
        let statuses = try await withRegistry(
            ["GOOGLE_API_KEY": "AIza-secret-value-1", "OLLAMA_HOST": "h:1"], configuration: config
        ) {
            $0.credentialStatus()
        }
        #expect(
            statuses.map(\.provider) == ["anthropic", "openai", "gemini", "openrouter", "ollama", "command", "lab"])
        let gemini = try #require(statuses.first { $0.provider == "gemini" })
        #expect(gemini.present == ["GOOGLE_API_KEY"])
        #expect(gemini.isReady)
        #expect(statuses.first { $0.provider == "anthropic" }?.isReady == false)
        #expect(statuses.first { $0.provider == "ollama" }?.isReady == true)
        #expect(statuses.first { $0.provider == "ollama" }?.baseURLOverridden == true)
        #expect(statuses.first { $0.provider == "lab" }?.variables == ["LAB_KEY"])
        #expect(!"\(statuses)".contains("AIza-secret-value-1"))
    }

    @Test func providersAreCreatedOncePerProvider() async throws {
        let same = try await withRegistry(["OPENAI_API_KEY": "sk-present-123456"]) { registry in
            let first = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
            let second = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-5"))
            return (first as? OpenAIChatProvider)?.client.provider == (second as? OpenAIChatProvider)?.client.provider
        }
        #expect(same)
    }

    @Test func concurrencyCapFromTheProvidersFileHoldsOnTheWire() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, .delayed(.milliseconds(100), FakeOpenAI.completion("ok")))
            let config = ProvidersConfig(limits: ["openai": ProviderLimits(maxConcurrent: 2)])
            let texts = try await RegistryHarness.with(server, configuration: config) { registry in
                let provider = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                return try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<6 {
                        group.addTask { try await provider.complete(RegistryHarness.request("openai", "gpt-4o")).text }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(texts == Array(repeating: "ok", count: 6))
            #expect(server.requests.count == 6)
            #expect(server.maxInFlight == 2)
        }
    }

    /// A reply saying the request budget is spent pauses the next call until the reset, even
    /// with no limits configured: the call is refused at once as rate-limited with the pause as its
    /// retry hint (the engine backs off holding no slot), never held in the gate where it would keep
    /// other providers' calls waiting.
    @Test func exhaustedRateLimitHeadersPauseTheNextCall() async throws {
        guard case .body(_, _, let text, _) = FakeOpenAI.completion("ok") else {
            Issue.record("FakeOpenAI.completion is not a body")
            return
        }
        let slept = SleepLog()
        let clock = LimiterClock(now: { .zero }, sleep: { slept.add($0) })
        try await FakeServer.run { server in
            server.route(
                FakeOpenAI.path,
                .json(text, headers: ["x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s"]))
            server.route(
                FakeGemini.path("gemini-2.5-pro", "generateContent"),
                FakeGemini.error("busy", status: "UNAVAILABLE", code: 503, headers: ["Retry-After": "7200"]))
            try await ProviderRegistry.withRegistry(
                environment: ProviderEnvironment(environment: RegistryHarness.environment(server)),
                configuration: ProvidersConfig(), logger: quietLogger, clock: clock
            ) { registry in
                let provider = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                _ = try await provider.complete(RegistryHarness.request("openai", "gpt-4o"))
                #expect(slept.values.isEmpty)
                func expectRefused(_ provider: any ModelProvider, _ request: ModelRequest, wait: Double) async {
                    do {
                        _ = try await provider.complete(request)
                        Issue.record("a call during the pause was sent")
                    } catch {
                        #expect((error as? ProviderError)?.code == .rateLimited)
                        #expect((error as? ProviderError)?.retryAfterSeconds == wait)
                    }
                }
                await expectRefused(provider, RegistryHarness.request("openai", "gpt-4o"), wait: 20)
                // A server asking for hours gets at most five minutes of gate pause; the refused call reports
                // the wait the server asked for, not the gate's cap of it (8c104d9).
                let gemini = try registry.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-pro"))
                _ = try? await gemini.complete(RegistryHarness.request("gemini", "gemini-2.5-pro"))
                await expectRefused(gemini, RegistryHarness.request("gemini", "gemini-2.5-pro"), wait: 7200)
                #expect(slept.values.isEmpty)
            }
            #expect(server.requests.count == 2)
        }
    }

    /// `requests_per_minute` and `tokens_per_minute` from the providers file hold on the wire:
    /// the calls past the budget wait on the (injected) clock before they are sent.
    @Test func requestAndTokenBudgetsFromTheProvidersFileDelayCalls() async throws {
        let slept = SleepLog()
        let clock = LimiterClock(now: { .zero }, sleep: { slept.add($0) })
        let config = ProvidersConfig(
            limits: [
                "openai": ProviderLimits(requestsPerMinute: 2),
                "anthropic": ProviderLimits(tokensPerMinute: 60),
            ])
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("ok"))
            server.route(FakeAnthropic.path, FakeAnthropic.message("ok"))
            try await ProviderRegistry.withRegistry(
                environment: ProviderEnvironment(environment: RegistryHarness.environment(server)),
                configuration: config, logger: quietLogger, clock: clock
            ) { registry in
                let openAI = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                for _ in 0..<3 { _ = try await openAI.complete(RegistryHarness.request("openai", "gpt-4o")) }
                // Two requests a minute: the third waits 30 s.
                #expect(slept.values == [.seconds(30)])
                // 60 tokens a minute; "Be brief.\nSay hello" is estimated at 5 tokens a call, so the
                // 13th call in the same instant is the first over budget (one token a second).
                let anthropic = try registry.provider(for: ModelRef(provider: "anthropic", model: "claude-x"))
                for _ in 0..<13 { _ = try await anthropic.complete(RegistryHarness.request("anthropic", "claude-x")) }
                #expect(slept.values == [.seconds(30), .seconds(5)])
            }
            #expect(server.requests.count == 16)
        }
    }

    @Test(arguments: [
        ("127.0.0.1:11434", "http://127.0.0.1:11434"), ("0.0.0.0:9999", "http://127.0.0.1:9999"),
        ("https://ollama.lan", "https://ollama.lan"),
        // As Ollama reads it: no scheme is port 11434 (these were port 80), no host is loopback.
        ("0.0.0.0", "http://127.0.0.1:11434"), ("localhost", "http://localhost:11434"),
        (":11500", "http://127.0.0.1:11500"), ("ollama.lan", "http://ollama.lan:11434"),
        ("[::]:11434", "http://[::1]:11434"), ("::", "http://[::1]:11434"), ("http://ollama.lan", "http://ollama.lan"),
        (" 10.0.0.5 ", "http://10.0.0.5:11434"), ("https://h:8443/ollama", "https://h:8443/ollama"),
    ])
    func ollamaHostBecomesAURL(host: String, url: String) {
        #expect(ProviderRegistry.ollamaBaseURL(host) == url)
    }

    @Test func providersFileParses() throws {
        let config = try ProvidersConfig.parse(
            text: """
                providers:
                  - name: lab
                    base_url: http://gpu:8000/v1
                    api_key_env: LAB_KEY
                    headers: {X-Team: r}
                    max_concurrent: 2
                    requests_per_minute: 30
                  - name: anthropic
                    max_concurrent: 4
                    tokens_per_minute: 100000
                commands:
                  - name: aider
                    argv: [aider, --message-file, "-"]
                    env: [OPENAI_API_KEY]
                """)
        #expect(
            config.endpoints == [
                EndpointConfig(
                    name: "lab", baseURL: "http://gpu:8000/v1", apiKeyEnv: "LAB_KEY", headers: ["X-Team": "r"],
                    limits: ProviderLimits(maxConcurrent: 2, requestsPerMinute: 30))
            ])
        #expect(config.limits["anthropic"] == ProviderLimits(maxConcurrent: 4, tokensPerMinute: 100000))
        #expect(
            config.commands == [
                CommandAgent(name: "aider", argv: ["aider", "--message-file", "-"], environment: ["OPENAI_API_KEY"])
            ])
    }

    @Test func jsonProvidersFileParsesToo() throws {
        let config = try ProvidersConfig.parse(
            text: #"{"providers": [{"name": "local", "base_url": "http://127.0.0.1:8080"}]}"#)
        #expect(config.endpoints.map(\.baseURL) == ["http://127.0.0.1:8080"])
    }

    @Test func providersFileProblemsAreAllReportedWithTheirLocation() throws {
        let error = try #require(throws: ProvidersConfigError.self) {
            try ProvidersConfig.parse(
                text: """
                    providers:
                      - name: x
                        base_url: ftp://x
                        max_concurrent: 0
                        colour: blue
                      - name: openai
                        base_url: http://y
                    extra: 1
                    """,
                file: "providers.yaml")
        }
        #expect(
            error.diagnostics.map(\.message) == [
                "extra: unknown key",
                "providers[0].colour: unknown key",
                "providers[0].max_concurrent: expected a positive whole number",
                "providers[0].base_url: an endpoint needs a `base_url` starting with http:// or https://",
                "providers[1].base_url: `openai` is built in",
            ])
        #expect(error.diagnostics.map { $0.location?.line } == [8, 5, 4, 3, 7])
        #expect(error.diagnostics.map { $0.location?.column } == [1, 5, 21, 15, 15])
        #expect(error.diagnostics.allSatisfy { $0.file == "providers.yaml" })
    }

    @Test func yamlSyntaxErrorsComeBackAsDiagnostics() throws {
        let error = try #require(throws: ProvidersConfigError.self) {
            try ProvidersConfig.parse(text: "providers: [\n", file: "p.yaml")
        }
        #expect(error.diagnostics.first?.file == "p.yaml")
        #expect(error.diagnostics.first?.location != nil)
    }
}
