import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

/// The provider contract around timeouts: the engine calls a provider's own `reply(to:)` (so a
/// streaming provider reads its reply in the call's task), and the run's one deadline timer also
/// enforces a stream's idle limit, restarted by each piece of the reply.
@Suite struct CallWatchTests {
    /// Answers only through `reply(to:)`; `complete` fails.
    struct OwnReplyProvider: ModelProvider {
        func complete(_ request: ModelRequest) async throws -> ModelReply {
            throw ProviderError(code: .unsupported, message: "complete was called", provider: "test")
        }

        func reply(to request: ModelRequest) async throws -> ModelReply {
            ModelReply(text: "Answer read by reply(to:)")
        }
    }

    @Test func theEngineCallsAProvidersOwnReply() async throws {
        let workflow = Fixtures.workflow(
            members: Fixtures.members(1), stages: [.proposeStage], iterations: Iterations(min: 1, max: 1),
            limits: Limits(retries: 0, quorum: 1))
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: OwnReplyProvider()),
            configuration: Fixtures.configuration()
        ).run("Q")
        #expect(outcome.answers.map(\.answer) == ["Answer read by reply(to:)"])
    }

    /// Sends a piece at 3 s and 6 s of the run's clock, then goes silent.
    struct TricklingProvider: ModelProvider {
        let clock: TestClock

        func complete(_ request: ModelRequest) async throws -> ModelReply {
            try await reply(to: request)
        }

        func reply(to request: ModelRequest) async throws -> ModelReply {
            let watch = CallWatch.current
            watch?.watchIdle(
                limit: .seconds(5),
                error: ProviderError(code: .timeout, message: "the stream stalled (idle timeout)", provider: "test"))
            for _ in 0..<2 {
                try await clock.sleep(for: .seconds(3))
                watch?.touch()
            }
            try await clock.sleep(for: .seconds(1000))
            return ModelReply(text: "never")
        }
    }

    @Test func theRunsTimerFailsAStalledStreamFiveSecondsAfterItsLastPiece() async throws {
        let clock = TestClock()
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2), stages: [.proposeStage], iterations: Iterations(min: 1, max: 1),
            limits: Limits(timeoutSeconds: 300, retries: 0, quorum: 1))
        let ledger = InMemoryRunLedger()
        let recorder = EventRecorder()
        let engine = Engine(
            workflow: workflow,
            providers: ScriptedResolver(
                default: ScriptedProvider(clock: clock, script: Fixtures.script()),
                providers: ["test/model-1": TricklingProvider(clock: clock)]),
            configuration: Fixtures.configuration(clock: clock, ledger: ledger))
        async let outcome = engine.run("Q", events: recorder.sink)
        // Each step waits for the provider's next sleep and the timer's next wake-up, then moves the
        // clock: the pieces at 3 s and 6 s push the idle limit back to 8 s, then 11 s.
        await clock.waitUntil { $0.contains(.seconds(3)) && $0.contains(.seconds(5)) }
        clock.advance(by: .seconds(3))
        await clock.waitUntil { $0.contains(.seconds(6)) && $0.contains(.seconds(5)) }
        clock.advance(by: .seconds(2))
        await clock.waitUntil { $0.contains(.seconds(6)) && $0.contains(.seconds(8)) }
        clock.advance(by: .seconds(1))
        await clock.waitUntil { $0.contains(.seconds(1006)) && $0.contains(.seconds(8)) }
        clock.advance(by: .seconds(2))
        await clock.waitUntil { $0.contains(.seconds(1006)) && $0.contains(.seconds(11)) }
        clock.advance(by: .seconds(3))
        let result = try await outcome
        let failures = recorder.calls("call_failed")
        #expect(failures.map { "\($0.node) \($0.errorCode ?? "")" } == ["s0.propose[m1] timeout"])
        #expect(failures.first?.error?.contains("the stream stalled (idle timeout)") == true)
        #expect(ledger.records.filter { $0.status == .failed }.map(\.latencyMs) == [11000])
        #expect(result.answers.map(\.memberID) == ["m2"])
        #expect(clock.pendingDeadlines.isEmpty)
    }
}
