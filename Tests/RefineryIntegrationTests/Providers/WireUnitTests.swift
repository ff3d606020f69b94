// The pure pieces of the wire layer: SSE framing, Retry-After and duration parsing, status
// mapping, the token bucket, the call gate, `.env` parsing.

import Foundation
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import RefinerySyntax
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct WireUnitTests {
    /// Streamed replies carry the prompt-cache counts as each provider documents them: Anthropic's in
    /// `message_start` (and again, cumulative, in `message_delta`), OpenAI's in the final usage chunk's
    /// `prompt_tokens_details.cached_tokens`. Both were folded into the input or dropped.
    @Test func streamedUsageCarriesPromptCacheCounts() throws {
        var anthropic = AnthropicProvider.StreamDecoder()
        _ = try anthropic.consume(
            SSEEvent(
                event: "message_start",
                data: #"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"#
                    + #""model":"claude-opus-4-6","usage":{"input_tokens":100,"cache_creation_input_tokens":1000,"#
                    + #""cache_read_input_tokens":4000,"output_tokens":1}}}"#))
        _ = try anthropic.consume(
            SSEEvent(
                event: "message_delta",
                data: #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":50}}"#))
        let claude = try anthropic.reply()
        #expect(claude.inputTokens == 5100)
        #expect(claude.cachedInputTokens == 4000)
        #expect(claude.cacheWriteTokens == 1000)
        #expect(claude.outputTokens == 50)

        var openAI = OpenAIChatProvider.StreamDecoder(provider: "openai")
        _ = try openAI.consume(
            SSEEvent(
                data: #"{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"#
                    + #""delta":{"content":"Four."},"finish_reason":"stop"}],"usage":null}"#))
        _ = try openAI.consume(
            SSEEvent(
                data: #"{"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"#
                    + #""prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"#
                    + #""prompt_tokens_details":{"cached_tokens":1920}}}"#))
        let gpt = try openAI.reply()
        #expect(gpt.inputTokens == 2006)
        #expect(gpt.cachedInputTokens == 1920)
        #expect(gpt.outputTokens == 300)
    }

    @Test func sseParserHandlesSplitChunksCRLFAndComments() {
        var parser = SSEParser()
        var events = parser.feed(Array("event: message_start\r\ndata: {\"a\":".utf8))
        #expect(events.isEmpty)
        events += parser.feed(Array("1}\r\n\r\n: keep-alive\n\ndata: line1\ndata: line2\n\ndata: tail".utf8))
        #expect(events == [SSEEvent(event: "message_start", data: #"{"a":1}"#), SSEEvent(data: "line1\nline2")])
        #expect(parser.hasPartialEvent)
        #expect(parser.finish() == SSEEvent(data: "tail"))
    }

    /// One stream exercising every framing rule, cut into two chunks at every byte boundary
    /// and fed byte by byte: the events never depend on where the network split the bytes.
    @Test(arguments: ["\n", "\r\n", "\r"])
    func sseEventsDoNotDependOnChunkBoundaries(newline: String) {
        let lines = [
            ": hello", "event: message_start", #"data: {"a":1}"#, "", "data: line1", "data:line2", "data", "",
            ": comment", "id: 7", "retry: 10", "data:  two spaces", "data: é😀 ü", "", "event: ping", "", "data: last",
            "",
        ]
        let bytes = Array(("\u{FEFF}" + lines.joined(separator: newline) + newline).utf8)
        let expected = [
            SSEEvent(event: "message_start", data: #"{"a":1}"#), SSEEvent(data: "line1\nline2\n"),
            SSEEvent(data: " two spaces\né😀 ü"), SSEEvent(data: "last"),
        ]
        func events(_ chunks: [ArraySlice<UInt8>]) -> [SSEEvent] {
            var parser = SSEParser()
            var events = chunks.flatMap { parser.feed($0) }
            if let last = parser.finish() { events.append(last) }
            return events
        }
        for cut in 0...bytes.count {
            #expect(events([bytes[..<cut], bytes[cut...]]) == expected, "cut at byte \(cut)")
        }
        #expect(events(bytes.indices.map { bytes[$0...$0] }) == expected)
    }

    /// Random events, written with random line endings and comments, then cut into random
    /// chunks, come back out unchanged.
    @Test func sseRoundTripsRandomEventsThroughRandomChunks() {
        var rng = SplitMix(seed: 0x55E)
        let words = ["x", "data", ":", " lead", "é", "😀", "{\"k\": [1, 2]}", "", "a:b", "trailing "]
        for round in 0..<300 {
            var expected: [SSEEvent] = []
            var text = ""
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let newline = ["\n", "\r\n", "\r"].randomElement(using: &rng) ?? "\n"
                let name = ["message_start", "delta", nil].randomElement(using: &rng) ?? nil
                let dataLines = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                    (0..<Int.random(in: 0...3, using: &rng)).map { _ in words.randomElement(using: &rng) ?? "" }
                        .joined()
                }
                if Bool.random(using: &rng) { text += ": keep-alive" + newline }
                if let name { text += "event: \(name)" + newline }
                for line in dataLines { text += "data: \(line)" + newline }
                text += newline
                expected.append(SSEEvent(event: name ?? "message", data: dataLines.joined(separator: "\n")))
            }
            let bytes = Array(text.utf8)
            var parser = SSEParser()
            var events: [SSEEvent] = []
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...9, using: &rng))
                events += parser.feed(bytes[start..<end])
                start = end
            }
            if let last = parser.finish() { events.append(last) }
            #expect(events == expected, "round \(round): \(text.debugDescription)")
        }
    }

    /// The OpenAI stream's end marker is found without Foundation's trimming, with the same answer:
    /// `[DONE]` between CoreFoundation's whitespace (not all of Unicode's), nothing else.
    @Test(arguments: [
        "[DONE]", " [DONE] ", "\t[DONE]\u{A0}", "\u{3000}[DONE]\u{2003}", "[DONE]\n", "\n[DONE]", "[DONE]\u{301}",
        "\u{301}[DONE]", "[done]", "", "   ", "[DONE] x", "[DONE]]", "[DON", "\u{200B}[DONE]", "\u{180E}[DONE]",
        "\u{1680}\u{202F}[DONE]\u{205F}\u{2028}",
    ])
    func openAIDoneMarkerIsFoundationsTrimmedText(_ data: String) {
        #expect(
            OpenAIChatProvider.StreamDecoder.isDone(data) == (data.trimmingCharacters(in: .whitespaces) == "[DONE]"))
    }

    @Test func sseLongLineInSmallChunksIsBufferedOnce() {
        var parser = SSEParser()
        let line = Array(("data: " + String(repeating: "z", count: 200_000)).utf8)
        var events: [SSEEvent] = []
        for start in stride(from: 0, to: line.count, by: 7) {
            events += parser.feed(line[start..<min(line.count, start + 7)])
        }
        #expect(events.isEmpty)
        #expect(parser.bufferedBytes == line.count)
        events += parser.feed(Array("\n\n".utf8))
        #expect(events.map(\.data.count) == [200_000])
        #expect(parser.bufferedBytes == 0)
    }

    @Test(arguments: [
        ("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("2.5", 2.5),
    ])
    func durationsParse(text: String, seconds: Double) {
        #expect(ErrorClassifier.parseDuration(text) == seconds)
    }

    @Test func retryAfterHTTPDateIsRelativeToNow() throws {
        let now = try #require(ErrorClassifier.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"))
        let wait = ErrorClassifier.retryAfterSeconds(
            headers: [("Retry-After", "Sun, 06 Nov 1994 08:50:07 GMT")], now: now)
        #expect(wait == 30)
        #expect(ErrorClassifier.retryAfterSeconds(headers: [("retry-after", "garbage")], now: now) == nil)
        #expect(
            ErrorClassifier.retryAfterSeconds(headers: [("Retry-After", "Sun, 06 Nov 1994 08:40:00 GMT")], now: now)
                == 0)
    }

    /// A wait from an HTTP date is said to the tenth of a second above: the message said "retry after
    /// 2.9922306537628174 s" for a `Retry-After` date three seconds ahead, read a moment later.
    @Test(arguments: [(2.9922306537628174, "retry after 3 s"), (0.25, "retry after 0.3 s"), (7.04, "retry after 7.1 s")])
    func aWaitFromAnHTTPDateIsSaidToTheTenth(ahead: Double, text: String) throws {
        let date = try #require(ErrorClassifier.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"))
        let error = ErrorClassifier.classify(
            status: 429, headers: [("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")], body: "", provider: "p",
            model: "m", now: date.addingTimeInterval(-ahead))
        #expect(error.message.hasSuffix(text), "\(error.message)")
    }

    /// A server's absurd wait never traps a conversion: non-finite and negative values are ignored, huge
    /// ones kept as asked (the error reports what the server asked; the engine waits at most the call's
    /// timeout), and only the endpoint's pause is capped at a day.
    @Test(
        arguments: [
            ("Retry-After", "inf", nil, nil), ("Retry-After", "nan", nil, nil), ("Retry-After", "-3", nil, nil),
            ("Retry-After", "1e300", 1e300, "retry after 1e+300 s"),
            ("retry-after-ms", "1e308", 1e305, "retry after 1e+305 s"),
            ("retry-after-ms", "infinity", nil, nil),
            ("x-ratelimit-reset-requests", "99999h", 359_996_400.0, "retry after 359996400 s (11.4 years)"),
            ("Retry-After", "86400", 86_400.0, "retry after 86400 s (1 day)"),
            ("Retry-After", "2.5", 2.5, "retry after 2.5 s"),
        ] as [(String, String, Double?, String?)])
    func absurdRetryAfterValuesAreReportedAsAsked(name: String, value: String, seconds: Double?, text: String?) {
        #expect(ErrorClassifier.retryAfterSeconds(headers: [(name, value)]) == seconds)
        let error = ErrorClassifier.classify(
            status: 429, headers: [(name, value)], body: "", provider: "p", model: "m")
        #expect(error.retryAfterSeconds == seconds)
        #expect(error.message.hasPrefix("p rate limit reached"))
        if let text { #expect(error.message.hasSuffix(text), "\(error.message)") }
        let pause = ErrorClassifier.rateLimitPause(status: 429, headers: [(name, value)])
        #expect(pause == seconds.map { min($0, ErrorClassifier.maxRetryAfterSeconds) })
    }

    @Test(
        arguments: [
            (nil, 600.0), (.infinity, 604_800.0), (.nan, 600.0), (1e300, 604_800.0), (-5, 0.001), (90, 90),
        ] as [(Double?, Double)])
    func requestTimeoutsAreClamped(timeout: Double?, seconds: Double) {
        var request = ModelRequest(model: ModelRef(provider: "openai", model: "m"), messages: [])
        request.timeoutSeconds = timeout
        #expect(HTTPProviderSupport.timeout(request) == seconds)
        #expect(HTTPProviderSupport.milliseconds(timeout ?? 600) == Int64((seconds * 1000).rounded(.up)))
    }

    @Test(
        arguments: [
            ("1e300", nil), ("9.3e18", nil), ("-1e19", nil), ("42.9", 42), ("7", 7),
        ] as [(String, Int?)])
    func hugeTokenCountsDoNotTrap(json: String, value: Int?) {
        #expect(JSONValue.parse(json)?.int == value)
    }

    @Test(arguments: [
        (401, ProviderError.Code.authentication), (403, .authentication), (404, .unknownModel), (400, .badRequest),
        (422, .badRequest), (429, .rateLimited), (500, .server), (502, .server), (503, .overloaded), (529, .overloaded),
        (408, .timeout),
    ])
    func statusCodesMap(status: Int, code: ProviderError.Code) {
        let error = ErrorClassifier.classify(status: status, headers: [], body: "", provider: "p", model: "m")
        #expect(error.code == code)
        #expect(error.statusCode == status)
    }

    @Test(arguments: [
        ("gemini-3.1-pro-preview", "medium", #"{"thinkingLevel":"medium"}"#),
        ("gemini-3-pro-preview", "medium", #"{"thinkingLevel":"high"}"#),
        ("gemini-3.1-pro-preview", "xhigh", #"{"thinkingLevel":"high"}"#),
        ("models/gemini-4-pro", "low", #"{"thinkingLevel":"low"}"#),
        ("gemini-3.1-pro-preview", "minimal", #"{"thinkingLevel":"low"}"#),
        ("gemini-3-flash", "medium", #"{"thinkingLevel":"medium"}"#),
        ("gemini-3-flash", "xhigh", #"{"thinkingLevel":"high"}"#),
        ("gemini-2.5-flash", "minimal", #"{"thinkingBudget":0}"#),
        ("gemini-2.5-pro", "minimal", #"{"thinkingBudget":128}"#),
        ("gemini-2.5-pro", "high", #"{"thinkingBudget":24576}"#),
    ])
    func geminiThinkingFollowsTheModelFamily(model: String, effort: String, json: String) {
        #expect(GeminiProvider.thinkingConfig(model: model, effort: effort)?.jsonText == json)
    }

    @Test(arguments: [
        ("gpt-5.4", true), ("gpt-5-mini", true), ("o3", true), ("o4-mini", true), ("gpt-5-chat-latest", false),
        ("gpt-4o", false), ("gpt-4.1", false),
    ])
    func reasoningModelsAreRecognised(model: String, reasoning: Bool) {
        #expect(OpenAIChatProvider.isReasoningModel(model) == reasoning)
    }

    @Test func tokenBucketMakesCallersWaitOnceEmpty() {
        var bucket = TokenBucket(perMinute: 60, now: .zero)  // one a second, burst 60
        for _ in 0..<60 { #expect(bucket.reserve(1, now: .zero) == .zero) }
        #expect(bucket.reserve(1, now: .zero) == .seconds(1))
        #expect(bucket.reserve(1, now: .zero) == .seconds(2))
        // After 10 s, 10 tokens came back: the two reserved, then 8 free.
        #expect(bucket.reserve(8, now: .seconds(10)) == .zero)
        #expect(bucket.reserve(1, now: .seconds(10)) == .seconds(1))
    }

    @Test func callGateCapsConcurrencyAndSleepsOnTheInjectedClock() async throws {
        let slept = SleepLog()
        let clock = LimiterClock(now: { .zero }, sleep: { slept.add($0) })
        let gate = CallGate(limits: ProviderLimits(maxConcurrent: 2, requestsPerMinute: 2), clock: clock)
        try await gate.acquire(tokens: 0)
        try await gate.acquire(tokens: 0)
        #expect(gate.inFlight == 2)
        #expect(slept.values.isEmpty)
        // A third caller waits for a slot, then for the request budget (2/min → 30 s a request).
        async let third: Void = gate.acquire(tokens: 0)
        gate.release()
        try await third
        #expect(gate.inFlight == 2)
        #expect(slept.values == [.seconds(30)])
    }

    @Test(
        arguments: [
            (200, [("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "20s")], 20.0),
            (
                200,
                [
                    ("x-ratelimit-remaining-requests", "4"), ("x-ratelimit-reset-requests", "1s"),
                    ("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "1m30s"),
                ], 90.0
            ),
            (200, [("x-ratelimit-remaining-requests", "3"), ("x-ratelimit-reset-requests", "20s")], nil),
            (
                200,
                [
                    ("anthropic-ratelimit-tokens-remaining", "0"),
                    ("anthropic-ratelimit-tokens-reset", "1994-11-06T08:50:07Z"),
                ], 30.0
            ),
            (
                200,
                [
                    ("anthropic-ratelimit-requests-remaining", "0"),
                    ("anthropic-ratelimit-requests-reset", "1994-11-06T08:49:47.500Z"),
                ], 10.5
            ),
            (
                200, [("anthropic-ratelimit-requests-remaining", "0"), ("anthropic-ratelimit-requests-reset", "junk")],
                nil
            ),
            (429, [("retry-after", "7")], 7.0),
            (529, [], nil),
            (200, [("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "99999h")], 86_400.0),
        ] as [(Int, [(String, String)], Double?)])
    func rateLimitHeadersBecomePauses(status: Int, headers: [(String, String)], seconds: Double?) throws {
        let now = try #require(ErrorClassifier.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"))
        #expect(ErrorClassifier.rateLimitPause(status: status, headers: headers, now: now) == seconds)
    }

    @Test func pausedGateHoldsBackNewCalls() async throws {
        let slept = SleepLog()
        let clock = LimiterClock(now: { .seconds(100) }, sleep: { slept.add($0) })
        let gate = CallGate(limits: ProviderLimits(), clock: clock)
        gate.pause(for: .seconds(20))
        gate.pause(for: .seconds(5))  // a shorter pause does not cut the longer one
        try await gate.acquire(tokens: 10, maxPause: .seconds(60))
        #expect(slept.values == [.seconds(20)])
        gate.release()
        // A caller that may not wait that long is refused at once, told how long the pause lasts.
        await #expect(throws: CallGate.Paused.self) { try await gate.acquire(tokens: 10) }
        #expect(slept.values == [.seconds(20)])
    }

    @Test func cancelledWaiterLeavesTheGate() async throws {
        let gate = CallGate(limits: ProviderLimits(maxConcurrent: 1))
        try await gate.acquire(tokens: 0)
        let waiter = Task { try await gate.acquire(tokens: 0) }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        gate.release()
        #expect(gate.inFlight == 0)
    }

    @Test func dotEnvParsesQuotesExportAndComments() {
        let parsed = ProviderEnvironment.parseDotEnv(
            """
            # comment
            export OPENAI_API_KEY=sk-file
            ANTHROPIC_API_KEY="sk-ant # not a comment"
            GEMINI_API_KEY='single'
            OLLAMA_HOST=localhost:1 # trailing
            not a line
            """)
        #expect(
            parsed == [
                "OPENAI_API_KEY": "sk-file", "ANTHROPIC_API_KEY": "sk-ant # not a comment", "GEMINI_API_KEY": "single",
                "OLLAMA_HOST": "localhost:1",
            ])
    }

    @Test func dotEnvSavedOnWindowsKeepsEveryVariable() {
        let parsed = ProviderEnvironment.parseDotEnv("\u{FEFF}OPENAI_API_KEY=sk-first\r\nGEMINI_API_KEY=g-second\r\n")
        #expect(parsed == ["OPENAI_API_KEY": "sk-first", "GEMINI_API_KEY": "g-second"])
    }

    /// A `.env` or providers file that is a FIFO must not hang the CLI; one that is not UTF-8 is
    /// reported with its location.
    @Test func configFilesThatAreFIFOsOrNotUTF8() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "refinery-fifo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(mkfifo(directory.appendingPathComponent(".env").path, 0o600) == 0)
        let environment = ProviderEnvironment.load(environment: ["A": "1"], dotEnvDirectory: directory.path)
        #expect(environment.variables == ["A": "1"])

        let fifo = directory.appendingPathComponent("providers.yaml").path
        #expect(mkfifo(fifo, 0o600) == 0)
        do {
            _ = try ProvidersConfig.load(path: fifo)
            Issue.record("a FIFO was read")
        } catch let error as ProvidersConfigError {
            #expect(error.diagnostics.map(\.code) == ["providers.unreadable"])
            #expect(error.description.contains("it is not a regular file"))
        }

        let latin1 = directory.appendingPathComponent("latin1.yaml").path
        #expect(FileManager.default.createFile(atPath: latin1, contents: Data([0x61, 0x3A, 0x20, 0xE9, 0x0A])))
        do {
            _ = try ProvidersConfig.load(path: latin1)
            Issue.record("a Latin-1 file was read")
        } catch let error as ProvidersConfigError {
            #expect(error.diagnostics.first?.code == "Y002")
            #expect(error.diagnostics.first?.location == SourceLocation(line: 1, column: 4))
        }
    }

    @Test func realEnvironmentWinsOverDotEnvFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "refinery-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "OPENAI_API_KEY=from-file\nGEMINI_API_KEY=file-only\n".write(
            to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let environment = ProviderEnvironment.load(
            environment: ["OPENAI_API_KEY": "from-env"], dotEnvDirectory: directory.path)
        #expect(environment["OPENAI_API_KEY"] == "from-env")
        #expect(environment["GEMINI_API_KEY"] == "file-only")
    }
}

/// SplitMix64: seedable and the same on every platform.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Records the durations a fake clock was asked to sleep.
final class SleepLog: Sendable {
    private let storage = Mutex<[Duration]>([])
    var values: [Duration] { storage.withLock { $0 } }
    func add(_ duration: Duration) { storage.withLock { $0.append(duration) } }
}
