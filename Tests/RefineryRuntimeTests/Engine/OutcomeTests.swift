// What a run's outcome says it produced: who answered with which model, what a fallback replaced,
// and how a lone member's run ended (below quorum: ReliabilityTests).

import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

@Suite struct OutcomeTests {
    private let judge = ModelRef(provider: "a", model: "judge")
    private let spare = ModelRef(provider: "b", model: "judge-2")

    /// Two members propose and the arbiter synthesizes; its primary `a/judge` is refused for good.
    private func synthesisWithFailingArbiter(fallback: [ModelRef]) async throws -> RunOutcome {
        let failing = ScriptedProvider { _ in
            .error(ProviderError(code: .unknownModel, message: "retired", provider: "a", statusCode: 404))
        }
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2), arbiter: Arbiter(model: judge, fallback: fallback),
            stages: [.proposeStage, .synthesize(SynthesizeStage())], limits: Limits(retries: 0, quorum: 1),
            output: .synthesis)
        let resolver = ScriptedResolver(
            default: ScriptedProvider(script: Fixtures.script()), providers: ["a/judge": failing])
        return try await Engine(workflow: workflow, providers: resolver, configuration: Fixtures.configuration())
            .run("Q")
    }

    @Test func theArbitersFallbackIsNamedAsTheModelThatAnswered() async throws {
        let outcome = try await synthesisWithFailingArbiter(fallback: [spare])
        let selected = try #require(outcome.selected)
        #expect(selected.memberID == "arbiter")
        #expect(selected.model == spare)
        #expect(selected.fallbackFrom == judge)
        #expect(selected.answer == "Merged answer")
        #expect(!selected.degraded)
        #expect(outcome.coverage.reasons.contains { $0.contains("fallback") })
    }

    /// The engine runs the compiler's graph when it is given one (compile once), with the same outcome.
    @Test func theCompilersGraphRunsLikeTheEnginesOwn() async throws {
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.proposeStage, .pairwise, .refineStage],
            limits: Limits(maxConcurrent: 1, quorum: 1))
        func run(_ graph: ExecutionGraph?) async throws -> RunOutcome {
            let resolver = ScriptedResolver(
                default: ScriptedProvider(script: Fixtures.script { _, target, _ in target == "m2" ? 9 : 5 }))
            return try await Engine(
                workflow: workflow, graph: graph, providers: resolver, configuration: Fixtures.configuration()
            ).run("Q")
        }
        let given = try await run(ExecutionGraph(workflow: workflow))
        let built = try await run(nil)
        #expect(given.winner?.memberID == "m2")
        #expect(given.totalCalls == built.totalCalls)
        #expect(given.finalAnswer == built.finalAnswer)
        #expect(given.rounds.map(\.calls) == built.rounds.map(\.calls))
    }

    @Test func aMembersFallbackIsNamedInTheWinner() async throws {
        let primary = ScriptedProvider { _ in
            .error(ProviderError(code: .unknownModel, message: "retired", provider: "test", statusCode: 404))
        }
        var members = Fixtures.members(2)
        members[0].fallback = [spare]
        let workflow = Fixtures.workflow(
            members: members, stages: [.proposeStage, .pairwise],
            limits: Limits(maxConcurrent: 1, quorum: 1))
        let resolver = ScriptedResolver(
            default: ScriptedProvider(script: Fixtures.script { _, target, _ in target == "m1" ? 9 : 5 }),
            providers: ["test/model-1": primary])
        let outcome = try await Engine(workflow: workflow, providers: resolver, configuration: Fixtures.configuration())
            .run("Q")
        #expect(outcome.winner?.memberID == "m1")
        #expect(outcome.winner?.model == spare)
        #expect(outcome.winner?.fallbackFrom == ModelRef(provider: "test", model: "model-1"))
        #expect(outcome.selected == outcome.winner)
    }

    @Test func aSynthesisByNoArbiterIsNeverLabelledArbiter() async throws {
        // The arbiter's only call fails for good and it has no fallback: the answer the run falls back on
        // is a member's, and it is named as that member's.
        let outcome = try await synthesisWithFailingArbiter(fallback: [])
        let selected = try #require(outcome.selected)
        #expect(selected.memberID == "m1")
        #expect(selected.answer == Fixtures.answer("m1", round: 0))
        #expect(selected.degraded)
    }

    @Test func aLoneMemberUnderAPeerScoredStrategyIsASingleModelRunWithItsAnswer() async throws {
        let workflow = Fixtures.workflow(
            members: Fixtures.members(1), stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 1, max: 1), convergence: .voteThreshold(threshold: 8, stability: 1))
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: Fixtures.configuration()
        ).run("Q")
        #expect(outcome.status == .singleModel)
        #expect(outcome.selected?.memberID == "m1")
        #expect(outcome.selected?.answer == Fixtures.answer("m1", round: 1))
        #expect(outcome.selected?.degraded == false)
    }

    @Test func aLoneMemberThatCouldConvergeButDidNotRanOutOfRounds() async throws {
        let workflow = Fixtures.workflow(
            members: Fixtures.members(1), stages: [.repeat([.proposeStage, .closeStage])],
            iterations: Iterations(min: 2, max: 2), convergence: .none)
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: Fixtures.configuration()
        ).run("Q")
        #expect(outcome.status == .maxRounds)
        #expect(outcome.selected?.memberID == "m1")
    }
}

@Suite struct InvalidReplyTests {
    @Test func anUnreadableVerificationPlanIsAFailedCallAndDegradesTheRun() async throws {
        let provider = ScriptedProvider { call in
            call.kind == "verifyPlan" ? .text("I would rather not plan anything.") : Fixtures.script()(call)
        }
        let recorder = EventRecorder()
        let workflow = Fixtures.workflow(
            members: Fixtures.members(1),
            stages: [.proposeStage, .verify(VerifyStage(common: StageCommon(by: .members), questions: 3))],
            output: .draft)
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration()
        ).run("Q", events: recorder.sink)
        // Asked twice (the second time with the reminder), then reported, never silently skipped.
        #expect(provider.calls.filter { $0.kind == "verifyPlan" }.count == 2)
        let failed = recorder.calls("call_failed")
        #expect(failed.count == 1)
        #expect(failed.first?.participant == "m1")
        #expect(failed.first?.errorCode == "invalid_response")
        #expect(failed.first?.error?.contains("unreadable verification plan") == true)
        #expect(outcome.coverage.degraded)
        #expect(outcome.coverage.reasons.contains { $0.contains("unreadable verification plan") })
        // The unverified draft is still the answer; the run's coverage says why it is degraded.
        #expect(outcome.selected?.answer == Fixtures.answer("m1", round: 0))
    }

    @Test(arguments: ["", "  \n", "...", "…"])
    func anEmptyOrPlaceholderReplyIsNoAnswer(reply: String) async throws {
        let provider = ScriptedProvider { call in
            call.participant == "m2" ? .text(reply) : Fixtures.script()(call)
        }
        let recorder = EventRecorder()
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2), stages: [.proposeStage], limits: Limits(retries: 0, quorum: 1))
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration()
        ).run("Q", events: recorder.sink)
        #expect(provider.calls.filter { $0.participant == "m2" }.count == 1)
        #expect(recorder.calls("call_failed").map(\.errorCode) == ["empty_response"])
        #expect(recorder.drops.map(\.member) == ["m2"])
        #expect(outcome.answers.map(\.memberID) == ["m1"])
        #expect(outcome.selected?.memberID == "m1")
    }
}
