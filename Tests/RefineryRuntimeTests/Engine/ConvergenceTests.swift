import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

@Suite struct ConvergenceTests {
    private func run(
        _ score: @escaping @Sendable (String, String, Int) -> Double, strategy: ConvergenceStrategy,
        max: Int = 5
    ) async throws -> RunOutcome {
        let provider = ScriptedProvider(script: Fixtures.script(score: score))
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 1, max: max), convergence: strategy)
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        return try await engine.run("Q")
    }

    @Test func voteThresholdNeedsAStableLeader() async throws {
        let outcome = try await run(
            { _, target, _ in target == "m2" ? 9 : 6 }, strategy: .voteThreshold(threshold: 8, stability: 2))
        #expect(outcome.status == .converged)
        #expect(outcome.finalRound == 2)
        #expect(outcome.rounds.compactMap(\.decision?.leader) == ["m2", "m2"])
        #expect(outcome.winner?.memberID == "m2")
        #expect(outcome.winner?.meanScore == 9)
        #expect(outcome.stoppedBy == outcome.rounds.last?.decision?.signal)
    }

    @Test func voteThresholdTieKeepsThePreviousLeader() async throws {
        // Round 1: m2 leads alone. Round 2: m1 ties m2 at 9; the leader stays m2.
        let outcome = try await run(
            { _, target, round in target == "m2" || (target == "m1" && round == 2) ? 9 : 6 },
            strategy: .voteThreshold(threshold: 8, stability: 2))
        #expect(outcome.status == .converged)
        #expect(outcome.finalRound == 2)
        #expect(outcome.winner?.memberID == "m2")
    }

    @Test func voteThresholdBelowThresholdRunsToMaxRounds() async throws {
        let outcome = try await run({ _, _, _ in 5 }, strategy: .voteThreshold(threshold: 8, stability: 1), max: 3)
        #expect(outcome.status == .maxRounds)
        #expect(outcome.finalRound == 3)
        #expect(outcome.rounds.map(\.calls) == [9, 9, 9])
    }

    @Test func strategyNoneRunsToMax() async throws {
        let outcome = try await run({ _, _, _ in 10 }, strategy: .none, max: 2)
        #expect(outcome.status == .maxRounds)
        #expect(outcome.finalRound == 2)
        #expect(outcome.strategy == "none")
    }
}
