// The engine's calls stream by default: replies assembled from server-sent events, usage read
// from the stream (or estimated and marked when a server such as llama.cpp's sends none), a
// stalled stream failing on the idle timeout rather than the call's total timeout, a dropped
// stream retried, and `stream: false` in providers.yaml sending a whole-reply request.

import Foundation
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import RefinerySyntax
import Synchronization
import Testing

@Suite struct StreamingTests {
    /// One member answering once, with room for retries.
    static func workflow(_ model: String = "openai/gpt-4o", timeout: String = "30s") throws -> Workflow {
        let yaml = """
            refinery: 1
            name: one-answer
            models: [\(model)]
            stages: [propose]
            limits: { timeout: \(timeout), retries: 2 }
            """
        let result = WorkflowCompiler().compile(yaml: yaml, displayName: "one-answer.yaml")
        return try #require(result.workflow, "\(result.diagnostics)")
    }

    static func run(
        _ server: FakeServer, configuration: ProvidersConfig = ProvidersConfig(), workflow: Workflow? = nil
    ) async throws -> RunOutcome {
        let workflow = try workflow ?? Self.workflow()
        return try await RegistryHarness.with(server, configuration: configuration) { registry in
            try await Engine(workflow: workflow, providers: registry, configuration: EngineConfiguration(seed: 1))
                .run("Say hello")
        }
    }

    @Test(arguments: ["openai/gpt-4o", "anthropic/claude-x", "gemini/gemini-2.5-pro"])
    func engineCallsStreamAndAssembleTheAnswer(model: String) async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.stream(["Hel", "lo ", "world"]))
            server.route(FakeAnthropic.path, FakeAnthropic.stream(["Hel", "lo ", "world"]))
            server.route(
                FakeGemini.path("gemini-2.5-pro", "streamGenerateContent"), FakeGemini.stream(["Hel", "lo ", "world"]))
            let outcome = try await Self.run(server, workflow: Self.workflow(model))
            #expect(outcome.answers.first?.answer == "Hello world")
            let request = try #require(server.lastRequest)
            #expect(request.header("accept") == "text/event-stream")
            if model.hasPrefix("gemini") {
                #expect(request.path.hasSuffix(":streamGenerateContent"))
                #expect(request.query == "alt=sse")
            } else {
                #expect(request.json?["stream"] as? Bool == true)
            }
            // Usage comes from the stream's own counts, not an estimate.
            #expect(!outcome.usage.isEstimated)
            let expected = [
                "openai": TokenUsage(inputTokens: 9, outputTokens: 4),
                "anthropic": TokenUsage(inputTokens: 25, outputTokens: 15),
                "gemini": TokenUsage(inputTokens: 10, outputTokens: 20),
            ]
            #expect(outcome.usage == expected[String(model.prefix { $0 != "/" })])
        }
    }

    @Test func usageIsEstimatedAndMarkedWhenTheStreamHasNone() async throws {
        try await FakeServer.run { server in
            // llama.cpp's server: no usage chunk even when `include_usage` is asked for.
            server.route(FakeOpenAI.path, FakeOpenAI.stream(["Hello there, world"], usage: false))
            let outcome = try await Self.run(server)
            #expect(outcome.answers.first?.answer == "Hello there, world")
            #expect(outcome.usage.isEstimated)
            #expect(outcome.usage.outputTokens == 5)  // 18 characters at four a token
            #expect(outcome.usage.inputTokens > 0)
            #expect((server.lastRequest?.json?["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        }
    }

    @Test func aStalledStreamFailsOnTheIdleTimeoutNotTheTotalTimeout() async throws {
        try await FakeServer.run { server in
            // The server sends the first events, then nothing for 60 s.
            server.route(
                FakeOpenAI.path,
                .stream(
                    chunks: FakeOpenAI.chunks(["Hel", "lo"]).prefix(2).map(FakeReply.frame),
                    pause: .seconds(60)))
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, idle_timeout: 500ms }")
            let started = ContinuousClock.now
            let error = await providerError {
                _ = try await RegistryHarness.with(server, configuration: config) {
                    try await $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).reply(
                        to: RegistryHarness.request("openai", "gpt-4o", timeout: 30))
                }
            }
            let elapsed = ContinuousClock.now - started
            #expect(error?.code == .timeout)
            #expect(error?.isTransient == true)
            #expect(error?.message.contains("idle timeout") == true)
            #expect(elapsed < .seconds(10), "waited \(elapsed): the total timeout, not the idle timeout")
        }
    }

    @Test func aStreamThatKeepsArrivingOutlivesTheIdleTimeout() async throws {
        try await FakeServer.run { server in
            // Eight events 500 ms apart: 4 s in all, twice the 2 s idle timeout, each gap a quarter of it (a
            // loaded machine stretched 300 ms gaps past a 1 s timeout).
            server.route(FakeOpenAI.path, FakeOpenAI.sseReply(["a", "b", "c"], pause: .milliseconds(500)))
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, idle_timeout: 2 }")
            let reply = try await RegistryHarness.with(server, configuration: config) {
                try await $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).reply(
                    to: RegistryHarness.request("openai", "gpt-4o", timeout: 30))
            }
            #expect(reply.text == "abc")
        }
    }

    /// A reply that has begun and then trickles keep-alive comments forever (one every 100 ms): the
    /// idle limit never passes, and the call's deadline ends it, whole exchange included.
    static func trickling(_ server: FakeServer) {
        server.route(
            FakeOpenAI.path,
            .stream(
                chunks: FakeOpenAI.chunks(["Hel"], done: false).prefix(2).map(FakeReply.frame)
                    + Array(repeating: ": still thinking\n\n", count: 600),
                pause: .milliseconds(100)))
    }

    @Test func aStreamThatTricklesForeverFailsAtTheCallsDeadline() async throws {
        try await FakeServer.run { server in
            Self.trickling(server)
            // Comments every 100 ms against a 2.5 s idle limit (a loaded machine once stalled 1 s between two),
            // and a 4 s deadline past it: the comments keep the stream alive, the deadline ends it.
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, idle_timeout: 2.5 }")
            let started = ContinuousClock.now
            let error = await providerError {
                _ = try await RegistryHarness.with(server, configuration: config) {
                    try await $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).reply(
                        to: RegistryHarness.request("openai", "gpt-4o", timeout: 4))
                }
            }
            let elapsed = ContinuousClock.now - started
            #expect(error?.code == .timeout)
            #expect(error?.message.contains("did not answer within 4 s") == true, "\(String(describing: error))")
            #expect(elapsed < .seconds(10), "waited \(elapsed): the stream, not the call's deadline, ended it")
        }
    }

    @Test func theEnginesDeadlineEndsAStreamThatTricklesForever() async throws {
        try await FakeServer.run { server in
            Self.trickling(server)
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, idle_timeout: 2.5 }")
            let failures = Mutex<[String]>([])
            let started = ContinuousClock.now
            _ = try? await RegistryHarness.with(server, configuration: config) { registry in
                try await Engine(
                    workflow: Self.workflow(timeout: "1s"), providers: registry,
                    configuration: EngineConfiguration(seed: 1)
                ).run("Say hello") { event in
                    switch event {
                    case .callRetried(let call), .callFailed(let call):
                        failures.withLock { $0.append("\(call.errorCode ?? "") \(call.error ?? "")") }
                    default: break
                    }
                }
            }
            let elapsed = ContinuousClock.now - started
            // Three attempts (two retries), each ended by the 1 s deadline, not by the idle limit.
            let seen = failures.withLock { $0 }
            #expect(seen.count == 3, "\(seen)")
            #expect(seen.allSatisfy { $0.hasPrefix("timeout") && $0.contains("No reply within 1 s") }, "\(seen)")
            #expect(server.requests.count == 3)
            #expect(elapsed < .seconds(20), "waited \(elapsed)")
        }
    }

    @Test func aDroppedStreamIsRetried() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeOpenAI.path, .cutStream(chunks: FakeOpenAI.chunks(["Hel"]).prefix(2).map(FakeReply.frame)),
                FakeOpenAI.stream(["Hello"]))
            let outcome = try await Self.run(server)
            #expect(outcome.answers.first?.answer == "Hello")
            #expect(server.requests.count == 2)
            #expect(server.requests.allSatisfy { $0.json?["stream"] as? Bool == true })
        }
    }

    /// A base URL that names a web page (a server's web interface, a proxy's login page) answers a streaming
    /// request with `200 text/html`: that is said, with the page's start, not taken for a stream that ended
    /// early (`truncated: … stream ended before the reply was complete`).
    @Test func aWebPageInsteadOfAStreamIsNamed() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeOpenAI.path,
                .body(contentType: "text/html; charset=utf-8", text: "<!doctype html><title>Open WebUI</title>"))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await collect(
                        $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).stream(
                            RegistryHarness.request("openai", "gpt-4o")))
                }
            }
            #expect(error?.code == .invalidResponse)
            #expect(
                error?.message
                    == #"openai answered a streaming request with a web page (text/html, title "Open WebUI"), "#
                    + "not events; check the base URL", "\(String(describing: error))")
        }
    }

    /// A stream cut short with `[DONE]` and no finish reason (llama-cpp-python interrupting it for another
    /// request) says what happened and what to do, not only that the stream ended early.
    @Test func doneWithoutAFinishReasonNamesTheCauseAndTheCure() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, .sse(Array(FakeOpenAI.chunks(["Once upon"]).prefix(2)) + [(nil, "[DONE]")]))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await collect(
                        $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).stream(
                            RegistryHarness.request("openai", "gpt-4o")))
                }
            }
            #expect(error?.code == .truncated)
            #expect(
                error?.message.contains("`[DONE]` came without a finish reason") == true, "\(String(describing: error))"
            )
            #expect(error?.message.contains("`max_concurrent: 1`") == true)
        }
    }

    @Test func streamFalseSendsAWholeReplyRequest() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("Hello"))
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, stream: false }")
            let outcome = try await Self.run(server, configuration: config)
            #expect(outcome.answers.first?.answer == "Hello")
            #expect(outcome.usage == TokenUsage(inputTokens: 11, outputTokens: 5))
            let request = try #require(server.lastRequest)
            #expect(request.header("accept") == "application/json")
            #expect(request.json?["stream"] == nil)
            #expect(request.json?["stream_options"] == nil)
        }
    }

    @Test(arguments: [
        ("stream: maybe", "expected `true` or `false`"),
        ("idle_timeout: 0", "expected a duration"),
        ("idle_timeout: soon", "expected a duration"),
    ])
    func badStreamingKeysAreLocatedErrors(entry: String, message: String) throws {
        let text = "providers:\n  - name: local\n    base_url: http://127.0.0.1:1\n    \(entry)\n"
        let error = #expect(throws: ProvidersConfigError.self) { try ProvidersConfig.parse(text: text, file: "p.yaml") }
        let diagnostic = try #require(error?.diagnostics.first)
        #expect(diagnostic.message.contains(message))
        #expect(diagnostic.location?.line == 4)
    }
}
