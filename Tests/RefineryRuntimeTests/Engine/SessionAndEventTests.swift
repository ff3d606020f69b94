import Foundation
import RefineryCompiler
import RefineryTestSupport
import Synchronization
import Testing

@testable import RefineryRuntime

@Suite struct SessionAndEventTests {
    @Test func aSessionStepsRoundByRoundWithOverrides() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.proposeStage, .repeat([.pairwise, .refineStage, .closeStage])],
            iterations: Iterations(min: 1, max: 3))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let session = try await engine.start("Q")
        let prelude = try #require(try await session.nextRound())
        #expect(prelude.phase == .prelude)
        #expect(prelude.round == 0)
        #expect(prelude.calls == 3)
        let one = try #require(
            try await session.nextRound(
                overrides: RoundOverrides(additionalContext: "Focus on 2024.", dropMembers: ["m3"])))
        #expect(one.round == 1)
        #expect(one.droppedMembers == ["m3"])
        #expect(one.calls == 2 + 2)
        let roundOne = provider.calls.filter { $0.round == 1 }
        #expect(roundOne.allSatisfy { $0.user.contains("Focus on 2024.") })
        #expect(!roundOne.contains { $0.participant == "m3" })
        #expect(await session.isFinished == false)
        let outcome = try await session.finalize()
        #expect(outcome.finalRound == 1)
        #expect(outcome.status == .maxRounds)
        #expect(outcome.coverage.droppedMembers == ["m3"])
        #expect(try await session.nextRound() == nil)
    }

    /// A `dropMembers` id that is no member (a typo, `m4` for `m3`) is refused, and nothing runs: it dropped nobody
    /// without a word, and the member meant went on being called and paid for.
    @Test func droppingAnIdThatIsNoMemberIsRefused() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.proposeStage, .repeat([.pairwise, .closeStage])],
            iterations: Iterations(min: 1, max: 3))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let session = try await engine.start("Q")
        _ = try await session.nextRound()
        let error = try await #require(throws: EngineError.self) {
            try await session.nextRound(overrides: RoundOverrides(dropMembers: ["m4"]))
        }
        #expect(error.code == .unknownMember)
        #expect(error.message.contains("`m4`") && error.message.contains("`m1`, `m2`, `m3`"), "\(error.message)")
        #expect(provider.calls.filter { $0.round == 1 }.isEmpty)
        let one = try #require(try await session.nextRound(overrides: RoundOverrides(dropMembers: ["m3"])))
        #expect(one.droppedMembers == ["m3"])
    }

    /// The run's phase announces its start and end (RunExecutor.enter): once each, however the session
    /// is driven. Stepped to its end then finalized twice, and finalized before its first step.
    @Test func aRunIsAnnouncedStartedAndFinishedOnceHoweverItIsDriven() async throws {
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2), stages: [.proposeStage, .repeat([.pairwise, .refineStage, .closeStage])],
            iterations: Iterations(min: 1, max: 2))
        for finalizeFirst in [false, true] {
            let recorder = EventRecorder()
            let engine = Engine(
                workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
                configuration: Fixtures.configuration())
            let session = try await engine.start("Q", events: recorder.sink)
            if !finalizeFirst {
                while try await session.nextRound() != nil {}
            }
            let outcome = try await session.finalize()
            _ = try await session.finalize()
            #expect(recorder.types.filter { $0 == "run_started" }.count == 1)
            #expect(recorder.types.filter { $0 == "run_finished" }.count == 1)
            #expect(recorder.types.first == "run_started")
            #expect(recorder.types.last == "run_finished")
            // Finalized first: the prelude runs, the repeat block does not; stepped: the prelude and a round at least.
            #expect(finalizeFirst ? outcome.rounds.count == 1 : outcome.rounds.count >= 2)
        }
    }

    /// The listener reads events from a task of its own: a slow one delays no call, yet sees every event, in
    /// order, before `run` returns. Here it holds the run's first event until the first call has been made (30 s
    /// at most): from its own task that call comes while the listener still holds the event, so the call sees
    /// no event handled; on the executor, no call came until the listener let go. The listener holds a pool
    /// thread only until the run's first call, not for the run (timed sleeps raced the tests running beside
    /// it in the same process, and a listener held for the whole run starved them).
    @Test func aSlowListenerDelaysNoCallAndMissesNoEvent() async throws {
        let recorder = EventRecorder()
        let seenAtCall = Mutex<[Int]>([])
        let firstCall = DispatchSemaphore(value: 0)
        let script = Fixtures.script()
        let provider = ScriptedProvider { call in
            let count = seenAtCall.withLock { seen in
                seen.append(recorder.all.count)
                return seen.count
            }
            if count == 1 { firstCall.signal() }
            return script(call)
        }
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.proposeStage, .pairwise, .refineStage, .closeStage])],
            iterations: Iterations(min: 1, max: 1))
        let held = Mutex(false)
        let slow: @Sendable (RunEvent) -> Void = { event in
            let first = held.withLock { held in
                defer { held = true }
                return !held
            }
            if first { _ = firstCall.wait(timeout: .now() + 30) }
            recorder.sink(event)
        }
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration()
        ).run("Q", events: slow)
        let seen = seenAtCall.withLock { $0 }
        #expect(seen.count == 12)
        #expect(seen.first == 0, "\(seen)")
        #expect(recorder.types.first == "run_started")
        #expect(recorder.types.last == "run_finished")
        #expect(recorder.calls("call_finished").count == 12)
        #expect(outcome.totalCalls == 12)
    }

    @Test func everyEventEncodesWithATypeAndDecodesBack() async throws {
        let recorder = EventRecorder()
        let provider = ScriptedProvider(script: Fixtures.script())
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2), stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 1, max: 1), convergence: .voteThreshold(threshold: 8, stability: 1))
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration()
        ).run("Q", events: recorder.sink)
        #expect(
            recorder.types.prefix(4) == ["run_started", "round_started", "stage_started", "call_started"])
        #expect(recorder.types.suffix(3) == ["decision", "round_finished", "run_finished"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for event in recorder.all {
            let data = try encoder.encode(event)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["type"] as? String == event.type)
            #expect(try JSONDecoder().decode(RunEvent.self, from: data) == event)
        }
        guard case .runFinished(let finished) = recorder.all.last else {
            Issue.record("last event is not run_finished")
            return
        }
        #expect(finished == outcome)
        let finishedCall = try #require(recorder.calls("call_finished").first)
        #expect(finishedCall.usage == TokenUsage(inputTokens: 100, outputTokens: 50))
        #expect(finishedCall.latencyMs == 0)
    }

    @Test func callCostComesFromCatalogPrices() async throws {
        let provider = ScriptedProvider { _ in
            .text("x", usage: TokenUsage(inputTokens: 1_000_000, outputTokens: 100_000))
        }
        let member = Member(id: "c", model: ModelRef(provider: "anthropic", model: "claude-opus-4-6"))
        let workflow = Fixtures.workflow(members: [member], stages: [.proposeStage])
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration()
        ).run("Q")
        // $5 per million in, $25 per million out.
        #expect(abs(outcome.costUSD - 7.5) < 1e-9)
        #expect(outcome.usage == TokenUsage(inputTokens: 1_000_000, outputTokens: 100_000))
    }

    @Test func aWorkflowWithoutMembersIsRefused() {
        let workflow = Fixtures.workflow(members: [], stages: [.proposeStage])
        #expect(throws: EngineError.self) {
            _ = try RunExecutor(
                workflow: workflow, providers: ScriptedResolver(), configuration: Fixtures.configuration(), prompt: "Q",
                events: nil)
        }
    }
}

@Suite struct EstimateTests {
    @Test func estimateMatchesTheCallsARunMakes() async throws {
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.proposeStage, .pairwise, .refineStage, .closeStage])],
            iterations: Iterations(min: 1, max: 2))
        let estimate = Engine.estimate(workflow: workflow, prompt: "Explain entropy.")
        // Strategy `none` always runs iterations.max rounds: no run makes 12 calls.
        #expect(estimate.calls.min == 24)
        #expect(estimate.calls.max == 24)
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: Fixtures.configuration()
        ).run("Explain entropy.")
        #expect(outcome.totalCalls == estimate.calls.max)
    }
}
