import Foundation
import Testing

extension CLIEndToEnd {
    /// The voting built-ins through the real binary: the vote in every output, its schema, the estimate
    /// and the graph drawing.
    @Suite struct VoteCLITests {
        @Test func voteBuiltinReportsTheVoteInJSONAndText() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    let model = request.json?["model"] as? String ?? ""
                    return FakeOpenAI.completion(model == "o3" ? "Hard to say.\nI am unsure" : "6 × 7\n**42**")
                }
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let json = try await binary.run(
                    ["run", "vote", "What is 6 × 7?", "--models", CLIHarness.threeModels, "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                #expect(json.exitCode == 0, "\(json.stderr)")
                #expect(server.requests.count == 3)
                let document = try CLIHarness.json(json.stdout)
                let vote = try #require(document["vote"] as? [String: Any])
                #expect(vote["winner"] as? String == "**42**")
                #expect(vote["answers_counted"] as? Int == 3)
                #expect((vote["share"] as? Double).map { abs($0 - 2.0 / 3.0) < 1e-9 } == true)
                #expect(vote["extract"] as? String == "last-line")
                let winner = try #require(document["winner"] as? [String: Any])
                #expect(winner["member_id"] as? String == "openai/gpt-4o")
                if let errors = try await CLIHarness.schemaErrors(json.stdout) { #expect(errors == []) }

                let text = try await binary.run(
                    ["run", "vote", "What is 6 × 7?", "--models", CLIHarness.threeModels],
                    environment: environment, directory: sandbox.root)
                #expect(text.exitCode == 0, "\(text.stderr)")
                #expect(text.stdout.contains("vote: “**42**” 2 of 3 (67 %)"), "\(text.stdout)")
            }
        }

        /// `tie: none` leaves a tied vote without a winner: the answer shown is a stand-in (the first member's),
        /// and coverage says so, as the winner's own `degraded` does; it called the run whole.
        @Test func aVoteWithoutAWinnerIsNamedInCoverage() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "tie.yaml",
                Data(
                    """
                    refinery: 1
                    name: tie
                    models: [openai/gpt-4o, openai/o3]
                    stages:
                      - propose
                      - vote: { extract: number, tie: none }

                    """.utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    FakeOpenAI.completion(request.json?["model"] as? String == "o3" ? "It is 41" : "It is 42")
                }
                let json = try await binary.run(
                    ["run", "tie.yaml", "q", "--output-format", "json"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                #expect(json.exitCode == 0, "\(json.stderr)")
                let document = try CLIHarness.json(json.stdout)
                let vote = try #require(document["vote"] as? [String: Any])
                #expect(vote["winner"] == nil)
                let winner = try #require(document["winner"] as? [String: Any])
                #expect(winner["degraded"] as? Bool == true)
                let coverage = try #require(document["coverage"] as? [String: Any])
                #expect(coverage["degraded"] as? Bool == true)
                let reasons = coverage["reasons"] as? [String] ?? []
                #expect(reasons.contains { $0.contains("the vote had no winner") }, "\(reasons)")
                if let errors = try await CLIHarness.schemaErrors(json.stdout) { #expect(errors == []) }
            }
        }

        @Test func estimateAndGraphKnowTheVote() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            let estimate = try await binary.run(
                ["estimate", "self-consistency", "--output-format", "json"], environment: environment,
                directory: sandbox.root)
            #expect(estimate.exitCode == 0, "\(estimate.stderr)")
            let calls = try #require(try CLIHarness.json(estimate.stdout)["calls"] as? [String: Any])
            #expect(calls["min"] as? Int == 5)
            #expect(calls["max"] as? Int == 15)
            let graph = try await binary.run(
                ["graph", "debate", "--format", "mermaid"], environment: environment, directory: sandbox.root)
            #expect(graph.exitCode == 0, "\(graph.stderr)")
            #expect(graph.stdout.contains("vote · 3 answers"))
            let invalid = sandbox.root.appendingPathComponent("bad.yaml")
            try Data(
                "refinery: 1\nname: bad\nmodels: [claude:3]\nconvergence: { strategy: agreement }\nstages:\n  - repeat: [propose, close]\n"
                    .utf8
            ).write(to: invalid)
            let validate = try await binary.run(
                ["validate", invalid.path], environment: environment, directory: sandbox.root)
            #expect(validate.exitCode == 4)
            #expect(validate.stderr.contains("[E310]") || validate.stdout.contains("[E310]"))
        }
    }
}
