import Foundation
import Refinery
import RefineryCompiler
import Testing

@Suite struct WorkflowOverridesTests {
    private let base = Workflow(
        name: "consensus",
        members: [Member(id: "claude", model: ModelRef(provider: "anthropic", model: "claude-opus-4-6"))],
        convergence: Convergence(strategy: .voteThreshold(threshold: 8, stability: 2)),
        stages: [.propose(ProposeStage())])

    @Test func modelsReplaceMembersWithCountsAndRepeatedNames() throws {
        let members = try WorkflowOverrides.members(["gpt-4o:2", "claude", "openai/o3", "claude"], catalog: .builtin)
        #expect(members.map(\.id) == ["gpt-4o#1", "gpt-4o#2", "claude#1", "openai/o3", "claude#2"])
        #expect(
            members.map(\.model.description) == [
                "openai/gpt-4o", "openai/gpt-4o", "anthropic/claude-opus-4-6", "openai/o3", "anthropic/claude-opus-4-6",
            ])
        #expect(members[2].params.reasoningEffort == "high")
    }

    @Test func everyFlagLandsInTheWorkflow() throws {
        let overrides = WorkflowOverrides(
            models: ["codex", "gemini"], arbiter: "claude", threshold: 9, minRounds: 2, maxRounds: 3,
            timeoutSeconds: 30, maxConcurrent: 2, budgetUSD: 1.5)
        let workflow = try overrides.apply(to: base, catalog: .builtin)
        #expect(workflow.members.map(\.id) == ["codex", "gemini"])
        #expect(workflow.arbiter?.model.description == "anthropic/claude-opus-4-6")
        #expect(workflow.convergence.strategy == .voteThreshold(threshold: 9, stability: 2))
        #expect(workflow.iterations == Iterations(min: 2, max: 3))
        #expect(workflow.limits.timeoutSeconds == 30)
        #expect(workflow.limits.maxConcurrent == 2)
        #expect(workflow.limits.budgetUSD == 1.5)
        #expect(workflow.limits.quorum == 2)
    }

    @Test func aSingleModelHasQuorumOneAndOneRound() throws {
        let workflow = try WorkflowOverrides(models: ["claude"]).apply(to: base, catalog: .builtin)
        #expect(workflow.limits.quorum == 1)
        #expect(workflow.iterations == Iterations(min: 1, max: 1))
        let explicit = try WorkflowOverrides(models: ["claude"], maxRounds: 3).apply(to: base, catalog: .builtin)
        #expect(explicit.iterations.max == 3)
    }

    @Test(arguments: [
        WorkflowOverrides(models: ["no-such-model"]),
        WorkflowOverrides(models: ["gpt-4o:0"]),
        WorkflowOverrides(models: [""]),
        WorkflowOverrides(threshold: 11),
        WorkflowOverrides(minRounds: 4, maxRounds: 2),
        WorkflowOverrides(timeoutSeconds: 0),
        WorkflowOverrides(maxConcurrent: 0),
        WorkflowOverrides(budgetUSD: -1),
    ])
    func badValuesAreInputErrors(overrides: WorkflowOverrides) {
        do {
            _ = try overrides.apply(to: base, catalog: .builtin)
            Issue.record("expected an input error")
        } catch let error as InputError {
            #expect(error.code == .invalidOption)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func unknownModelMessageNamesItAndTheAliases() {
        do {
            _ = try WorkflowOverrides(arbiter: "gtp-4o").apply(to: base, catalog: .builtin)
        } catch let error as InputError {
            #expect(
                error.message.hasPrefix("--arbiter: unknown model \"gtp-4o\". Use an alias (claude, codex, gemini)"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
