import Foundation
import RefineryStore
import Testing

extension CLIEndToEnd {
    @Suite struct SavedConfigCLITests {
        @Test func saveWritesIntoTheUserFolderAndRemoveDeletesIt() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            let saved = try await binary.run(
                [
                    "save", "my-consortium", "--model", "gpt-4o:2", "--model", "claude", "--arbiter", "claude",
                    "--confidence-threshold", "0.9", "--max-iterations", "5", "--min-iterations", "1", "--system",
                    "Be brief.",
                ],
                environment: environment, directory: sandbox.root)
            #expect(saved.exitCode == 0, "\(saved.stderr)")
            let file = sandbox.root.appendingPathComponent("config/refinery/workflows/my-consortium.yaml")
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(text.contains("extends: \"consortium\""))
            #expect(text.contains("  - \"gpt-4o:2\"\n  - \"claude\""))

            let again = try await binary.run(
                ["save", "my-consortium"], environment: environment, directory: sandbox.root)
            #expect(again.exitCode == 4)
            #expect(again.stderr.contains("already exists; pass --force"))

            let removed = try await binary.run(
                ["remove", "my-consortium"], environment: environment, directory: sandbox.root)
            #expect(removed.exitCode == 0)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            let missing = try await binary.run(
                ["remove", "my-consortium"], environment: environment, directory: sandbox.root)
            #expect(missing.exitCode == 4)
        }

        /// `save` writes a file a person reads and commits: `openai/gpt-4o` as written (it was `"openai\/gpt-4o:2"`,
        /// JSON's escape), and a `--system` that holds DEL, NEL or U+2028 saved as given (DEL was refused, located
        /// in a file never written; NEL and U+2028 came back as spaces, libyaml folding them as line breaks).
        @Test func saveWritesModelsAsTypedAndKeepsEverySystemCharacter() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            let system = "Say \"hi\"\u{7F}\u{85}\u{2028}a/b\\c\n\tend \u{1F600}"
            let saved = try await binary.run(
                ["save", "team", "--model", "openai/gpt-4o:2", "--system", system, "--to", "workflows"],
                environment: environment, directory: sandbox.root)
            #expect(saved.exitCode == 0, "\(saved.stderr)")
            let text = try String(
                contentsOf: sandbox.root.appendingPathComponent("workflows/team.yaml"), encoding: .utf8)
            #expect(text.contains("  - \"openai/gpt-4o:2\"\n"), "\(text)")
            #expect(!text.unicodeScalars.contains { $0 == "\u{7F}" || $0 == "\u{85}" || $0 == "\u{2028}" }, "\(text)")

            let shown = try await binary.run(
                ["show", "team", "--output-format", "json"], environment: environment, directory: sandbox.root)
            #expect(shown.exitCode == 0, "\(shown.stderr)")
            let document = try CLIHarness.json(shown.stdout)
            #expect(document["system"] as? String == system, "\(shown.stdout)")
        }

        /// A saved config another one `extends:` is not removed in silence (the other would stop compiling):
        /// refused with exit 4 naming it, until it is gone or `--force` is given.
        @Test func removingAConfigOthersExtendIsRefusedNamingThem() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            for (name, base) in [("team", "consortium"), ("team-fast", "team")] {
                let saved = try await binary.run(
                    ["save", name, "--extends", base, "--model", "gpt-4o:2"], environment: environment,
                    directory: sandbox.root)
                #expect(saved.exitCode == 0, "\(saved.stderr)")
            }
            let folder = sandbox.root.appendingPathComponent("config/refinery/workflows")
            let refused = try await binary.run(["remove", "team"], environment: environment, directory: sandbox.root)
            #expect(refused.exitCode == 4, "\(refused.stderr)")
            #expect(refused.stderr.contains("team is extended by team-fast"), "\(refused.stderr)")
            #expect(refused.stderr.contains("--force"), "\(refused.stderr)")
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("team.yaml").path))

            let leaf = try await binary.run(
                ["remove", "team-fast"], environment: environment, directory: sandbox.root)
            #expect(leaf.exitCode == 0, "\(leaf.stderr)")
            _ = try await binary.run(
                ["save", "team-fast", "--extends", "team", "--model", "gpt-4o:2"], environment: environment,
                directory: sandbox.root)
            let forced = try await binary.run(
                ["remove", "team", "--force"], environment: environment, directory: sandbox.root)
            #expect(forced.exitCode == 0, "\(forced.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("team.yaml").path))
        }

        @Test func saveToAFolderForGit() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let result = try await binary.run(
                ["save", "team", "--model", "claude", "--to", "workflows"],
                environment: RefineryBinary.environment(home: sandbox.root), directory: sandbox.root)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(
                FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("workflows/team.yaml").path))
        }

        @Test func invalidSaveFlagsExitFour() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            let badName = try await binary.run(
                ["save", "../x", "--model", "claude"], environment: environment, directory: sandbox.root)
            #expect(badName.exitCode == 4)
            #expect(badName.stderr.contains("is not a valid name"))
            // A name longer than a file name can be got Foundation's "file name too long" (exit 1).
            let long = String(repeating: "a", count: 300)
            let longName = try await binary.run(
                ["save", long, "--model", "claude"], environment: environment, directory: sandbox.root)
            #expect(longName.exitCode == 4, "\(longName.stderr)")
            let shown = "\"\(long.prefix(60))… (300 characters)\" is not a valid name: use lower-case letters, "
            #expect(longName.stderr.contains(shown), "\(longName.stderr)")
            #expect(longName.stderr.contains("at most 128 characters."), "\(longName.stderr)")
            let badRounds = try await binary.run(
                ["save", "x", "--min-iterations", "3", "--max-iterations", "2"], environment: environment,
                directory: sandbox.root)
            #expect(badRounds.exitCode == 4)
        }

        /// What `save` would write is compiled first, by the compiler a run by name uses: a file that would
        /// not compile is refused with its diagnostics (exit 4) and never written. Each is located at the flag
        /// that gave the value (`<command line>: --model`), as `run`'s flags are, not in the unwritten file.
        @Test(arguments: [
            (["--threshold", "nan"], "<command line>: --confidence-threshold: error: `convergence.threshold` must be a number, found `nan` [E101]"),
            (["--extends", "../../x"], "<command line>: --extends: error: `extends`: `../../x` is not a workflow name"),
            (["--model", "claude\ninjected: 1"], "<command line>: --model: error: the model name `claude\\ninjected: 1` contains a control character (U+000A)"),
            (["--model", "gtp-4o"], "<command line>: --model: error: unknown model `gtp-4o`"),
        ])
        func saveRefusesWhatWouldNotCompile(flags: [String], shown: String) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let result = try await binary.run(
                ["save", "broken", "--model", "claude"] + flags,
                environment: RefineryBinary.environment(home: sandbox.root), directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stdout)")
            #expect(!result.stderr.contains("broken.yaml:"), "\(result.stderr)")
            #expect(result.stderr.contains(shown), "\(result.stderr)")
            let file = sandbox.root.appendingPathComponent("config/refinery/workflows/broken.yaml")
            #expect(!FileManager.default.fileExists(atPath: file.path))
        }

        /// A config named like its base shadows that name once written, so `save consensus --extends consensus`
        /// used to write a file that extends itself (every `run consensus` then failed with E501). It is refused,
        /// nothing is left behind, and `--extends builtin:consensus` reaches the built-in it shadows.
        @Test func aConfigThatWouldExtendItselfIsRefusedAndBuiltinNamesTheBase() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            let file = sandbox.root.appendingPathComponent("config/refinery/workflows/consensus.yaml")
            let itself = try await binary.run(
                ["save", "consensus", "--model", "claude:2", "--extends", "consensus"], environment: environment,
                directory: sandbox.root)
            #expect(itself.exitCode == 4, "\(itself.stdout)")
            #expect(itself.stderr.contains("[E501]"), "\(itself.stderr)")
            #expect(itself.stderr.contains("builtin:NAME"), "\(itself.stderr)")
            #expect(!FileManager.default.fileExists(atPath: file.path))
            let builtin = try await binary.run(
                ["save", "consensus", "--model", "claude:2", "--extends", "builtin:consensus"],
                environment: environment, directory: sandbox.root)
            #expect(builtin.exitCode == 0, "\(builtin.stderr)")
            let shown = try await binary.run(["show", "consensus"], environment: environment, directory: sandbox.root)
            #expect(shown.exitCode == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains("extends:     builtin:consensus"), "\(shown.stdout)")
            #expect(shown.stdout.contains("claude#2"), "\(shown.stdout)")
        }
    }

    @Suite struct RunsCLITests {
        /// No ledger yet (a new install): it lists nothing and creates nothing.
        @Test func emptyStoreListsNothingAndUnknownRunExitsFour() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            let ledger = sandbox.root.appendingPathComponent("data/refinery/refinery.db").path
            let none = try await binary.run(["runs", "list"], environment: environment, directory: sandbox.root)
            #expect(none.exitCode == 0, "\(none.stderr)")
            #expect(none.stdout.contains("No runs recorded yet"), "\(none.stdout)")
            let list = try await binary.run(
                ["runs", "list", "--output-format", "json"], environment: environment, directory: sandbox.root)
            #expect(list.exitCode == 0, "\(list.stderr)")
            let runs = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any]
            #expect(runs?.count == 0)
            #expect(!FileManager.default.fileExists(atPath: ledger))
            let show = try await binary.run(
                ["runs", "show", "nope"], environment: environment, directory: sandbox.root)
            #expect(show.exitCode == 4)
            #expect(show.stderr == "refinery: No run with id nope. `refinery runs list` shows the recorded runs.\n")
        }

        /// `REFINERY_STORE` picks the store as README and DESIGN promise; `--store` wins over it.
        @Test func refineryStoreVariablePicksTheStoreAndTheFlagWins() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let variable = sandbox.root.appendingPathComponent("from-env/runs.db").path
            let flag = sandbox.root.appendingPathComponent("from-flag.db").path
            let fallback = sandbox.root.appendingPathComponent("data/refinery/refinery.db").path
            let environment = RefineryBinary.environment(home: sandbox.root, extra: ["REFINERY_STORE": variable])
            // A reading command creates no ledger: in a folder that does not exist it is refused, named.
            let list = try await binary.run(["runs", "list"], environment: environment, directory: sandbox.root)
            #expect(list.exitCode == 4, "\(list.stderr)")
            #expect(list.stderr.contains("No ledger at \(variable) ($REFINERY_STORE)"), "\(list.stderr)")
            #expect(!FileManager.default.fileExists(atPath: fallback))
            // The flag wins; its folder exists, so it reads as an empty ledger, still not created.
            let flagged = try await binary.run(
                ["runs", "list", "--store", flag, "--output-format", "json"], environment: environment,
                directory: sandbox.root)
            #expect(flagged.exitCode == 0, "\(flagged.stderr)")
            #expect((try JSONSerialization.jsonObject(with: Data(flagged.stdout.utf8)) as? [Any])?.isEmpty == true)
            #expect(!FileManager.default.fileExists(atPath: variable) && !FileManager.default.fileExists(atPath: flag))
        }
    }
}
