// Example: plug a custom model provider into Refinery.
//
// `LocalRuleProvider` stands in for any model API you want to call (a local model server, an
// internal gateway, ...): implement `ModelProvider.complete(_:)`, hand the engine a
// `ProviderResolver` that returns it, and run a workflow. Structured stages (evaluate,
// synthesize) say what JSON they expect in `request.responseFormat`.
//
// Run: swift run ExampleCustomProvider

import Foundation
import RefineryCompiler
import RefineryRuntime

/// A toy model: answers with a fixed opinion per model name and scores answers by length.
struct LocalRuleProvider: ModelProvider {
    func complete(_ request: ModelRequest) async throws -> ModelReply {
        let prompt = request.messages.last?.content ?? ""
        let text: String
        switch request.responseFormat?.name {
        case "evaluation":
            // Rationale before score, as the rubric asks.
            let score = min(10, 5 + prompt.count % 5)
            text =
                "{\"strengths\": [\"direct\"], \"weaknesses\": [], \"suggestions\": [\"cite a source\"], "
                + "\"rationale\": \"Clear and short.\", \"score\": \(score)}"
        default:
            text = "\(request.model.model) says: insertion sort, because nearly sorted input makes it linear."
        }
        return ModelReply(text: text, usage: TokenUsage(inputTokens: prompt.count / 4, outputTokens: text.count / 4))
    }
}

/// Serves every `local/*` model with the rule provider; refuses anything else.
struct LocalResolver: ProviderResolver {
    func provider(for model: ModelRef) throws -> any ModelProvider {
        guard model.provider == "local" else {
            throw ProviderError(
                code: .missingCredentials, message: "Only local models are configured.", provider: model.provider)
        }
        return LocalRuleProvider()
    }
}

let yaml = """
    refinery: 1
    name: custom-provider-demo
    models: [local/alpha, local/beta, local/gamma]
    iterations: { min: 1, max: 2 }
    convergence: { strategy: vote-threshold, threshold: 6.0, stability: 1 }
    stages:
      - repeat:
          - propose
          - evaluate: { mode: pairwise }
          - close
    """

var catalog = ModelCatalog.builtin
catalog.providers.insert("local")
let compiled = WorkflowCompiler(catalog: catalog).compile(yaml: yaml, displayName: "custom-provider-demo.yaml")
guard let workflow = compiled.workflow else {
    for diagnostic in compiled.diagnostics { print(diagnostic) }
    exit(4)
}

let engine = Engine(workflow: workflow, providers: LocalResolver(), configuration: EngineConfiguration(seed: 7))
let outcome = try await engine.run("Which sorting algorithm suits nearly sorted data?")
print("status: \(outcome.status.rawValue)")
print("stopped by: \(outcome.stoppedBy)")
print("calls: \(outcome.totalCalls)")
print("winner: \(outcome.winner?.memberID ?? "-")")
print("answer: \(outcome.finalAnswer ?? "")")
