// Example: step a run round by round and steer it between rounds.
//
// `Engine.start` returns a `RunSession`; each `nextRound(overrides:)` runs one step (the stages
// before the repeat block, one pass of it, or the stages after it). Between steps the caller can
// add context to every later prompt or drop a member. `finalize()` returns the outcome.
//
// Run: swift run ExampleRoundByRound

import Foundation
import RefineryCompiler
import RefineryRuntime

/// A toy model that improves its answer every round and scores answers by their round number.
struct ImprovingProvider: ModelProvider {
    func complete(_ request: ModelRequest) async throws -> ModelReply {
        let prompt = request.messages.last?.content ?? ""
        if request.responseFormat?.name == "evaluation" {
            let score = prompt.contains("(revised)") ? 9 : 6
            return ModelReply(
                text: #"{"strengths": [], "weaknesses": [], "suggestions": [], "rationale": "ok", "score": \#(score)}"#)
        }
        let revised = prompt.contains("Focus on") ? " (revised)" : ""
        return ModelReply(text: "\(request.model.model): water boils at 100 °C at sea level\(revised).")
    }
}

struct Resolver: ProviderResolver {
    func provider(for model: ModelRef) throws -> any ModelProvider { ImprovingProvider() }
}

let yaml = """
    refinery: 1
    name: round-by-round-demo
    models: [local/one, local/two, local/three]
    iterations: { min: 1, max: 4 }
    convergence: { strategy: vote-threshold, threshold: 8.5, stability: 1 }
    limits: { quorum: 2 }
    stages:
      - repeat:
          - propose
          - evaluate
          - close
    """

var catalog = ModelCatalog.builtin
catalog.providers.insert("local")
guard let workflow = WorkflowCompiler(catalog: catalog).compile(yaml: yaml).workflow else { exit(4) }

let engine = Engine(workflow: workflow, providers: Resolver(), configuration: EngineConfiguration(seed: 1))
let session = try await engine.start("At what temperature does water boil?")

var overrides = RoundOverrides()
while let round = try await session.nextRound(overrides: overrides) {
    let best = round.answers.compactMap(\.meanScore).max() ?? 0
    print("round \(round.round): \(round.calls) calls, best mean \(best), \(round.decision?.signal ?? "-")")
    // After the first round: steer the prompts and drop the third member.
    overrides =
        round.round == 1
        ? RoundOverrides(
            additionalContext: "Focus on the effect of altitude.", dropMembers: [workflow.members.last?.id ?? ""])
        : RoundOverrides()
}
let outcome = try await session.finalize()
print("status: \(outcome.status.rawValue)")
print("final round: \(outcome.finalRound)")
print("dropped: \(outcome.coverage.droppedMembers.joined(separator: ","))")
print("answer: \(outcome.finalAnswer ?? "")")
