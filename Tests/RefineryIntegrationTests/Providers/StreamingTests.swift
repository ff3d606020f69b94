// The engine's calls stream by default: replies assembled from server-sent events, usage read
// from the stream (or estimated and marked when a server such as llama.cpp's sends none), a
// stalled stream failing on the idle timeout rather than the call's total timeout, a dropped
// stream retried, and `stream: false` in providers.yaml sending a whole-reply request.

import Foundation
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import RefinerySyntax
import RefineryTestSupport
import Testing

@Suite struct StreamingTests {
    /// One member answering once, with room for retries.
    static func workflow(_ model: String = "openai/gpt-4o", timeout: String = "30s", retries: Int = 2) throws
        -> Workflow
    {
        let yaml = """
            refinery: 1
            name: one-answer
            models: [\(model)]
            stages: [propose]
            limits: { timeout: \(timeout), retries: \(retries) }
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

    /// Proves the idle limit ends a stream that stalls, with its own error, not the total timeout's.
    /// It may take real time, with nothing to race: the server sends nothing more for 60 s, so no
    /// wait of the test's or the server's can end the stall before the limit does, whatever the load,
    /// and the message, not a stopwatch, tells the idle limit from the 30 s total timeout.
    @Test func aStalledStreamFailsOnTheIdleTimeoutNotTheTotalTimeout() async throws {
        try await FakeServer.run { server in
            // The server sends the first events, then nothing for 60 s.
            server.route(
                FakeOpenAI.path,
                .stream(
                    chunks: FakeOpenAI.chunks(["Hel", "lo"]).prefix(2).map(FakeReply.frame),
                    pause: .seconds(60)))
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, idle_timeout: 500ms }")
            let error = await providerError {
                _ = try await RegistryHarness.with(server, configuration: config) {
                    try await $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).reply(
                        to: RegistryHarness.request("openai", "gpt-4o", timeout: 30))
                }
            }
            #expect(error?.code == .timeout)
            #expect(error?.isTransient == true)
            #expect(error?.message.contains("idle timeout") == true, "\(String(describing: error))")
        }
    }

    /// The first frames of a reply that has begun: its role chunk and a first piece, `Hel`.
    static let begun = FakeOpenAI.chunks(["Hel"], done: false).prefix(2).map(FakeReply.frame)

    /// The openai provider of `registry`, telling `told` each piece of text as its call reads it:
    /// a piece is told after it pushed the call's idle limit back, so a test that has heard it may
    /// move the run's clock.
    struct Telling: ModelProvider {
        let provider: any WireProtocolProvider
        let told: AsyncStream<String>.Continuation

        init(_ registry: ProviderRegistry, told: AsyncStream<String>.Continuation) throws {
            provider = try #require(
                try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o")) as? any WireProtocolProvider)
            self.told = told
        }

        func complete(_ request: ModelRequest) async throws -> ModelReply {
            try await provider.complete(request)
        }

        func reply(to request: ModelRequest) async throws -> ModelReply {
            try await provider.streamedReply(request, onDelta: { told.yield($0) })
        }
    }

    /// The engine running `workflow` through `provider` on `clock`: the call's deadline and idle
    /// limit are measured on the test's clock, so only the test moves them.
    static func engine(_ workflow: Workflow, _ provider: Telling, clock: TestClock) -> Engine {
        Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: EngineConfiguration(seed: 1, clock: clock))
    }

    /// Proves each piece of a streamed reply pushes the idle limit back, so a reply that keeps
    /// arriving outlives the limit: pieces 1.5 s apart against a 2 s limit, 4.5 s in all. Time is the
    /// run's test clock, moved by the test only once the call has read the piece before (the piece is
    /// told) and the run's timer has looked again: the server's pace and the machine's load do not
    /// enter. The timer re-arms at 3.5 s and 5 s only if the pieces at 1.5 s and 3 s pushed the limit
    /// back; without them it ends the call at 2 s (and the test, waiting for the re-arm, fails on its
    /// time limit).
    @Test(.timeLimit(.minutes(1)))
    func aStreamThatKeepsArrivingOutlivesTheIdleTimeout() async throws {
        let (more, feed) = AsyncStream.makeStream(of: String.self)
        let frames = FakeOpenAI.chunks(["a", "b", "c"]).map(FakeReply.frame)
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, .fed(chunks: Array(frames.prefix(2)), more: more))
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, idle_timeout: 2 }")
            let clock = TestClock()
            let (pieces, told) = AsyncStream.makeStream(of: String.self)
            let outcome = try await RegistryHarness.with(server, configuration: config) { registry throws in
                let engine = Self.engine(try Self.workflow(retries: 0), try Telling(registry, told: told), clock: clock)
                async let outcome = engine.run("Say hello")
                var heard = pieces.makeAsyncIterator()
                #expect(await heard.next() == "a")
                // The idle watch started with the reply, at 0 s.
                await clock.waitUntil { $0.contains(.seconds(2)) }
                clock.advance(by: .milliseconds(1500))
                // "b" at 1.5 s, then past the first limit (2 s) at 3 s, the timer sleeps until 3.5 s; "c" at
                // 3 s, then at 4.5 s, past 3.5 s, until 5 s.
                for (index, rearm) in [Duration.milliseconds(3500), .seconds(5)].enumerated() {
                    feed.yield(frames[index + 2])
                    #expect(await heard.next() == ["b", "c"][index])
                    clock.advance(by: .milliseconds(1500))
                    await clock.waitUntil { $0.contains(rearm) }
                }
                for frame in frames.dropFirst(4) { feed.yield(frame) }
                feed.finish()
                return try await outcome
            }
            #expect(outcome.answers.map(\.answer) == ["abc"])
        }
    }

    /// Proves the call's own deadline (a provider called outside the engine) ends a reply that has
    /// begun and never ends, the whole exchange bounded, not only its first byte. Real time with
    /// nothing to race: the server never ends the reply, and the idle limit (60 s by default) is far
    /// past the 1 s deadline; the message, not a stopwatch, says the deadline ended it.
    @Test func aStreamThatNeverEndsFailsAtTheCallsDeadline() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, .hold(limit: .seconds(120), chunks: Self.begun))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).reply(
                        to: RegistryHarness.request("openai", "gpt-4o", timeout: 1))
                }
            }
            #expect(error?.code == .timeout)
            #expect(error?.message.contains("did not answer within 1 s") == true, "\(String(describing: error))")
        }
    }

    /// Proves the engine's deadline ends a streamed reply that has begun and never ends, and the call
    /// is retried with a fresh request: three attempts (two retries), each ended by the 1 s deadline,
    /// on the run's test clock. The test moves the clock to an attempt's deadline only once the
    /// attempt's reply has begun (its first piece told), and past a retry's backoff only once the run
    /// sleeps on it, so every attempt reaches the server however slow the machine is.
    @Test(.timeLimit(.minutes(1)))
    func theEnginesDeadlineEndsAStreamThatNeverEnds() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, .hold(limit: .seconds(120), chunks: Self.begun))
            let clock = TestClock()
            let (pieces, told) = AsyncStream.makeStream(of: String.self)
            let (failures, failed) = AsyncStream.makeStream(of: String.self)
            try await RegistryHarness.with(server) { registry throws in
                let workflow = try Self.workflow(timeout: "1s")
                let engine = Self.engine(workflow, try Telling(registry, told: told), clock: clock)
                async let run = engine.run("Say hello") { event in
                    switch event {
                    case .callRetried(let call), .callFailed(let call):
                        failed.yield("\(call.errorCode ?? "") \(call.error ?? "")")
                    default: break
                    }
                }
                var heard = pieces.makeAsyncIterator()
                for attempt in 1...3 {
                    #expect(await heard.next() == "Hel")
                    // The run's timer, asleep until the attempt's deadline.
                    await clock.waitForSleepers(1)
                    clock.advanceToNextDeadline()
                    guard attempt < 3 else { break }
                    // The retry's backoff.
                    await clock.waitForSleepers(1)
                    clock.advanceToNextDeadline()
                }
                _ = try? await run
            }
            // Every event reached the listener before the run returned.
            failed.finish()
            var seen: [String] = []
            for await failure in failures { seen.append(failure) }
            #expect(seen.count == 3, "\(seen)")
            #expect(seen.allSatisfy { $0.hasPrefix("timeout") && $0.contains("No reply within 1 s") }, "\(seen)")
            #expect(server.requests.count == 3)
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

    /// A stream that breaks after its reply was whole: garbage after the end, or the connection dropped
    /// before the chunked body's last chunk (a proxy's "incomplete chunked read").
    struct BrokenTail: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var model: String
        var path: String
        var reply: FakeReply
        var again: FakeReply
    }

    static let brokenTails: [BrokenTail] = {
        let garbage = "data: {\"type\":\"mess\n\n"
        let anthropic = FakeAnthropic.events(["Hel", "lo"]).map(FakeReply.frame)
        let openAI = FakeOpenAI.chunks(["Hel", "lo"], done: false).map(FakeReply.frame)
        let gemini = FakeGemini.path("gemini-2.5-pro", "streamGenerateContent")
        let geminiEvents = [
            #"{"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"finishReason":"STOP","index":0}],"#
                + #""usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":20}}"#
        ].map { FakeReply.frame((nil, $0)) }
        return [
            BrokenTail(
                testDescription: "anthropic: garbage after message_stop", model: "anthropic/claude-x",
                path: FakeAnthropic.path, reply: .stream(chunks: anthropic + [garbage]),
                again: FakeAnthropic.stream(["Other"])),
            BrokenTail(
                testDescription: "anthropic: connection dropped after message_stop", model: "anthropic/claude-x",
                path: FakeAnthropic.path, reply: .cutStream(chunks: anthropic), again: FakeAnthropic.stream(["Other"])),
            BrokenTail(
                testDescription: "anthropic: connection dropped after message_delta's stop reason",
                model: "anthropic/claude-x", path: FakeAnthropic.path,
                reply: .cutStream(chunks: Array(anthropic.dropLast())), again: FakeAnthropic.stream(["Other"])),
            BrokenTail(
                testDescription: "anthropic: body ended after message_delta's stop reason", model: "anthropic/claude-x",
                path: FakeAnthropic.path, reply: .stream(chunks: Array(anthropic.dropLast())),
                again: FakeAnthropic.stream(["Other"])),
            BrokenTail(
                testDescription: "openai: garbage after the usage chunk", model: "openai/gpt-4o", path: FakeOpenAI.path,
                reply: .stream(chunks: openAI + [garbage]), again: FakeOpenAI.stream(["Other"])),
            BrokenTail(
                testDescription: "openai: connection dropped before [DONE]", model: "openai/gpt-4o",
                path: FakeOpenAI.path, reply: .cutStream(chunks: openAI), again: FakeOpenAI.stream(["Other"])),
            BrokenTail(
                testDescription: "gemini: garbage after the finish reason", model: "gemini/gemini-2.5-pro",
                path: gemini, reply: .stream(chunks: geminiEvents + [garbage]), again: FakeGemini.stream(["Other"])),
        ]
    }()

    /// A reply that was whole before its stream broke is the answer, asked for once: it failed as
    /// `invalid_response` (garbage after the end) or `truncated` (the connection dropped after it) and the engine
    /// asked again, paying for the same reply twice.
    @Test(arguments: brokenTails)
    func aReplyWholeBeforeItsStreamBrokeIsTakenOnce(tail: BrokenTail) async throws {
        try await FakeServer.run { server in
            server.route(tail.path, tail.reply, tail.again)
            let outcome = try await Self.run(server, workflow: Self.workflow(tail.model))
            #expect(outcome.answers.first?.answer == "Hello")
            #expect(server.requests.count == 1)
            #expect(outcome.coverage.degraded == false)
        }
    }

    /// A stream whose server goes silent after the reply's end, holding the connection open: after its terminal
    /// event (Anthropic's `message_stop`, OpenAI's `[DONE]` or the usage chunk before it, Gemini's chunk with a
    /// finish reason), or after OpenAI's finish reason with the usage chunk and `[DONE]` never coming.
    static let stalledTails: [BrokenTail] = {
        let hold = Duration.seconds(120)
        let anthropic = FakeAnthropic.events(["Hel", "lo"]).map(FakeReply.frame)
        let gemini = FakeGemini.path("gemini-2.5-pro", "streamGenerateContent")
        let geminiEvents = [
            #"{"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"finishReason":"STOP","index":0}],"#
                + #""usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":20}}"#
        ].map { FakeReply.frame((nil, $0)) }
        func openAI(usage: Bool, done: Bool) -> FakeReply {
            .hold(limit: hold, chunks: FakeOpenAI.chunks(["Hel", "lo"], usage: usage, done: done).map(FakeReply.frame))
        }
        return [
            BrokenTail(
                testDescription: "anthropic: silence after message_stop", model: "anthropic/claude-x",
                path: FakeAnthropic.path, reply: .hold(limit: hold, chunks: anthropic),
                again: FakeAnthropic.stream(["Other"])),
            BrokenTail(
                testDescription: "anthropic: silence after message_delta's stop reason", model: "anthropic/claude-x",
                path: FakeAnthropic.path, reply: .hold(limit: hold, chunks: Array(anthropic.dropLast())),
                again: FakeAnthropic.stream(["Other"])),
            BrokenTail(
                testDescription: "openai: silence after [DONE]", model: "openai/gpt-4o", path: FakeOpenAI.path,
                reply: openAI(usage: true, done: true), again: FakeOpenAI.stream(["Other"])),
            BrokenTail(
                testDescription: "openai: silence after the usage chunk", model: "openai/gpt-4o", path: FakeOpenAI.path,
                reply: openAI(usage: true, done: false), again: FakeOpenAI.stream(["Other"])),
            BrokenTail(
                testDescription: "openai: silence after the finish reason", model: "openai/gpt-4o",
                path: FakeOpenAI.path, reply: openAI(usage: false, done: false), again: FakeOpenAI.stream(["Other"])),
            BrokenTail(
                testDescription: "gemini: silence after the finish reason", model: "gemini/gemini-2.5-pro",
                path: gemini, reply: .hold(limit: hold, chunks: geminiEvents), again: FakeGemini.stream(["Other"])),
        ]
    }()

    /// A reply whose stream went silent after it was whole is the answer, asked for once: the call waited for the
    /// idle limit, failed as a stall (`timeout`) and the engine asked again, paying for the same reply twice. No
    /// race: a server that never ends the body either has its answer taken (once) or the call is asked again (the
    /// second reply is another answer); the 1 s idle limit only bounds how long the old code took to fail.
    @Test(arguments: stalledTails)
    func aReplyWholeBeforeItsStreamStalledIsTakenOnce(tail: BrokenTail) async throws {
        try await FakeServer.run { server in
            server.route(tail.path, tail.reply, tail.again)
            let config = try ProvidersConfig.parse(
                text: "providers:\n" + ["openai", "anthropic", "gemini"].map { "  - { name: \($0), idle_timeout: 1 }\n" }
                    .joined())
            let outcome = try await Self.run(server, configuration: config, workflow: Self.workflow(tail.model))
            #expect(outcome.answers.first?.answer == "Hello")
            #expect(server.requests.count == 1)
            #expect(outcome.coverage.degraded == false)
        }
    }

    /// A reply whose text field holds something else (a number), whole (`stream: false`) and streamed.
    static let textsThatAreNotText: [BrokenTail] = {
        let gemini = #"{"candidates":[{"content":{"parts":[{"text":4}],"role":"model"},"finishReason":"STOP"}]}"#
        let anthropicEvents = FakeAnthropic.events(["x"]).map { name, data in
            (name, data.replacingOccurrences(of: #""text":"x""#, with: #""text":4"#))
        }
        return [
            BrokenTail(
                testDescription: "openai whole", model: "openai/gpt-4o", path: FakeOpenAI.path,
                reply: .json(
                    #"{"choices":[{"index":0,"message":{"role":"assistant","content":4},"finish_reason":"stop"}]}"#),
                again: FakeOpenAI.completion("Other")),
            BrokenTail(
                testDescription: "openai stream", model: "openai/gpt-4o", path: FakeOpenAI.path,
                reply: .sse([
                    (nil, #"{"choices":[{"index":0,"delta":{"content":4},"finish_reason":null}]}"#),
                    (nil, #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#), (nil, "[DONE]"),
                ]), again: FakeOpenAI.stream(["Other"])),
            BrokenTail(
                testDescription: "anthropic whole", model: "anthropic/claude-x", path: FakeAnthropic.path,
                reply: .json(#"{"type":"message","content":[{"type":"text","text":4}],"stop_reason":"end_turn"}"#),
                again: FakeAnthropic.message("Other")),
            BrokenTail(
                testDescription: "anthropic stream", model: "anthropic/claude-x", path: FakeAnthropic.path,
                reply: .sse(anthropicEvents), again: FakeAnthropic.stream(["Other"])),
            BrokenTail(
                testDescription: "gemini whole", model: "gemini/gemini-2.5-pro",
                path: FakeGemini.path("gemini-2.5-pro", "generateContent"), reply: .json(gemini),
                again: FakeGemini.reply("Other")),
            BrokenTail(
                testDescription: "gemini stream", model: "gemini/gemini-2.5-pro",
                path: FakeGemini.path("gemini-2.5-pro", "streamGenerateContent"), reply: .sse([(nil, gemini)]),
                again: FakeGemini.stream(["Other"])),
        ]
    }()

    /// A reply whose text is a number fails at once as `bad_response`, naming the field: it was read as no text,
    /// failed as "returned no text; retry or raise max_tokens", and was asked for again, paid each time.
    @Test(arguments: textsThatAreNotText)
    func aReplyWhoseTextIsNotTextIsRefusedOnce(tail: BrokenTail) async throws {
        try await FakeServer.run { server in
            server.route(tail.path, tail.reply, tail.again)
            let whole = tail.testDescription.hasSuffix("whole")
            let config = try ProvidersConfig.parse(
                text: "providers:\n" + ["openai", "anthropic", "gemini"].map { "  - { name: \($0), stream: \(!whole) }\n" }
                    .joined())
            let outcome = try await Self.run(server, configuration: config, workflow: Self.workflow(tail.model))
            #expect(server.requests.count == 1)
            #expect(outcome.answers.isEmpty)
            #expect(outcome.stoppedBy.contains("bad_response"), "\(outcome.stoppedBy)")
            #expect(outcome.stoppedBy.contains("as a number, not text"), "\(outcome.stoppedBy)")
        }
    }

    /// An OpenAI-compatible server's list of content parts (Mistral's `[{"type":"text","text":…}]`) is the
    /// text of its text parts, whole and streamed: it was read as no text and asked for again.
    @Test(arguments: [false, true])
    func contentPartsAreTheirTexts(stream: Bool) async throws {
        try await FakeServer.run { server in
            let parts = #"[{"type":"thinking","thinking":"hm"},{"type":"text","text":"Hel"},{"type":"text","text":"lo"}]"#
            let reply: FakeReply =
                stream
                ? .sse([
                    (nil, #"{"choices":[{"index":0,"delta":{"content":"# + parts + #"},"finish_reason":null}]}"#),
                    (nil, #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#), (nil, "[DONE]"),
                ])
                : .json(
                    #"{"choices":[{"index":0,"message":{"role":"assistant","content":"# + parts
                        + #"},"finish_reason":"stop"}]}"#)
            server.route(FakeOpenAI.path, reply, FakeOpenAI.completion("Other"))
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, stream: \(stream) }\n")
            let outcome = try await Self.run(server, configuration: config)
            #expect(outcome.answers.first?.answer == "Hello")
            #expect(server.requests.count == 1)
        }
    }

    /// A server that ignores `stream: true` and sends the whole reply as one JSON object has it taken, once, with
    /// its usage: it failed as `invalid_response` ("answered a streaming request with JSON, not events") and was
    /// asked for again, paid each time, with the same reply.
    @Test(arguments: [
        ("openai/gpt-4o", FakeOpenAI.path, FakeOpenAI.completion("Hello")),
        ("anthropic/claude-x", FakeAnthropic.path, FakeAnthropic.message("Hello")),
        (
            "gemini/gemini-2.5-pro", FakeGemini.path("gemini-2.5-pro", "streamGenerateContent"),
            FakeGemini.reply("Hello")
        ),
    ])
    func aWholeReplyToAStreamingRequestIsTakenOnce(model: String, path: String, whole: FakeReply) async throws {
        guard case .body(_, _, let text, _) = whole else { return #expect(Bool(false), "not a body") }
        try await FakeServer.run { server in
            // As a stream's chunk with a JSON content type: the fake server does not turn it into events.
            let reply = FakeReply.stream(chunks: [text], headers: ["content-type": "application/json"])
            server.route(path, reply, FakeReply.stream(chunks: [text], headers: ["content-type": "application/json"]))
            let outcome = try await Self.run(server, workflow: Self.workflow(model))
            #expect(outcome.answers.first?.answer == "Hello")
            #expect(server.requests.count == 1)
            #expect(server.requests.first?.json?["stream"] as? Bool == true || model.hasPrefix("gemini"))
            #expect(!outcome.usage.isEstimated)
        }
    }

    /// A reply that reached its output cap before any text (a reasoning model that spent the cap thinking, which
    /// the provider bills) fails at once, naming the cure: it was an `empty_response`, retried, and every retry
    /// paid for the same cap again.
    @Test(arguments: ["openai/o3", "anthropic/claude-x", "gemini/gemini-2.5-pro"])
    func aReplyThatSpentItsCapBeforeAnyTextIsNotAskedAgain(model: String) async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.completion("", finish: "length"))
            server.route(FakeAnthropic.path, FakeAnthropic.message("", stop: "max_tokens"))
            server.route(
                FakeGemini.path("gemini-2.5-pro", "streamGenerateContent"), FakeGemini.reply("", finish: "MAX_TOKENS"))
            let outcome = try await Self.run(server, workflow: Self.workflow(model))
            #expect(server.requests.count == 1)
            #expect(outcome.answers.isEmpty)
            #expect(outcome.stoppedBy.contains("bad_request"), "\(outcome.stoppedBy)")
            #expect(outcome.stoppedBy.contains("spent the whole output cap"), "\(outcome.stoppedBy)")
            #expect(outcome.stoppedBy.contains("raise max_tokens"), "\(outcome.stoppedBy)")
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
            #expect(error?.code == .badResponse)
            #expect(
                error?.message
                    == #"openai answered a streaming request with a web page (text/html, title "Open WebUI"), "#
                    + "not events; check the base URL", "\(String(describing: error))")
        }
    }

    /// An endpoint that is not the API (a redirect to a login page, a captive portal's page) fails the call at
    /// once, naming what came: it was `invalid_response`, asked again with backoff (three requests here), each
    /// maybe billed to a real key. The redirect is named by its host only (its query holds a session id).
    @Test(arguments: [false, true], ["redirect", "page"])
    func anEndpointThatIsNotTheAPIIsAskedOnce(stream: Bool, kind: String) async throws {
        try await FakeServer.run { server in
            server.route(
                FakeOpenAI.path, kind == "redirect" ? FaultClassificationTests.redirect : FaultClassificationTests.portal)
            let config = try ProvidersConfig.parse(text: "providers:\n  - { name: openai, stream: \(stream) }")
            let outcome = try await Self.run(server, configuration: config)
            #expect(server.requests.count == 1)
            #expect(outcome.answers.isEmpty)
            #expect(outcome.stoppedBy.contains("bad_response"), "\(outcome.stoppedBy)")
            if kind == "redirect" {
                #expect(
                    outcome.stoppedBy.contains("redirect (HTTP 302) to host `portal.example.net`"), "\(outcome.stoppedBy)")
                #expect(!outcome.stoppedBy.contains("s3cr3t"))
            } else {
                #expect(outcome.stoppedBy.contains(#"title "Hotel Wi-Fi""#), "\(outcome.stoppedBy)")
            }
        }
    }

    /// An empty `200 application/json` body to a streaming request says so: the message ended with ": " and
    /// nothing after it.
    @Test func anEmptyBodyInsteadOfAStreamIsNamed() async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, .json(""))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await collect(
                        $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).stream(
                            RegistryHarness.request("openai", "gpt-4o")))
                }
            }
            #expect(
                error?.message == "openai answered a streaming request with an empty body (HTTP 200), not events",
                "\(String(describing: error))")
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
