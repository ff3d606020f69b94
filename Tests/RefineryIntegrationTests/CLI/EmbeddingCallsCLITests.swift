import Foundation
import Testing

extension CLIEndToEnd {
    /// The semantic strategy's embedding requests are calls of the run: recorded in the ledger (a resume sends
    /// none of them again), priced from the catalog into the run's cost, and counted by `refinery estimate`.
    /// They were outside all of it: a resume paid for every embedding again, and no cost counted them.
    @Suite struct EmbeddingCallsCLITests {
        /// One model drafts and revises; every revision differs from the last by a few characters (its request's
        /// size), so neither char similarity nor Jaccard decides and the embedding cosine is asked each round.
        static let workflow = """
            refinery: 1
            name: embedded
            models: [openai/gpt-4o]
            iterations: { min: 1, max: 3 }
            convergence:
              strategy: semantic
              threshold: 0.99
              char_high: 0.999
              char_low: 0.01
              jaccard_high: 1.0
              embedding: { model: openai/text-embedding-3-small }
              regression_guard: false
            stages:
              - propose
              - repeat:
                  - refine: { protocol: critique-revise }
                  - close
            output: draft

            """

        /// Tokens the fake server says each embedding request used.
        static let promptTokens = 1000

        /// A chat reply that depends only on its request (a resume asks the same requests again).
        static func chatReply(_ request: RecordedRequest) -> FakeReply {
            .delayed(
                .milliseconds(40),
                FakeOpenAI.completion(
                    "<critique>Tighten it.</critique><revised>The answer is four, revision \(request.body.utf8.count)."
                        + "</revised>"))
        }

        /// One vector per input, by its text: two different drafts are far apart (cosine below the threshold).
        static func embeddingReply(_ request: RecordedRequest) -> FakeReply {
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body.utf8))) as? [String: Any]
            let inputs = body?["input"] as? [String] ?? []
            let items = inputs.enumerated().map { index, text in
                let angle = Double(text.unicodeScalars.reduce(0) { ($0 * 31 + Int($1.value)) % 3600 }) / 10
                let vector = [cos(angle * .pi / 180), sin(angle * .pi / 180)]
                return #"{"object":"embedding","index":\#(index),"embedding":[\#(vector[0]),\#(vector[1])]}"#
            }
            return .json(
                #"{"object":"list","data":[\#(items.joined(separator: ","))],"model":"text-embedding-3-small","#
                    + #""usage":{"prompt_tokens":\#(promptTokens),"total_tokens":\#(promptTokens)}}"#)
        }

        private static func serve(_ server: FakeServer) {
            server.route(FakeOpenAI.path, handler: chatReply)
            server.route(FakeOpenAI.embeddingsPath, handler: embeddingReply)
        }

        private static func embeddingRequests(_ server: FakeServer) -> Int {
            server.requests.filter { $0.path == FakeOpenAI.embeddingsPath }.count
        }

        /// What must not depend on an interruption.
        private static func stable(_ json: [String: Any]) -> [String] {
            let metadata = json["metadata"] as? [String: Any]
            let winner = json["winner"] as? [String: Any]
            return [
                "\(json["status"] ?? "")", "\(json["final_round"] ?? "")", "\(json["stop_reason"] ?? "")",
                "\(winner?["answer"] ?? "")", "\(metadata?["total_rounds"] ?? "")", "\(metadata?["total_calls"] ?? "")",
                "\(json["cost_usd"] ?? "")",
            ]
        }

        @Test func aRunCountsItsEmbeddingRequestsInItsCostAndAResumeSendsNoneAgain() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            try await FakeServer.run { server in
                Self.serve(server)
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let arguments = ["run", "w.yaml", "What is 2+2?", "--seed", "3", "--output-format", "json"]

                // The uninterrupted run: an embedding request at each close (one text new each round after the first).
                let referenceStore = sandbox.root.appendingPathComponent("reference.db").path
                let reference = try await binary.run(
                    arguments + ["--store", referenceStore], environment: environment, directory: sandbox.root)
                #expect(reference.exitCode == 0, "\(reference.stderr)")
                let referenceJSON = try CLIHarness.json(reference.stdout)
                let embeddings = Self.embeddingRequests(server)
                #expect(embeddings >= 2, "\(reference.stdout)")

                // Its cost counts the embedding requests at the catalog's $0.02 per million input tokens: the
                // ledger holds them as calls of the run, and the run's cost is what its calls cost.
                let id = try #require(
                    try await binary.listRuns(store: referenceStore, environment: environment, directory: sandbox.root)
                        .first?["id"] as? String)
                let export = try await binary.run(
                    ["runs", "export", id, "--store", referenceStore], environment: environment,
                    directory: sandbox.root)
                let calls = try CLIHarness.json(export.stdout)["calls"] as? [[String: Any]] ?? []
                let embedCalls = calls.filter { ($0["node"] as? String ?? "").hasSuffix(".embed") }
                #expect(embedCalls.count == embeddings)
                let perRequest = Double(Self.promptTokens) * 0.02 / 1_000_000
                for call in embedCalls {
                    #expect(abs((call["cost_usd"] as? Double ?? 0) - perRequest) < 1e-12, "\(call)")
                }
                let cost = try #require(referenceJSON["cost_usd"] as? Double)
                let paid = calls.reduce(0.0) { $0 + ($1["cost_usd"] as? Double ?? 0) }
                #expect(abs(cost - paid) < 1e-9, "run cost \(cost), calls \(paid)")
                let shown = try await binary.run(
                    ["runs", "show", id, "--store", referenceStore, "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                #expect(abs((try CLIHarness.json(shown.stdout)["cost_usd"] as? Double ?? -1) - paid) < 1e-9)

                // The same run killed (SIGKILL) once its first embedding request was answered and the next
                // round's call went out (the close records the request before the round ends).
                let store = sandbox.root.appendingPathComponent("crash.db").path
                let before = server.requests.count
                let running = try binary.start(
                    arguments + ["--store", store], environment: environment, directory: sandbox.root)
                try await running.kill {
                    let sent = server.requests.dropFirst(before)
                    guard let first = sent.firstIndex(where: { $0.path == FakeOpenAI.embeddingsPath }) else {
                        return false
                    }
                    return sent[first...].contains { $0.path == FakeOpenAI.path }
                }
                let embeddedBeforeKill = server.requests.dropFirst(before)
                    .filter { $0.path == FakeOpenAI.embeddingsPath }.count
                #expect(embeddedBeforeKill >= 1)
                let crashID = try #require(
                    try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                        .first?["id"] as? String)

                let beforeResume = Self.embeddingRequests(server)
                let resumed = try await binary.run(
                    ["resume", crashID, "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                // The embedding requests answered before the kill are served from the ledger: none is sent again.
                #expect(Self.embeddingRequests(server) - beforeResume == embeddings - embeddedBeforeKill)
                #expect(Self.stable(try CLIHarness.json(resumed.stdout)) == Self.stable(referenceJSON))
            }
        }

        @Test func theEstimateCountsAnEmbeddingRequestPerRound() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9")
            let estimate = try await binary.run(
                ["estimate", "w.yaml", "What is 2+2?", "--output-format", "json"], environment: environment,
                directory: sandbox.root)
            #expect(estimate.exitCode == 0, "\(estimate.stderr)")
            let json = try CLIHarness.json(estimate.stdout)
            let stages = json["stages"] as? [[String: Any]] ?? []
            let close = try #require(stages.first { $0["stage"] as? String == "close" })
            // At most one request a round (3 rounds), none in the cheapest run; priced, so counted in the cost.
            #expect(close["calls_per_pass"] as? Int == 1)
            #expect((close["calls"] as? [String: Any])?["max"] as? Int == 3)
            #expect((close["calls"] as? [String: Any])?["min"] as? Int == 0)
            #expect(((close["cost_usd"] as? [String: Any])?["max"] as? Double ?? 0) > 0)
            let text = try await binary.run(
                ["estimate", "w.yaml", "What is 2+2?"], environment: environment, directory: sandbox.root)
            #expect(text.stdout.contains("at most 1 embedding request a round"), "\(text.stdout)")
        }

        /// A workflow whose first draft is written in round 1 (`propose` inside the repeat block): round 1 has
        /// nothing to compare it with, so only rounds 2 and 3 can ask for embeddings.
        static let firstDraftInRoundOne = workflow.replacingOccurrences(
            of: "  - propose\n  - repeat:\n      - refine: { protocol: critique-revise }\n",
            with: "  - repeat:\n      - propose: { context: own-history }\n")

        @Test func theEstimateCountsTheEmbeddingRequestsARunMakes() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.firstDraftInRoundOne.utf8))
            try await FakeServer.run { server in
                Self.serve(server)
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let estimate = try await binary.run(
                    ["estimate", "w.yaml", "What is 2+2?", "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(estimate.exitCode == 0, "\(estimate.stderr)")
                let stages = try CLIHarness.json(estimate.stdout)["stages"] as? [[String: Any]] ?? []
                let close = try #require(stages.first { $0["stage"] as? String == "close" })
                let calls = close["calls"] as? [String: Any]

                // The run to max rounds: every draft differs from the last, so each comparison asks for embeddings.
                let run = try await binary.run(
                    ["run", "w.yaml", "What is 2+2?", "--output-format", "json", "--store", "runs.db"],
                    environment: environment, directory: sandbox.root)
                #expect(run.exitCode == 2, "\(run.stderr)")
                #expect(try CLIHarness.json(run.stdout)["final_round"] as? Int == 3)
                // Round 1 compares nothing (its draft is the run's first), rounds 2 and 3 one request each: the
                // estimate said 3.
                #expect(Self.embeddingRequests(server) == 2)
                #expect(calls?["max"] as? Int == Self.embeddingRequests(server), "\(close)")
                #expect(calls?["min"] as? Int == 0)
            }
        }
    }
}
