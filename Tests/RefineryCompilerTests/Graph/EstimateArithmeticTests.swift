import Foundation
import RefinerySyntax
import Testing

@testable import RefineryCompiler

/// Token arithmetic in the estimate never traps: `max_tokens` is bounded where a workflow is read,
/// clamped where a library caller sets it directly, and the totals saturate.
@Suite struct EstimateArithmeticTests {
    @Test func aHugeMaxTokensIsRefusedWithItsLocation() {
        let result = Fixtures.compiler().compile(
            yaml: """
                refinery: 1
                name: big
                models:
                  - model: openai/gpt-4o
                    params: { max_tokens: 9223372036854775807 }
                stages: [propose]
                """, displayName: "w.yaml", path: "/work/flows/w.yaml")
        #expect(result.workflow == nil)
        let diagnostic = result.diagnostics.first
        #expect(diagnostic?.message.contains("`max_tokens` must be between 1 and 100000000") == true)
        #expect(diagnostic?.location?.line == 5)
    }

    @Test func aHugeMaxTokensSetThroughTheLibraryIsClamped() {
        var workflow = GraphFixtures.consensusClassic
        workflow.iterations = Iterations(min: 1, max: 1000)
        for index in workflow.members.indices { workflow.members[index].params.maxTokens = Int.max }
        let estimate = WorkflowEstimate.estimate(
            workflow: workflow, catalog: WorkflowEstimateTests.catalog, promptTokens: Int.max)
        #expect(estimate.tokens.output.min <= estimate.tokens.output.max)
        #expect(estimate.tokens.input.min <= estimate.tokens.input.max)
        #expect(estimate.costUSD.max.isFinite)
        // Each member's call is counted at the clamp, not at `Int.max`.
        let first = estimate.perRound.first
        #expect((first?.outputTokens ?? 0) >= ModelParams.maxTokensLimit)
        #expect((first?.outputTokens ?? 0) <= (first?.calls ?? 0) * ModelParams.maxTokensLimit)
    }
}
