import Foundation
import Testing

extension CLIEndToEnd {
    /// Saved configs and revisions run for real against the fake server.
    @Suite struct RunByNameCLITests {
        private func setUp() throws -> (RefineryBinary, Sandbox, [String: String]) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            return (binary, sandbox, RefineryBinary.environment(home: sandbox.root))
        }

        /// The bare form means the built-in consensus: a project's `consensus.yaml` (here one that does not
        /// compile) or a saved `consensus` shadows `run consensus` only, and `save` says so.
        @Test func theBareFormRunsTheBuiltinConsensusWhateverShadowsTheName() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write("workflows/consensus.yaml", Data("refinery: 1\nname: consensus\nstagez: []\n".utf8))
            let models = ["--models", CLIHarness.threeModels, "--output-format", "json"]
            let bare = try await binary.run(
                ["What is 2+2?", "--dry-run"] + models, environment: environment, directory: sandbox.root)
            #expect(bare.exitCode == 0, "\(bare.stderr)")
            #expect(try CLIHarness.json(bare.stdout)["calls"] != nil)
            let byName = try await binary.run(
                ["run", "consensus", "What is 2+2?", "--dry-run"] + models, environment: environment,
                directory: sandbox.root)
            #expect(byName.exitCode == 4, "the project's file still answers to the name")
            let saved = try await binary.run(
                ["save", "consensus", "--model", "claude"], environment: environment, directory: sandbox.root)
            #expect(saved.exitCode == 0, "\(saved.stderr)")
            #expect(saved.stderr.contains("the built-in stays `builtin:consensus`"))
            #expect(saved.stderr.contains("the bare form"))
        }

        @Test func savedConfigRunsByName() async throws {
            let (binary, sandbox, _) = try setUp()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply(confidence: 0.95)))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let saved = try await binary.run(
                    [
                        "save", "team", "--model", "openai/gpt-4o:2", "--arbiter", "openai/o3",
                        "--confidence-threshold",
                        "0.9",
                        "--max-iterations", "2",
                    ],
                    environment: environment, directory: sandbox.root)
                #expect(saved.exitCode == 0, "\(saved.stderr)")
                let result = try await binary.run(
                    ["run", "team", "What is 2+2?", "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                let json = try CLIHarness.json(result.stdout)
                #expect(json["strategy"] as? String == "confidence")
                let winner = try #require(json["winner"] as? [String: Any])
                #expect(winner["member_id"] as? String == "arbiter")
                #expect(winner["model_id"] as? String == "openai/o3")
                // Two proposals and one synthesis, one round.
                #expect(server.requests.count == 3)
            }
        }

        @Test func runsShowSaysWhichRevisionRan() async throws {
            let (binary, sandbox, _) = try setUp()
            defer { sandbox.cleanup() }
            let repository = try await TemporaryGitRepository()
            defer { repository.cleanup() }
            try repository.write(
                "workflows/solo.yaml", "refinery: 1\nname: solo\nmodels: [openai/gpt-4o]\nstages: [propose]\n")
            let commit = try await repository.commitAll("solo")
            try await repository.git("tag", "v1")
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Four."))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let run = try await binary.run(
                    ["run", "solo@v1", "q"], environment: environment, directory: repository.root)
                #expect(run.exitCode == 0, "\(run.stderr)")
                #expect(run.stdout.hasPrefix("Four.\n"))
                let list = try await binary.run(
                    ["runs", "list", "--output-format", "json"], environment: environment, directory: repository.root)
                let runs = try #require(
                    try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
                #expect(runs.count == 1)
                #expect(runs.first?["workflow"] as? String == "solo")
                #expect(runs.first?["status"] as? String == "converged")
                #expect(runs.first?["started_at"] is String)
                let id = try #require(runs.first?["id"] as? String)
                let show = try await binary.run(
                    ["runs", "show", String(id.prefix(8))], environment: environment, directory: repository.root)
                #expect(show.exitCode == 0, "\(show.stderr)")
                #expect(show.stdout.contains("revision:  \(commit) (v1)"))
                #expect(show.stdout.contains("status:    converged (exit 0)"))
                let export = try await binary.run(
                    ["runs", "export", id], environment: environment, directory: repository.root)
                let exported = try CLIHarness.json(export.stdout)
                #expect((exported["calls"] as? [Any])?.count == 1)
            }
        }

        /// `validate NAME@REV` checks the file as it was at the revision, as `run NAME@REV` reads it; it used to
        /// say "`solo@v1` is not a workflow name" and exit 4 for a revision every other command took.
        @Test func validateChecksAWorkflowAtARevision() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let repository = try await TemporaryGitRepository()
            defer { repository.cleanup() }
            try repository.write(
                "workflows/solo.yaml", "refinery: 1\nname: solo\nmodels: [openai/gpt-4o]\nstages: [propose]\n")
            _ = try await repository.commitAll("solo")
            try await repository.git("tag", "v1")
            try repository.write(
                "workflows/solo.yaml", "refinery: 1\nname: solo\nmodles: [openai/gpt-4o]\nstages: [propose]\n")
            _ = try await repository.commitAll("broken")
            let good = try await binary.run(
                ["validate", "solo@v1"], environment: environment, directory: repository.root)
            #expect(good.exitCode == 0, "\(good.stderr)")
            #expect(good.stdout == "solo@v1: ok\n")
            let bad = try await binary.run(
                ["validate", "solo@HEAD"], environment: environment, directory: repository.root)
            #expect(bad.exitCode == 4, "\(bad.stdout)")
            #expect(bad.stderr.contains("solo.yaml@HEAD:3:1: error: unknown key `modles`"), "\(bad.stderr)")
        }

        @Test func dryRunPrintsTheEstimateAndCallsNothing() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            // No key and no server: a dry run must not need either.
            let result = try await binary.run(
                [
                    "What is 2+2?", "--models", CLIHarness.threeModels, "--max-rounds", "2", "--dry-run",
                    "--output-format",
                    "json",
                ],
                environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 0, "\(result.stderr)")
            let calls = try #require(try CLIHarness.json(result.stdout)["calls"] as? [String: Any])
            #expect(calls["max"] as? Int == 18)
            let text = try await binary.run(
                ["run", "consensus", "--models", CLIHarness.threeModels, "--dry-run"], environment: environment,
                directory: sandbox.root)
            #expect(text.exitCode == 0, "\(text.stderr)")
            #expect(text.stdout.hasPrefix("Estimate for consensus"))
        }
    }
}
