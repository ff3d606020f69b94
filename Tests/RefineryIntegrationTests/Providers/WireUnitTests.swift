// The pure pieces of the wire layer: SSE framing, Retry-After and duration parsing, status
// mapping, the token bucket, the call gate, `.env` parsing.

import Foundation
import RefineryProviders
import RefineryRuntime
import Synchronization
import Testing

@Suite struct WireUnitTests {
    @Test func sseParserHandlesSplitChunksCRLFAndComments() {
        var parser = SSEParser()
        var events = parser.feed(Array("event: message_start\r\ndata: {\"a\":".utf8))
        #expect(events.isEmpty)
        events += parser.feed(Array("1}\r\n\r\n: keep-alive\n\ndata: line1\ndata: line2\n\ndata: tail".utf8))
        #expect(events == [SSEEvent(event: "message_start", data: #"{"a":1}"#), SSEEvent(data: "line1\nline2")])
        #expect(parser.hasPartialEvent)
        #expect(parser.finish() == SSEEvent(data: "tail"))
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
        ("gemini-3.1-pro-preview", "medium", #"{"thinkingLevel":"high"}"#),
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

/// Records the durations a fake clock was asked to sleep.
final class SleepLog: Sendable {
    private let storage = Mutex<[Duration]>([])
    var values: [Duration] { storage.withLock { $0 } }
    func add(_ duration: Duration) { storage.withLock { $0.append(duration) } }
}
