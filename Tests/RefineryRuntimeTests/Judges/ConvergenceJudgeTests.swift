import RefineryCompiler
import Testing

@testable import RefineryRuntime

/// A scripted sequence of rounds and the decision expected after each.
struct ScoreScript: Sendable, CustomTestStringConvertible {
    struct Step: Sendable {
        var scores: [String: Double]
        var stop: Bool
        var converged: Bool
        var leader: String?
    }

    var name: String
    var strategy: ConvergenceStrategy
    var iterations: Iterations
    var active: [String] = ["A", "B", "C"]
    var steps: [Step]
    var testDescription: String { name }
}

private func step(_ scores: [String: Double], stop: Bool = false, converged: Bool = false, leader: String?)
    -> ScoreScript.Step
{
    .init(scores: scores, stop: stop, converged: converged, leader: leader)
}

let scoreScripts: [ScoreScript] = [
    .init(
        name: "stable leader converges on its second round",
        strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 5),
        steps: [
            step(["A": 9, "B": 7, "C": 6], leader: "A"),
            step(["A": 8.5, "B": 8, "C": 7], stop: true, converged: true, leader: "A"),
        ]),
    .init(
        name: "leader change resets the streak",
        strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 5),
        steps: [
            step(["A": 9, "B": 7], leader: "A"),
            step(["A": 8, "B": 9.5], leader: "B"),
            step(["A": 8, "B": 9], stop: true, converged: true, leader: "B"),
        ]),
    .init(
        name: "streak counts rounds below threshold",
        strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 5),
        steps: [
            step(["A": 7, "B": 6], leader: "A"),
            step(["A": 7.5, "B": 6], leader: "A"),
            step(["A": 8, "B": 6], stop: true, converged: true, leader: "A"),
        ]),
    .init(
        name: "a tie keeps the previous leader",
        strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 5),
        steps: [
            step(["A": 7, "B": 9], leader: "B"),
            step(["A": 9, "B": 9], stop: true, converged: true, leader: "B"),
        ]),
    .init(
        name: "a tie without the previous leader goes to member order",
        strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 5),
        active: ["C", "B", "A"],
        steps: [
            step(["A": 5, "B": 5, "C": 9], leader: "C"),
            step(["A": 9, "B": 9, "C": 7], leader: "B"),
            step(["A": 9, "B": 9, "C": 9], stop: true, converged: true, leader: "B"),
        ]),
    .init(
        name: "never stops before min",
        strategy: .voteThreshold(threshold: 8, stability: 1), iterations: .init(min: 3, max: 5),
        steps: [
            step(["A": 9], leader: "A"),
            step(["A": 9], leader: "A"),
            step(["A": 9], stop: true, converged: true, leader: "A"),
        ]),
    .init(
        name: "stops at max without converging",
        strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 2),
        steps: [
            step(["A": 6, "B": 5], leader: "A"),
            step(["A": 7, "B": 5], stop: true, converged: false, leader: "A"),
        ]),
    .init(
        name: "converges at max when the condition holds there",
        strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 2),
        steps: [
            step(["A": 9], leader: "A"),
            step(["A": 9], stop: true, converged: true, leader: "A"),
        ]),
    .init(
        name: "a round without scores resets the leader",
        strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 5),
        steps: [
            step(["A": 9], leader: "A"),
            step([:], leader: nil),
            step(["A": 9], leader: "A"),
            step(["A": 9], stop: true, converged: true, leader: "A"),
        ]),
    .init(
        name: "inactive members are ignored",
        strategy: .voteThreshold(threshold: 8, stability: 1), iterations: .init(min: 1, max: 5), active: ["A", "B"],
        steps: [step(["A": 8.5, "B": 6, "C": 10], stop: true, converged: true, leader: "A")]),
    .init(
        name: "unanimous needs every member",
        strategy: .unanimous(threshold: 8), iterations: .init(min: 1, max: 4),
        steps: [
            step(["A": 9, "B": 7.9, "C": 9], leader: "A"),
            step(["A": 9, "B": 8, "C": 8], stop: true, converged: true, leader: "A"),
        ]),
    .init(
        name: "unanimous: an unscored member blocks",
        strategy: .unanimous(threshold: 8), iterations: .init(min: 1, max: 2),
        steps: [
            step(["A": 9, "B": 9], leader: "A"),
            step(["A": 9, "B": 9], stop: true, converged: false, leader: "A"),
        ]),
    .init(
        name: "none runs to max",
        strategy: .none, iterations: .init(min: 1, max: 3),
        steps: [
            step(["A": 10], leader: "A"),
            step(["A": 10], leader: "A"),
            step(["A": 10], stop: true, converged: false, leader: "A"),
        ]),
]

@Suite("Convergence strategies over scripted rounds")
struct ConvergenceJudgeTests {
    @Test(arguments: scoreScripts)
    func decides(_ script: ScoreScript) async {
        let judge = ConvergenceJudge(
            strategy: script.strategy, iterations: script.iterations, embedder: nil, clock: ManualClock())
        for (index, expected) in script.steps.enumerated() {
            let decision = await judge.close(
                RoundSignals(round: index + 1, meanScores: expected.scores, activeMembers: script.active))
            #expect(decision.shouldStop == expected.stop, "round \(index + 1): \(decision.signal)")
            #expect(decision.converged == expected.converged, "round \(index + 1): \(decision.signal)")
            #expect(decision.leader == expected.leader, "round \(index + 1)")
        }
    }

    @Test func voteThresholdSignalsHaveTheNumbers() async {
        let judge = ConvergenceJudge(
            strategy: .voteThreshold(threshold: 8, stability: 2), iterations: .init(min: 1, max: 2), embedder: nil,
            clock: ManualClock())
        let first = await judge.close(
            RoundSignals(round: 1, meanScores: ["A": 8.25, "B": 7], activeMembers: ["A", "B"]))
        #expect(first.signal == "vote-threshold: leader A mean 8.25 ≥ threshold 8, led 1/2 rounds")
        let second = await judge.close(
            RoundSignals(round: 2, meanScores: ["A": 7, "B": 7.5], activeMembers: ["A", "B"]))
        #expect(
            second.signal
                == "vote-threshold: leader B mean 7.5 < threshold 8, led 1/2 rounds; stopping: reached max 2 rounds "
                + "without converging")
    }

    @Test func minimumIsReportedInTheSignal() async {
        let judge = ConvergenceJudge(
            strategy: .voteThreshold(threshold: 8, stability: 1), iterations: .init(min: 2, max: 3), embedder: nil,
            clock: ManualClock())
        let decision = await judge.close(RoundSignals(round: 1, meanScores: ["A": 9], activeMembers: ["A"]))
        #expect(
            decision.signal
                == "vote-threshold: leader A mean 9 ≥ threshold 8, led 1/1 rounds; continuing: condition holds but "
                + "round 1 < min 2")
    }

    static let confidenceRounds: [(Synthesis?, Bool, Bool, String)] = [
        (nil, false, false, "confidence: no synthesis this round"),
        (
            Synthesis(synthesis: "s", confidence: 0.7), false, false,
            "confidence: 0.7 < threshold 0.8, needs_iteration false"
        ),
        (
            Synthesis(synthesis: "s", confidence: 0.9, needsIteration: true), false, false,
            "confidence: 0.9 ≥ threshold 0.8, needs_iteration true"
        ),
        (
            Synthesis(synthesis: "s", confidence: 0.8), true, true,
            "confidence: 0.8 ≥ threshold 0.8, needs_iteration false"
        ),
    ]

    @Test func confidenceStrategy() async {
        let judge = ConvergenceJudge(
            strategy: .confidence(threshold: 0.8), iterations: .init(min: 1, max: 10), embedder: nil,
            clock: ManualClock())
        for (index, row) in Self.confidenceRounds.enumerated() {
            let decision = await judge.close(RoundSignals(round: index + 1, synthesis: row.0))
            #expect(decision.shouldStop == row.1)
            #expect(decision.converged == row.2)
            #expect(decision.signal == row.3)
        }
    }

    @Test func unanimousSignalNamesTheLaggards() async {
        let judge = ConvergenceJudge(
            strategy: .unanimous(threshold: 8), iterations: .init(min: 1, max: 5), embedder: nil, clock: ManualClock())
        let low = await judge.close(
            RoundSignals(round: 1, meanScores: ["A": 9, "B": 6.5, "C": 7], activeMembers: ["A", "B", "C"]))
        #expect(low.signal == "unanimous: 2 of 3 below threshold 8 (lowest 6.5: B, C)")
        let missing = await judge.close(RoundSignals(round: 2, meanScores: ["A": 9], activeMembers: ["A", "B"]))
        #expect(missing.signal == "unanimous: no score for B")
        let all = await judge.close(RoundSignals(round: 3, meanScores: ["A": 9, "B": 8], activeMembers: ["A", "B"]))
        #expect(all.signal == "unanimous: all 2 members ≥ threshold 8 (lowest 8)")
        #expect(all.converged)
    }
}

@Suite struct SignalNumberTests {
    @Test(arguments: [
        (8.0, "8"), (7.25, "7.25"), (7.12345, "7.123"), (Double.infinity, "inf"), (-Double.infinity, "-inf"), (1e300, "1e+300"),
    ])
    func numbersInSignalsNeverTrap(value: Double, text: String) {
        #expect(ConvergenceJudge.number(value) == text)
    }
}
