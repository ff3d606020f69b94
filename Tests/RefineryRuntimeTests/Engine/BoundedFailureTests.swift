import Foundation
import RefineryCompiler
import RefineryTestSupport
import Synchronization
import Testing

@testable import RefineryRuntime

/// Failures that must stay bounded: waits no longer than the call's own timeout, token arithmetic
/// that never traps, and every call made accounted for in the ledger.
// A time limit: a run whose clock is never moved again (see advanceUntilFinished) fails, not hangs CI.
@Suite(.timeLimit(.minutes(2))) struct BoundedFailureTests {
    /// A `Retry-After` longer than the call's timeout (a day, `1e20`, infinity) is not waited for, not
    /// even in slices of the timeout (each of three retries waited the whole timeout, holding a run with
    /// the default 120 s for six minutes before it failed the same way): the call fails at once as
    /// `rate_limited`, naming the provider and the wait it asked for, and the member falls back.
    @Test(arguments: [86_400, 1e20, Double.infinity])
    func aRetryAfterBeyondTheCallTimeoutIsNotWaitedFor(retryAfter: Double) async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            call.request.model.model == "model-1"
                ? .error(
                    ProviderError(
                        code: .rateLimited, message: "slow down", provider: "test", statusCode: 429,
                        retryAfterSeconds: retryAfter))
                : .text("fine")
        }
        let recorder = EventRecorder()
        var members = Fixtures.members(1)
        members[0].fallback = [ModelRef(provider: "test", model: "quick")]
        let engine = Engine(
            workflow: Fixtures.workflow(
                members: members, stages: [.proposeStage], limits: Limits(timeoutSeconds: 5, retries: 3, quorum: 1)),
            providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration(clock: clock))
        let run = Task { try await engine.run("Q", events: recorder.sink) }
        try await Self.advanceUntilFinished(clock, recorder)
        #expect(try await run.value.answers.first?.answer == "fine")
        #expect(recorder.calls("call_retried").isEmpty)
        let failed = recorder.calls("call_failed")
        #expect(failed.map(\.errorCode) == ["rate_limited"])
        // What was asked, as asked (a day is not a cap).
        let wait = retryAfter == 86_400 ? "86400 s (1 day)" : retryAfter.isFinite ? "1e+20 s" : "an unbounded time"
        // The timeout that would wait for it, when a workflow can have one that long (a week at most).
        let advice = retryAfter == 86_400 ? "; to wait, give `--timeout 25h` (or `limits.timeout: 25h`)" : ""
        #expect(
            failed.first?.error
                == "test asked to wait \(wait), longer than the call's timeout (5 s): not retried\(advice) (slow down)")
    }

    /// A Retry-After the timeout allows is waited for, exactly, however close to the timeout.
    @Test func aRetryAfterWithinTheCallTimeoutIsWaitedFor() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            call.attempt == 1
                ? .error(
                    ProviderError(
                        code: .rateLimited, message: "slow down", provider: "test", statusCode: 429,
                        retryAfterSeconds: 5))
                : .text("fine")
        }
        let recorder = EventRecorder()
        let engine = Engine(
            workflow: Fixtures.workflow(
                members: Fixtures.members(1), stages: [.proposeStage],
                limits: Limits(timeoutSeconds: 5, retries: 1, quorum: 1)),
            providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration(clock: clock))
        let run = Task { try await engine.run("Q", events: recorder.sink) }
        try await Self.advanceUntilFinished(clock, recorder)
        #expect(recorder.calls("call_retried").map(\.retryDelayMs) == [5000])
        #expect(try await run.value.answers.first?.answer == "fine")
    }

    /// Moves the test clock through each retry's backoff until the run has finished, and only then: once
    /// the run has told a retry (`call_retried`, with its delay) and sleeps until that delay from now, the
    /// clock moves exactly there. No call is in flight at that moment (the retried attempt has ended, the
    /// next one waits for the backoff), so the clock never passes a call's deadline, however slow the
    /// machine; a run that needs no retry never sees the clock move. A wrong, long wait (a day) is told
    /// and moved through all the same: it fails the test's assertions instead of hanging it.
    private static func advanceUntilFinished(_ clock: TestClock, _ recorder: EventRecorder) async throws {
        var passed = 0
        while recorder.types.last != "run_finished" {
            let retries = recorder.calls("call_retried")
            guard retries.count > passed else {
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            let delay = Duration.milliseconds(retries[passed].retryDelayMs ?? 0)
            let due = clock.now.offset + delay
            await clock.waitUntil { $0.contains { abs(($0 - due) / .milliseconds(1)) < 1 } }
            clock.advance(by: delay)
            passed += 1
        }
    }

    /// The exponential backoff is bounded by the call's timeout too.
    @Test func theBackoffIsBoundedByTheCallTimeout() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            call.attempt == 1 ? .error(ProviderError(code: .server, message: "500", provider: "test")) : .text("ok")
        }
        let recorder = EventRecorder()
        let engine = Engine(
            workflow: Fixtures.workflow(
                members: Fixtures.members(1), stages: [.proposeStage],
                limits: Limits(timeoutSeconds: 0.1, retries: 1, quorum: 1)),
            providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration(clock: clock))
        let run = Task { try await engine.run("Q", events: recorder.sink) }
        while recorder.calls("call_retried").isEmpty { await Task.yield() }
        #expect(recorder.calls("call_retried").map(\.retryDelayMs) == [100])
        try await Self.advanceUntilFinished(clock, recorder)
        #expect(try await run.value.answers.first?.answer == "ok")
    }

    /// Usage a provider could never report (`5e18`, `Int.max`, negative) neither traps the run's
    /// totals nor its cost: counts are clamped where a ``TokenUsage`` is made.
    @Test func absurdUsageNeverTraps() async throws {
        let usages = [
            TokenUsage(inputTokens: 5_000_000_000_000_000_000, outputTokens: Int.max),
            TokenUsage(inputTokens: -5, outputTokens: Int.min),
            TokenUsage(inputTokens: Int.max, outputTokens: 5_000_000_000_000_000_000),
        ]
        let provider = ScriptedProvider { call in
            let index = Int(call.participant.dropFirst()) ?? 1
            guard case .text(let text, _) = Fixtures.script()(call) else { return .text("?") }
            return .text(text, usage: usages[(index - 1) % 3])
        }
        let members = ["gpt-4o", "gpt-4o-mini", "o3"].enumerated().map { index, model in
            Member(id: "m\(index + 1)", model: ModelRef(provider: "openai", model: model))
        }
        let workflow = Fixtures.workflow(
            members: members, stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 2, max: 2))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        #expect(outcome.usage.inputTokens >= 0 && outcome.usage.inputTokens <= TokenUsage.maxTokens)
        #expect(outcome.usage.outputTokens >= 0 && outcome.usage.outputTokens <= TokenUsage.maxTokens)
        #expect(outcome.costUSD.isFinite)
        #expect(outcome.rounds.allSatisfy { $0.usage.outputTokens <= TokenUsage.maxTokens })
    }

    @Test func tokenUsageClampsEveryWayItIsMade() throws {
        var usage = TokenUsage(inputTokens: -1, outputTokens: Int.max)
        #expect(usage.inputTokens == 0)
        #expect(usage.outputTokens == TokenUsage.maxTokens)
        usage.inputTokens = Int.min
        usage.outputTokens += 1
        #expect(usage.inputTokens == 0)
        #expect(usage.outputTokens == TokenUsage.maxTokens)
        #expect((usage + usage).outputTokens == TokenUsage.maxTokens)
        let decoded = try JSONDecoder().decode(
            TokenUsage.self, from: Data(#"{"inputTokens":-3,"outputTokens":1e30}"#.utf8))
        #expect(decoded == TokenUsage(inputTokens: 0, outputTokens: TokenUsage.maxTokens))
        let huge = try JSONDecoder().decode(
            TokenUsage.self, from: Data(#"{"inputTokens":9223372036854775807,"outputTokens":12}"#.utf8))
        #expect(huge.inputTokens == TokenUsage.maxTokens)
        #expect(huge.outputTokens == 12)
        #expect(TokenUsage.sum(Int.max, 1) == Int.max)
        #expect(TokenUsage.sum(Int.min, -1) == Int.min)
        #expect(TokenUsage.sum(3, 4) == 7)
    }

    /// A call waiting to retry when its member is dropped (another of its calls failed for good) was
    /// made, so the ledger records it, as cancelled, instead of losing it.
    @Test func aRetryingCallOfADroppedMemberIsRecordedAsCancelled() async throws {
        let clock = TestClock()
        let reviews = Mutex(0)
        let provider = ScriptedProvider(clock: clock) { call in
            guard call.participant == "m1", call.kind == "evaluatePairwise" else { return Fixtures.script()(call) }
            let review = reviews.withLock { count -> Int in
                count += 1
                return count
            }
            return review == 1
                ? .error(
                    ProviderError(
                        code: .rateLimited, message: "slow down", provider: "test", statusCode: 429,
                        retryAfterSeconds: 1))
                : .error(ProviderError(code: .authentication, message: "key revoked", provider: "test"))
        }
        let ledger = InMemoryRunLedger()
        let recorder = EventRecorder()
        let engine = Engine(
            workflow: Fixtures.workflow(
                members: Fixtures.members(3), stages: [.proposeStage, .pairwise],
                limits: Limits(maxConcurrent: 1, retries: 2, quorum: 1)),
            providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(clock: clock, ledger: ledger))
        async let outcome = engine.run("Q", events: recorder.sink)
        await clock.waitUntil { $0.contains(.seconds(1)) }
        while recorder.drops.isEmpty { await Task.yield() }
        clock.advance(by: .seconds(1))
        _ = try await outcome
        #expect(recorder.drops.map { "\($0.member):\($0.forRun)" } == ["m1:true"])
        let m1 = ledger.records.filter { $0.participant == "m1" && $0.node.contains("evaluate") }
        #expect(m1.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.cancelled, .failed])
        #expect(m1.first { $0.status == .cancelled }?.attempts == 1)
        #expect(m1.first { $0.status == .cancelled }?.error?.contains("m1 dropped") == true)
        // Every call started has its ledger row.
        let started = Set(recorder.calls("call_started").map { "\($0.node)" })
        #expect(Set(ledger.records.map(\.node)) == started)
    }

    /// A member whose answer fails for good (a revoked key) makes none of its reviews, whichever reply comes
    /// first: its reviews of the others waited only for their answers, so a slow 401 let them start (and fail,
    /// or be cancelled) while a fast one did not, and the same run counted different calls. Here m2's 401 comes
    /// after the others' answers and reviews, m4's at once; the calls are those made when both come first, and
    /// coverage names the dropped members in member order (it named them in the order their failures came).
    @Test func aMemberThatFailsForGoodMakesNoneOfItsReviews() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            guard call.participant == "m2" || call.participant == "m4" else { return Fixtures.script()(call) }
            let refused = ScriptedResponse.error(
                ProviderError(code: .authentication, message: "key revoked", provider: "test", statusCode: 401))
            return call.participant == "m2" && call.kind == "propose" ? .delayed(.seconds(1), refused) : refused
        }
        let ledger = InMemoryRunLedger()
        let recorder = EventRecorder()
        let engine = Engine(
            workflow: Fixtures.workflow(
                members: Fixtures.members(4), stages: [.proposeStage, .pairwise], limits: Limits(quorum: 3)),
            providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(clock: clock, ledger: ledger))
        async let outcome = engine.run("Q", events: recorder.sink)
        // m1's and m3's reviews of each other are done (any review of m2's started with them), and m2's answer
        // is still on its way.
        await clock.waitUntil { $0.contains(.seconds(1)) }
        while recorder.calls("call_finished").filter({ $0.node.contains("evaluate") }).count < 2 { await Task.yield() }
        clock.advance(by: .seconds(1))
        let result = try await outcome
        #expect(
            provider.calls.filter { $0.participant == "m2" || $0.participant == "m4" }.map(\.kind) == [
                "propose", "propose",
            ])
        #expect(result.status == .insufficientModels)
        #expect(result.totalCalls == 6)
        #expect(ledger.records.count == 6)
        #expect(Set(recorder.calls("call_failed").map(\.node)) == ["s0.propose[m2]", "s0.propose[m4]"])
        #expect(result.coverage.droppedMembers == ["m2", "m4"])
        #expect(
            result.coverage.reasons.contains(
                "dropped for the run: m2 (3 later calls not made), m4 (3 later calls not made)"),
            "\(result.coverage.reasons)")
        #expect(result.coverage.reasons.contains("2 calls failed"))
    }
}
