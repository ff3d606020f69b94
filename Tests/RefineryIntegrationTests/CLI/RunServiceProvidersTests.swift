import Foundation
import Refinery
import RefineryRuntime
import RefineryStore
import RefineryTestSupport
import Testing

/// A library user runs a workflow through ``RunService`` with their own providers: no credentials,
/// no network, and the run is recorded in the ledger like a CLI run.
@Suite struct RunServiceProvidersTests {
    private static let workflow = """
        refinery: 1
        name: pair
        models: [openai/gpt-4o, anthropic/claude-opus-4-6]
        iterations: { min: 1, max: 2 }
        convergence: { strategy: vote-threshold, threshold: 8.0, stability: 1 }
        stages:
          - propose
          - repeat:
              - evaluate: { mode: pairwise }
              - close
        output: winner
        """

    @Test func runUsesTheInjectedResolverAndRecordsTheLedger() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-svc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(Self.workflow.utf8).write(to: folder.appendingPathComponent("pair.yaml"))
        let provider = ScriptedProvider { call in
            call.kind == "evaluatePairwise"
                ? .text(ScriptedReplies.evaluation(score: 9))
                : .text("answer of \(call.participant)")
        }
        // No credentials in the environment: the built-in providers would refuse to start (exit 4).
        let service = RunService(
            environment: ["XDG_CONFIG_HOME": folder.path, "XDG_DATA_HOME": folder.path], workingDirectory: folder,
            storePath: folder.appendingPathComponent("runs.db").path,
            providers: ScriptedResolver(default: provider))

        let result = try await service.run(RunRequest(target: "pair.yaml", prompt: "What is 2+2?", seed: 7))

        #expect(result.exitCode == .success)
        #expect(result.report.status == "converged")
        #expect(result.report.finalRound == 1)
        #expect(provider.calls.count == 4)  // 2 proposals + 2 pairwise reviews
        let store = try await service.openStore()
        let calls = try await store.calls(runID: result.outcome.runID)
        #expect(calls.count == 4)
        #expect(calls.allSatisfy { $0.status == .succeeded })
        #expect(Set(calls.map(\.participant)) == ["openai/gpt-4o", "anthropic/claude-opus-4-6"])
        let stored = try await service.showRun(id: result.outcome.runID)
        #expect(stored.seed == 7)
        #expect(stored.prompt == "What is 2+2?")
    }
}
