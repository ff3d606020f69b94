import Foundation
import Refinery
import Testing

@Suite struct SavedConfigsTests {
    private func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("refinery-saved-\(UUID().uuidString)")
    }

    @Test func savedFileExtendsABuiltInWithTheGivenFlags() throws {
        let configs = SavedConfigs(folder: temporaryFolder())
        defer { try? FileManager.default.removeItem(at: configs.folder) }
        let file = try configs.save(
            SavedConfig(
                name: "my-consortium", models: ["gpt-4o:2", "claude"], arbiter: "claude", confidenceThreshold: 0.9,
                maxIterations: 5, minIterations: 1, system: "Say \"why\".\nBriefly."))
        #expect(file.lastPathComponent == "my-consortium.yaml")
        #expect(
            try String(contentsOf: file, encoding: .utf8) == """
                # Saved with `refinery save`; edit freely or commit it to git.
                refinery: 1
                name: my-consortium
                extends: "consortium"
                models:
                  - "gpt-4o:2"
                  - "claude"
                arbiter: "claude"
                system: "Say \\"why\\".\\nBriefly."
                iterations: { min: 1, max: 5 }
                convergence: { threshold: 0.9 }

                """)
        #expect(configs.list() == ["my-consortium"])
        #expect(try configs.show("my-consortium").contains("name: my-consortium"))
    }

    @Test func existingConfigIsNotOverwrittenWithoutReplace() throws {
        let configs = SavedConfigs(folder: temporaryFolder())
        defer { try? FileManager.default.removeItem(at: configs.folder) }
        try configs.save(SavedConfig(name: "a", models: ["claude"]))
        do {
            try configs.save(SavedConfig(name: "a", models: ["codex"]))
            Issue.record("expected exists")
        } catch let error as InputError {
            #expect(error.code == .exists)
        }
        try configs.save(SavedConfig(name: "a", models: ["codex"]), replace: true)
        #expect(try configs.show("a").contains("\"codex\""))
    }

    @Test(arguments: ["../escape", "Upper", "-dash", "a/b", "", "a.b"])
    func invalidNamesAreRefused(name: String) {
        let configs = SavedConfigs(folder: temporaryFolder())
        do {
            try configs.save(SavedConfig(name: name))
            Issue.record("expected invalidName")
        } catch let error as InputError {
            #expect(error.code == .invalidName)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: configs.folder.path))
    }

    @Test func removeDeletesOnlyThatConfig() throws {
        let configs = SavedConfigs(folder: temporaryFolder())
        defer { try? FileManager.default.removeItem(at: configs.folder) }
        try configs.save(SavedConfig(name: "a"))
        try configs.save(SavedConfig(name: "b"))
        try configs.remove("a")
        #expect(configs.list() == ["b"])
        #expect(throws: InputError.self) { try configs.remove("a") }
    }

    @Test func userFolderFollowsXDG() {
        #expect(SavedConfigs.userFolder(environment: ["XDG_CONFIG_HOME": "/c"]).path == "/c/refinery/workflows")
        #expect(SavedConfigs.userFolder(environment: ["HOME": "/h"]).path == "/h/.config/refinery/workflows")
    }
}
