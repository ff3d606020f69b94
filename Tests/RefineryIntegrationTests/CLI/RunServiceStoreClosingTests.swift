import Foundation
import Refinery
import RefineryRuntime
import RefineryStore
import RefineryTestSupport
import Testing

/// Every command closes the SQLite ledger it opened, so the next command skips the integrity check that
/// reads every page of it (Benchmarks/README.md: +34 ms a run at 2,000 recorded runs).
@Suite struct RunServiceStoreClosingTests {
    private static let workflow = """
        refinery: 1
        name: solo
        models: [openai/gpt-4o]
        stages:
          - propose
        output: draft
        """

    @Test func aCommandClosesItsLedgerAndTheNextOpenSkipsTheFullCheck() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "refinery-close-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(Self.workflow.utf8).write(to: folder.appendingPathComponent("solo.yaml"))
        let path = folder.appendingPathComponent("runs.db").path
        let service = RunService(
            environment: ["XDG_CONFIG_HOME": folder.path, "XDG_DATA_HOME": folder.path], workingDirectory: folder,
            storePath: path, providers: ScriptedResolver(default: ScriptedProvider { _ in .text("four") }))

        let first = try await service.run(RunRequest(target: "solo.yaml", prompt: "What is 2+2?", seed: 7))
        #expect(first.exitCode == .success)
        #expect(FileManager.default.fileExists(atPath: path + "-checked"))
        let second = try await service.run(RunRequest(target: "solo.yaml", prompt: "And 3+3?", seed: 7))
        #expect(second.exitCode == .success)
        #expect(try await service.listRuns(limit: 10).count == 2)
        #expect(try await service.showRun(id: first.outcome.runID).prompt == "What is 2+2?")
        let store = try SQLiteRunStore(path: path)
        #expect(store.checkedInFull == false)
        store.close()
    }
}
