// Workflows, scripts and a recorder shared by the engine tests.

import Foundation
import RefineryCompiler
import RefineryTestSupport
import Synchronization

@testable import RefineryRuntime

enum Fixtures {
    /// `count` members `m1...mN` on provider `test`, models `model-1...`.
    static func members(_ count: Int, provider: String = "test") -> [Member] {
        (1...count).map { Member(id: "m\($0)", model: ModelRef(provider: provider, model: "model-\($0)")) }
    }

    static func workflow(
        members: [Member], arbiter: Arbiter? = nil, stages: [Stage],
        iterations: Iterations = Iterations(min: 1, max: 2),
        convergence: ConvergenceStrategy = .none, limits: Limits = Limits(quorum: 1), output: OutputSelection = .winner
    ) -> Workflow {
        Workflow(
            name: "test", members: members, arbiter: arbiter, iterations: iterations,
            convergence: Convergence(strategy: convergence), limits: limits, stages: stages, output: output)
    }

    /// A neutral answer text that names no member.
    static func answer(_ participant: String, round: Int, kind: String = "propose") -> String {
        "Answer-\(SeededGenerator.fnv1a(participant) % 9973) round \(round) (\(kind))"
    }

    /// Replies every stage sensibly; scores come from `score(reviewer, target, round)`.
    static func script(
        score: @escaping @Sendable (String, String, Int) -> Double = { _, _, _ in 8 },
        synthesis: @escaping @Sendable (Int) -> String = { _ in
            ScriptedReplies.synthesis("Merged answer", confidence: 0.9)
        }
    ) -> @Sendable (ScriptedCall) -> ScriptedResponse {
        { call in
            switch call.kind {
            case "evaluatePairwise":
                let target = call.labels.values.first ?? ""
                return .text(ScriptedReplies.evaluation(score: score(call.participant, target, call.round)))
            case "evaluateBatched":
                var scores: [String: Double] = [:]
                for (label, target) in call.labels { scores[label] = score(call.participant, target, call.round) }
                return .text(ScriptedReplies.batched(scores))
            case "synthesize":
                return .text(synthesis(call.round))
            case "critiqueRevise":
                return .text(ScriptedReplies.critiqueRevise(critique: "ok", revised: "Revised draft"))
            case "verifyPlan":
                return .text(ScriptedReplies.questions(["Q1?", "Q2?", "Q3?"]))
            default:
                return .text(answer(call.participant, round: call.round, kind: call.kind))
            }
        }
    }

    static func configuration(
        clock: any Clock<Duration> = TestClock(), ledger: (any RunLedger)? = nil, seed: UInt64 = 42,
        catalog: ModelCatalog = .builtin
    ) -> EngineConfiguration {
        EngineConfiguration(runID: "run-1", seed: seed, catalog: catalog, clock: clock, ledger: ledger)
    }
}

/// Collects events in order.
final class EventRecorder: Sendable {
    private let events = Mutex<[RunEvent]>([])

    var all: [RunEvent] { events.withLock { $0 } }

    var sink: @Sendable (RunEvent) -> Void {
        { event in self.events.withLock { $0.append(event) } }
    }

    var types: [String] { all.map(\.type) }

    func calls(_ type: String) -> [CallEvent] {
        all.compactMap { event in
            switch event {
            case .callStarted(let call) where type == "call_started": call
            case .callRetried(let call) where type == "call_retried": call
            case .callFinished(let call) where type == "call_finished": call
            case .callFailed(let call) where type == "call_failed": call
            default: nil
            }
        }
    }

    var drops: [MemberDroppedEvent] {
        all.compactMap { if case .memberDropped(let drop) = $0 { drop } else { nil } }
    }

    /// The largest number of calls in flight at once, from start/finish/retry/failure events.
    var maxInFlight: (total: Int, byProvider: [String: Int]) {
        var current = 0
        var peak = 0
        var byProvider: [String: Int] = [:]
        var peakByProvider: [String: Int] = [:]
        for event in all {
            switch event {
            case .callStarted(let call):
                current += 1
                byProvider[call.model.provider, default: 0] += 1
                peak = max(peak, current)
                peakByProvider[call.model.provider] = max(
                    peakByProvider[call.model.provider] ?? 0, byProvider[call.model.provider] ?? 0)
            case .callFinished(let call), .callFailed(let call), .callRetried(let call):
                current -= 1
                byProvider[call.model.provider, default: 0] -= 1
            default: break
            }
        }
        return (peak, peakByProvider)
    }
}

extension Stage {
    static let proposeStage = Stage.propose(ProposeStage())
    static let pairwise = Stage.evaluate(EvaluateStage())
    static let refineStage = Stage.refine(RefineStage())
    static let closeStage = Stage.close(CloseStage())
}
