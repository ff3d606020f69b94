import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

/// One deadline timer serves every call of a drive: it must re-arm for a deadline earlier than the
/// one it sleeps until, and each call must time out at its own deadline, not another's.
@Suite struct DeadlineTests {
    @Test func anEarlierDeadlineRearmsTheTimerAndEachCallTimesOutAtItsOwn() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            switch (call.participant, call.kind) {
            case ("m1", "propose"): .delayed(.seconds(1000), .text("late answer"))
            case ("m2", "evaluatePairwise"): .delayed(.seconds(100), .text("late review"))
            default: Fixtures.script()(call)
            }
        }
        // Proposals may take 300 s, reviews 20 s: m2's review of m3 starts after m1's proposal, with
        // an earlier deadline than the one the timer already waits for.
        let review = Stage.evaluate(EvaluateStage(common: StageCommon(timeoutSeconds: 20)))
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.proposeStage, review, .closeStage])],
            iterations: Iterations(min: 1, max: 1), limits: Limits(timeoutSeconds: 300, retries: 0, quorum: 1))
        let recorder = EventRecorder()
        let ledger = InMemoryRunLedger()
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(clock: clock, ledger: ledger))
        async let outcome = engine.run("Q", events: recorder.sink)
        await clock.waitUntil { $0.contains(.seconds(20)) && $0.contains(.seconds(100)) }
        clock.advance(by: .seconds(20))
        // The review's reply sleep ends with it; the timer moves on to the proposal's deadline.
        await clock.waitUntil { !$0.contains(.seconds(100)) && $0.contains(.seconds(300)) }
        clock.advance(by: .seconds(280))
        let result = try await outcome
        #expect(
            recorder.calls("call_failed").map { "\($0.node) \($0.errorCode ?? "")" } == [
                "s1.evaluate[m2>m3] timeout", "s0.propose[m1] timeout",
            ])
        let failed = ledger.records.filter { $0.status == .failed }
        #expect(failed.map { "\($0.node) \($0.latencyMs)" } == ["s1.evaluate[m2>m3] 20000", "s0.propose[m1] 300000"])
        #expect(result.answers.map(\.memberID) == ["m2", "m3"])
        #expect(clock.pendingDeadlines.isEmpty)
    }
}
