import Foundation
import Testing

@testable import RefineryCompiler

/// The fewest rounds and calls the estimate allows for, and its closed form for long runs. The
/// engine side (runs against scripted providers land in the bracket) is `EstimateBracketRunTests`.
@Suite struct EstimateBracketTests {
    typealias F = GraphFixtures

    static func estimate(_ workflow: Workflow) -> WorkflowEstimate {
        WorkflowEstimate.estimate(workflow: workflow, catalog: WorkflowEstimateTests.catalog, promptTokens: 100)
    }

    static let scored: [Stage] = [.repeat([F.propose, F.evaluate, F.close])]
    static let synthesized: [Stage] = [.repeat([F.propose, F.synthesize, F.close])]

    struct RoundsCase: Sendable, CustomTestStringConvertible {
        var name: String
        var stages: [Stage]
        var iterations: Iterations
        var strategy: ConvergenceStrategy
        var rounds: EstimateRange<Int>
        var testDescription: String { name }
    }

    static let roundCases: [RoundsCase] = [
        RoundsCase(
            name: "vote-threshold stability 2 stops in round 2 at the earliest", stages: scored,
            iterations: Iterations(min: 1, max: 5), strategy: .voteThreshold(threshold: 8, stability: 2),
            rounds: EstimateRange(min: 2, max: 5)),
        RoundsCase(
            name: "vote-threshold stability above max runs to max", stages: scored,
            iterations: Iterations(min: 1, max: 3), strategy: .voteThreshold(threshold: 8, stability: 4),
            rounds: EstimateRange(min: 3, max: 3)),
        RoundsCase(
            name: "iterations.min above stability wins", stages: scored, iterations: Iterations(min: 3, max: 5),
            strategy: .voteThreshold(threshold: 8, stability: 2), rounds: EstimateRange(min: 3, max: 5)),
        RoundsCase(
            name: "unanimous can stop in round 1", stages: scored, iterations: Iterations(min: 1, max: 4),
            strategy: .unanimous(threshold: 8), rounds: EstimateRange(min: 1, max: 4)),
        RoundsCase(
            name: "scores without evaluate never stop early", stages: synthesized,
            iterations: Iterations(min: 1, max: 4), strategy: .unanimous(threshold: 8),
            rounds: EstimateRange(min: 4, max: 4)),
        RoundsCase(
            name: "confidence can stop in round 1", stages: synthesized, iterations: Iterations(min: 1, max: 3),
            strategy: .confidence(threshold: 0.8), rounds: EstimateRange(min: 1, max: 3)),
        RoundsCase(
            name: "semantic without a draft before the block needs 2 rounds", stages: scored,
            iterations: Iterations(min: 1, max: 3), strategy: .semantic(SemanticOptions()),
            rounds: EstimateRange(min: 2, max: 3)),
        RoundsCase(
            name: "semantic after a prelude draft can stop in round 1",
            stages: [F.propose, .repeat([F.refine, F.close])], iterations: Iterations(min: 1, max: 3),
            strategy: .semantic(SemanticOptions()), rounds: EstimateRange(min: 1, max: 3)),
        RoundsCase(
            name: "semantic with nothing that writes a draft runs to max", stages: [.repeat([F.evaluate, F.close])],
            iterations: Iterations(min: 1, max: 3), strategy: .semantic(SemanticOptions()),
            rounds: EstimateRange(min: 3, max: 3)),
        RoundsCase(
            name: "none runs to max", stages: scored, iterations: Iterations(min: 1, max: 3), strategy: .none,
            rounds: EstimateRange(min: 3, max: 3)),
        RoundsCase(
            name: "a block without close runs to max", stages: [.repeat([F.propose, F.evaluate])],
            iterations: Iterations(min: 1, max: 3), strategy: .unanimous(threshold: 8),
            rounds: EstimateRange(min: 3, max: 3)),
    ]

    @Test(arguments: roundCases)
    func fewestRoundsFollowTheStrategy(_ row: RoundsCase) {
        let workflow = F.workflow(row.stages, iterations: row.iterations, convergence: row.strategy)
        let estimate = Self.estimate(workflow)
        #expect(estimate.rounds == row.rounds)
        let graph = ExecutionGraph(workflow: workflow)
        #expect(
            estimate.calls
                == EstimateRange(
                    min: graph.callCount(rounds: row.rounds.min), max: graph.callCount(rounds: row.rounds.max)))
    }

    /// `min_bytes` may skip every refine; the reviews-protocol refine without it always runs.
    @Test func minSkipsRefinesThatMinBytesCanSkip() {
        let skippable = F.workflow(
            [F.propose, F.evaluate, .refine(RefineStage(minBytes: 200))], members: [F.member("a"), F.member("b")])
        let always = F.workflow([F.propose, F.evaluate, F.refine], members: [F.member("a"), F.member("b")])
        #expect(Self.estimate(skippable).calls == EstimateRange(min: 2 + 2, max: 2 + 2 + 2))
        #expect(Self.estimate(skippable).stages[2].calls == EstimateRange(min: 0, max: 2))
        #expect(Self.estimate(always).calls == EstimateRange(min: 6, max: 6))
    }

    /// A plan lists at most `questions`, and may list none: then there is nothing to verify (no answer, no
    /// revision).
    @Test func minAnswersNoVerificationQuestion() {
        let workflow = F.workflow(
            [F.propose, .verify(VerifyStage(common: StageCommon(by: .members), questions: 4))],
            members: [F.member("a"), F.member("b")])
        let estimate = Self.estimate(workflow)
        #expect(estimate.calls == EstimateRange(min: 2 + 2 * 1, max: 2 + 2 * (1 + 4 + 1)))
        // Nothing is revised, nothing answered.
        #expect(estimate.tokens.input.min < estimate.tokens.input.max)
    }

    // MARK: - Closed form

    /// Workflows whose figures change from round to round (histories grow), read by an epilogue too.
    static let growing: [(String, Workflow)] = {
        let five = (1...5).map { F.member("m\($0)") } + [F.member("local", "llama", provider: "vllm")]
        var rows = ["consensus", "consensus-classic", "consortium", "self-refine", "debate", "moa"].map { name in
            var workflow = F.builtin(name)
            workflow.members = name == "self-refine" ? [five[0]] : five
            workflow.iterations = Iterations(min: 1, max: 40)
            return (name, workflow)
        }
        rows.append(
            (
                "prelude, round and epilogue reading histories",
                F.workflow(
                    [
                        F.propose,
                        .repeat([
                            .propose(ProposeStage(context: .ownHistory)), F.evaluate,
                            .refine(RefineStage(minBytes: 10)), .verify(VerifyStage(questions: 2)), F.close,
                        ]),
                        .propose(ProposeStage(context: .ownHistory)), .evaluate(EvaluateStage(mode: .batched)),
                        F.synthesize,
                    ], members: Array(five.prefix(3)), iterations: Iterations(min: 1, max: 40))
            ))
        return rows
    }()

    @Test func closedFormMatchesTheRunCallByCall() throws {
        for (name, workflow) in Self.growing {
            let graph = ExecutionGraph(workflow: workflow)
            let pricer = CallPricer(
                workflow: workflow, catalog: WorkflowEstimateTests.catalog, promptTokens: 100,
                assumptions: EstimateAssumptions())
            for rounds in [1, 2, 3, 4, 7, 40] {
                for fewest in [false, true] {
                    let closed = EstimateSimulation.run(
                        graph: graph, rounds: rounds, pricer: pricer, fewestCalls: fewest, exactRounds: 3)
                    let exact = EstimateSimulation.run(
                        graph: graph, rounds: rounds, pricer: pricer, fewestCalls: fewest, exactRounds: .max)
                    let label = "\(name), \(rounds) rounds, fewest \(fewest)"
                    Self.expectSame(closed.all, exact.all, label)
                    #expect(closed.byRound.keys.sorted() == exact.byRound.keys.sorted(), "\(label)")
                    for (round, totals) in exact.byRound {
                        Self.expectSame(closed.byRound[round] ?? CallTotals(), totals, "\(label), round \(round)")
                    }
                    for (stage, totals) in exact.byStage {
                        Self.expectSame(closed.byStage[stage] ?? CallTotals(), totals, "\(label), stage \(stage)")
                    }
                    #expect(closed.unpricedModels == exact.unpricedModels, "\(label)")
                }
            }
        }
    }

    /// Calls and tokens identical; dollars equal but for the order of the floating-point sum.
    static func expectSame(_ closed: CallTotals, _ exact: CallTotals, _ label: String) {
        let figures: [Int] = [closed.count, closed.input, closed.output, closed.unpriced]
        let expected: [Int] = [exact.count, exact.input, exact.output, exact.unpriced]
        #expect(figures == expected, "\(label)")
        #expect(abs(closed.dollars - exact.dollars) <= 1e-9 * max(1, exact.dollars), "\(label)")
    }

    /// 64 members × 1,000 rounds of consensus took 16 s (debug) call by call: 4 million calls. Measured in
    /// the CPU time of the thread that computes it, not on the wall clock: the suite's other tests (and
    /// other processes) share the machine's cores: on a loaded 2-core machine its wall time was already half
    /// the bound.
    @Test func sixtyFourMembersByAThousandRoundsIsFast() {
        var workflow = F.builtin("consensus")
        workflow.members = (1...64).map { F.member("m\($0)") }
        workflow.iterations = Iterations(min: 1, max: 1_000)
        let start = Self.threadCPUTime()
        let estimate = WorkflowEstimate.estimate(workflow: workflow, catalog: .builtin, promptTokens: 100)
        let elapsed = Self.threadCPUTime() - start
        #expect(estimate.calls == EstimateRange(min: 2 * 64 * 64, max: 1_000 * 64 * 64))
        #expect(estimate.perRound.count == 1_000)
        #expect(estimate.perRound.last?.calls == 64 * 64)
        #expect(elapsed < .seconds(1), "took \(elapsed) of CPU")
    }

    /// CPU time the current thread has used (the estimate runs on one thread, without suspending).
    static func threadCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }
}
