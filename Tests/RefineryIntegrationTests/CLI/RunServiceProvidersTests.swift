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

    /// `pair.yaml` run (seed 7) in `folder` through a service whose provider scores every review `score`.
    private static func runPair(
        score: Double, in folder: URL
    ) async throws -> (service: RunService, provider: ScriptedProvider, result: RunResult) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(Self.workflow.utf8).write(to: folder.appendingPathComponent("pair.yaml"))
        let provider = ScriptedProvider { call in
            call.kind == "evaluatePairwise"
                ? .text(ScriptedReplies.evaluation(score: score))
                : .text("answer of \(call.participant)")
        }
        // No credentials in the environment: the built-in providers would refuse to start (exit 4).
        let service = RunService(
            environment: ["XDG_CONFIG_HOME": folder.path, "XDG_DATA_HOME": folder.path], workingDirectory: folder,
            storePath: folder.appendingPathComponent("runs.db").path,
            providers: ScriptedResolver(default: provider))
        let result = try await service.run(RunRequest(target: "pair.yaml", prompt: "What is 2+2?", seed: 7))
        return (service, provider, result)
    }

    @Test func runUsesTheInjectedResolverAndRecordsTheLedger() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-svc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (service, provider, result) = try await Self.runPair(score: 9, in: folder)

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

    /// The ledger's anonymization table is, for each `r{round}:{viewer}`, the labels that viewer saw and
    /// the members behind them: entry by entry, later entries winning (the reference loop below).
    private static func entryByEntry(_ entries: [AnonymizationEntry]) -> [String: [String: String]] {
        var table: [String: [String: String]] = [:]
        for entry in entries { table["r\(entry.round):\(entry.viewer)", default: [:]][entry.label] = entry.memberID }
        return table
    }

    @Test func theRecordedAnonymizationIsEachViewersLabels() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-svc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Reviews below the threshold: a second round, so the table has a key per round and viewer.
        let (service, _, result) = try await Self.runPair(score: 5, in: folder)

        let entries = result.outcome.anonymizationMap
        #expect(Set(entries.map(\.round)) == [1, 2])
        let stored = try await service.showRun(id: result.outcome.runID)
        #expect(stored.anonymization == Self.entryByEntry(entries))
        #expect(stored.anonymization.count == Set(entries.map { "\($0.round) \($0.viewer)" }).count)
    }

    @Test func anonymizationGroupsOutOfOrderOrRepeatedGiveTheSameTable() {
        let entries = [
            AnonymizationEntry(round: 1, viewer: "a", label: "A", memberID: "b"),
            AnonymizationEntry(round: 1, viewer: "a", label: "B", memberID: "c"),
            AnonymizationEntry(round: 2, viewer: "arbiter", label: "A", memberID: "a"),
            AnonymizationEntry(round: 1, viewer: "b", label: "A", memberID: "a"),
            AnonymizationEntry(round: 1, viewer: "a", label: "B", memberID: "d"),
            AnonymizationEntry(round: 1, viewer: "a", label: "C", memberID: "c"),
            AnonymizationEntry(round: 10, viewer: "a", label: "A", memberID: "a"),
        ]
        #expect(RunService.anonymizationTable(entries) == Self.entryByEntry(entries))
        #expect(RunService.anonymizationTable(entries)["r1:a"] == ["A": "b", "B": "d", "C": "c"])
        #expect(RunService.anonymizationTable([]).isEmpty)
    }
}
