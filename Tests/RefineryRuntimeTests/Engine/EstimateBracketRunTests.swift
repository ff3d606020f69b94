// `refinery estimate` brackets every run: each built-in and each convergence strategy, run against a
// scripted provider at both extremes, makes exactly the estimate's `min` calls when the replies let it
// stop as early and skip as much as it can, and exactly its `max` when they never let it converge.

import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

@Suite struct EstimateBracketRunTests {
    /// Replies that end a run as early as it can end, or as late.
    enum Extreme: String, Sendable, CaseIterable {
        /// Top scores from everyone, a confident synthesis that asks for nothing more, the same short
        /// answer every round (under `min_bytes`, and identical drafts converge), one verification question.
        case earliest
        /// Low scores, an unsure synthesis that asks for another iteration, long answers in new words
        /// every call (never similar, never a regression), more verification questions than asked for.
        case latest
    }

    static func script(_ extreme: Extreme) -> @Sendable (ScriptedCall) -> ScriptedResponse {
        { call in
            let early = extreme == .earliest
            switch call.kind {
            case "evaluatePairwise":
                return .text(ScriptedReplies.evaluation(score: early ? 9 : 5))
            case "evaluateBatched":
                return .text(ScriptedReplies.batched(call.labels.mapValues { _ in early ? 9 : 5 }))
            case "synthesize":
                return .text(
                    ScriptedReplies.synthesis(
                        early ? "Settled." : Self.prose("synthesis \(call.round)"), confidence: early ? 0.95 : 0.4,
                        needsIteration: !early))
            case "verifyPlan":
                // The earliest plan finds nothing to verify: no answer, no revision.
                let questions = early ? [] : (1...5).map { "Question \($0)?" }
                return .text(ScriptedReplies.questions(questions))
            case "critiqueRevise":
                let revised = early ? "Short draft." : Self.prose("revise \(call.participant) \(call.round)")
                return .text(ScriptedReplies.critiqueRevise(critique: "ok", revised: revised))
            default:
                let seed = "\(call.kind) \(call.participant) \(call.round) \(call.user.utf8.count)"
                return .text(early ? "Short draft." : Self.prose(seed))
            }
        }
    }

    /// About 300 bytes of letter words drawn from `seed`: texts from different seeds share no words
    /// and look alike to no similarity measure.
    static func prose(_ seed: String) -> String {
        var state = SeededGenerator.fnv1a(seed) | 1
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let words = (0..<40).map { _ in
            String(
                (0..<7).map { _ in
                    state ^= state << 13
                    state ^= state >> 7
                    state ^= state << 17
                    return letters[Int(state % 26)]
                })
        }
        return words.joined(separator: " ")
    }

    struct Outcome {
        var totalCalls: Int
        var providerCalls: Int
        var status: RunStatus
    }

    static func run(_ workflow: Workflow, _ extreme: Extreme) async throws -> Outcome {
        let provider = ScriptedProvider(script: script(extreme))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("How do tides work?")
        return Outcome(totalCalls: outcome.totalCalls, providerCalls: provider.calls.count, status: outcome.status)
    }

    /// Runs `workflow` at both extremes; each lands exactly on its end of the estimate.
    static func expectBracketed(_ workflow: Workflow, _ name: String) async throws {
        let estimate = WorkflowEstimate.estimate(workflow: workflow, catalog: .builtin, promptTokens: 10)
        for extreme in Extreme.allCases {
            let outcome = try await run(workflow, extreme)
            let bound = extreme == .earliest ? estimate.calls.min : estimate.calls.max
            #expect(outcome.status != .failed, "\(name) \(extreme)")
            // No reminder or retry in these runs: what the provider saw is what the run counted.
            #expect(outcome.providerCalls == outcome.totalCalls, "\(name) \(extreme)")
            let range = "\(estimate.calls.min)...\(estimate.calls.max)"
            #expect(outcome.totalCalls == bound, "\(name) \(extreme): \(outcome.totalCalls) calls, estimate \(range)")
        }
    }

    static let builtins = ["consensus", "consensus-classic", "consortium", "self-refine", "verify", "debate", "moa"]

    @Test(arguments: builtins)
    func everyBuiltinLandsOnBothEndsOfItsEstimate(_ name: String) async throws {
        let library = WorkflowLibrary(folders: [], currentDirectory: "/")
        let workflow = try #require(try library.compile(name).workflow)
        try await Self.expectBracketed(workflow, name)
    }

    struct StrategyCase: Sendable, CustomTestStringConvertible {
        var strategy: ConvergenceStrategy
        var stages: [Stage]
        var iterations: Iterations
        var testDescription: String { strategy.name }
    }

    static let strategies: [StrategyCase] = [
        // Stability 3: never before round 3; a refine under `min_bytes` is skipped at the early end.
        StrategyCase(
            strategy: .voteThreshold(threshold: 8, stability: 3),
            stages: [.repeat([.proposeStage, .pairwise, .refine(RefineStage(minBytes: 200)), .closeStage])],
            iterations: Iterations(min: 1, max: 5)),
        StrategyCase(
            strategy: .confidence(threshold: 0.8),
            stages: [.repeat([.proposeStage, .synthesize(SynthesizeStage()), .closeStage])],
            iterations: Iterations(min: 1, max: 3)),
        // No draft before the block: round 1 has nothing to compare with.
        StrategyCase(
            strategy: .semantic(SemanticOptions()), stages: [.repeat([.proposeStage, .closeStage])],
            iterations: Iterations(min: 1, max: 4)),
        StrategyCase(
            strategy: .unanimous(threshold: 8),
            stages: [
                .proposeStage,
                .repeat([.pairwise, .verify(VerifyStage(common: StageCommon(by: .members))), .closeStage]),
            ],
            iterations: Iterations(min: 1, max: 3)),
        StrategyCase(
            strategy: .none, stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 1, max: 3)),
    ]

    @Test(arguments: strategies)
    func everyStrategyLandsOnBothEndsOfItsEstimate(_ row: StrategyCase) async throws {
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), arbiter: Arbiter(model: ModelRef(provider: "test", model: "arbiter")),
            stages: row.stages, iterations: row.iterations, convergence: row.strategy)
        try await Self.expectBracketed(workflow, row.strategy.name)
    }
}
