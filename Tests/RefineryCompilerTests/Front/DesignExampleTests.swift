import RefineryCompiler
import RefinerySyntax
import Testing

@Suite struct DesignExampleTests {
    static let design = """
        # yaml-language-server: $schema=../schemas/workflow.schema.json
        refinery: 1                  # file format version (required)
        name: review-loop            # required; [a-z0-9][a-z0-9_-]*
        version: 1.0.0
        description: Models propose, review each other blind, and improve until a stable leader scores high enough.

        models:
          - claude
          - openai/gpt-4o:2
          - model: gemini
            instances: 3
            name: gem
            system: You are a skeptical reviewer.
            params: { temperature: 0.9, max_tokens: 2048, reasoning_effort: high }
            fallback: [openrouter/google/gemini-2.5-pro]
        arbiter:
          model: claude
          fallback: [openai/gpt-4o]
        system: Answer precisely.

        iterations: { min: 1, max: 5 }
        convergence: { strategy: vote-threshold, threshold: 8.0, stability: 2 }
        limits: { timeout: 120s, max_concurrent: 8, retries: 3, budget: 2.50, quorum: 2 }

        stages:
          - propose
          - repeat:
              - evaluate: { mode: pairwise, anonymize: true }
              - refine
              - close
        output: winner
        """

    @Test func designExampleCompiles() throws {
        let result = WorkflowCompiler().compile(yaml: Self.design, displayName: "review.yaml")
        #expect(result.diagnostics == [])
        let workflow = try #require(result.workflow)
        #expect(workflow.name == "review-loop")
        #expect(workflow.version == "1.0.0")
        #expect(
            workflow.members.map(\.id) == ["claude", "openai/gpt-4o#1", "openai/gpt-4o#2", "gem#1", "gem#2", "gem#3"])
        #expect(workflow.members[0].model == ModelRef(provider: "anthropic", model: "claude-opus-4-6", alias: "claude"))
        #expect(workflow.members[0].params == ModelParams(reasoningEffort: "high"))
        #expect(workflow.members[3].params == ModelParams(temperature: 0.9, maxTokens: 2048, reasoningEffort: "high"))
        #expect(workflow.members[3].system == "You are a skeptical reviewer.")
        #expect(workflow.members[3].fallback.map(\.description) == ["openrouter/google/gemini-2.5-pro"])
        #expect(workflow.arbiter?.model.model == "claude-opus-4-6")
        #expect(workflow.arbiter?.fallback.map(\.description) == ["openai/gpt-4o"])
        #expect(workflow.limits == Limits(timeoutSeconds: 120, maxConcurrent: 8, retries: 3, budgetUSD: 2.5, quorum: 2))
        #expect(workflow.convergence.strategy == .voteThreshold(threshold: 8, stability: 2))
        #expect(
            workflow.stages == [
                .propose(ProposeStage()),
                .repeat([.evaluate(EvaluateStage()), .refine(RefineStage()), .close(CloseStage())]),
            ])
        #expect(workflow.output == .winner)
        #expect(workflow.provenance.contentSHA256?.count == 64)
    }
}
