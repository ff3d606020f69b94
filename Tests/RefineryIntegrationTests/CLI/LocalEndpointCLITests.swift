import Foundation
import Testing

extension CLIEndToEnd {
    /// The README's local-server recipe, exactly as written: one endpoint in `providers.yaml` and no other file.
    @Suite struct LocalEndpointCLITests {
        private static let providers = #"""
            providers:
              - { name: local, base_url: "BASE" }   # with or without /v1; api_key_env: VAR if it needs a key
            """#

        private func setUp(baseURL: String = "http://127.0.0.1:9") throws -> (RefineryBinary, Sandbox, [String: String])
        {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            try sandbox.write(
                "config/refinery/providers.yaml", Data(Self.providers.replacing("BASE", with: baseURL).utf8))
            return (binary, sandbox, RefineryBinary.environment(home: sandbox.root))
        }

        @Test func aDeclaredEndpointsModelsAreValidAndUnpriced() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let estimate = try await binary.run(
                ["estimate", "--models", "local/my-model:3"], environment: environment, directory: sandbox.root)
            #expect(estimate.exitCode == 0, "\(estimate.stderr)")
            #expect(estimate.stdout.contains("Unpriced"), "\(estimate.stdout)")
            #expect(estimate.stdout.contains("local/my-model"))

            try sandbox.write(
                "mine.yaml", Data("refinery: 1\nname: mine\nmodels: [local/my-model]\nstages: [propose]\n".utf8))
            let valid = try await binary.run(
                ["validate", "mine.yaml"], environment: environment, directory: sandbox.root)
            #expect(valid.exitCode == 0, "\(valid.stderr)")
            #expect(valid.stdout == "mine.yaml: ok\n")
        }

        /// A budget counts an unpriced model's calls as $0, so it cannot stop them: the run says so on stderr
        /// before the first call instead of letting the user trust a cap that cannot hold.
        @Test func aBudgetOverUnpricedModelsIsNotTrustedInSilence() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                let (_, sandbox, environment) = try setUp(baseURL: server.baseURL)
                defer { sandbox.cleanup() }
                let capped = try await binary.run(
                    ["Explain CRDTs", "--models", "local/my-model:2", "--budget", "0.01", "--quiet"],
                    environment: environment, directory: sandbox.root)
                #expect(capped.exitCode == 0, "\(capped.stderr)")
                #expect(
                    capped.stderr.contains(
                        "warning: the budget of $0.01 counts calls to local/my-model as $0: the catalog has no price "
                            + "for it, so the budget cannot stop them"), "\(capped.stderr)")
                let uncapped = try await binary.run(
                    ["Explain CRDTs", "--models", "local/my-model:2", "--quiet"], environment: environment,
                    directory: sandbox.root)
                #expect(uncapped.exitCode == 0, "\(uncapped.stderr)")
                #expect(!uncapped.stderr.contains("warning"), "\(uncapped.stderr)")
            }
        }

        @Test func theUnknownModelHintListsTheDeclaredEndpoints() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "typo.yaml", Data("refinery: 1\nname: typo\nmodels: [locl/my-model]\nstages: [propose]\n".utf8))
            let result = try await binary.run(
                ["validate", "typo.yaml"], environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4)
            #expect(result.stderr.contains("typo.yaml:3:10: error: unknown model `locl/my-model`"), "\(result.stderr)")
            #expect(result.stderr.contains("did you mean `local`?"))
            #expect(result.stderr.contains("the providers are: anthropic, command, gemini, local, ollama"))
        }

        @Test func theRecipeRunsAgainstTheLocalServerWithNoKey() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                let (_, sandbox, environment) = try setUp(baseURL: server.baseURL)
                defer { sandbox.cleanup() }
                let result = try await binary.run(
                    ["Explain CRDTs", "--models", "local/my-model:3", "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(try CLIHarness.json(result.stdout)["status"] as? String == "converged")
                #expect(server.requests.count >= 9)
            }
        }

        /// A small local model often answers a review with prose, not the JSON asked for: the re-ask with the
        /// format reminder says so in its events (`reminder: true`). It was a second `call_started` of the same
        /// node and attempt, with nothing saying why.
        @Test func theReAskWithAFormatReminderIsMarkedInTheEvents() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    let body = request.body
                    if body.contains("Your previous reply could not be read") {
                        return FakeOpenAI.completion(CLIHarness.universalReply())
                    }
                    return FakeOpenAI.completion(body.contains("response_format") ? "It looks fine to me." : "Four.")
                }
                let (_, sandbox, environment) = try setUp(baseURL: server.baseURL)
                defer { sandbox.cleanup() }
                let result = try await binary.run(
                    ["Explain CRDTs", "--models", "local/my-model:2", "--output-format", "jsonl"],
                    environment: environment, directory: sandbox.root)
                let events = try result.stdout.split(separator: "\n").map { try CLIHarness.json(String($0)) }
                let started = events.filter { $0["type"] as? String == "call_started" }
                let reAsks = started.filter { $0["reminder"] as? Bool == true }
                #expect(!reAsks.isEmpty, "\(result.stdout)")
                for reAsk in reAsks {
                    let node = reAsk["node"] as? String ?? ""
                    #expect(node.contains("evaluate"), "\(reAsk)")
                    #expect(started.contains { $0["node"] as? String == node && $0["reminder"] == nil })
                }
                #expect(started.filter { ($0["node"] as? String ?? "").contains("propose") }.allSatisfy {
                    $0["reminder"] == nil
                })
            }
        }

        /// A local server that is not running: the run ends below quorum (exit 3) naming the OS's reason and, in
        /// full, what to check. The advice was cut off (`… (errno: 111)); check that…`) and the reason read
        /// `connection reset (error set): Connection refused`.
        @Test func aServerThatIsNotRunningIsNamedWithWhatToCheck() async throws {
            // Behind a long path (a proxy's prefix), the reason is longer than the 160 characters a quorum message
            // gives each member.
            let (binary, sandbox, environment) = try setUp(
                baseURL: "http://127.0.0.1:9/a/proxy/prefix/long/enough/to/need/shortening")
            defer { sandbox.cleanup() }
            let result = try await binary.run(
                ["Explain CRDTs", "--models", "local/my-model", "--output-format", "jsonl"], environment: environment,
                directory: sandbox.root)
            #expect(result.exitCode == 3, "\(result.stdout)\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            // Each failed call's event names the OS's reason as it says it.
            #expect(
                result.stdout.contains(
                    #"/v1/chat/completions (Connection refused (errno 111)); check that the server is running"#),
                "\(result.stdout)")
            let stoppedBy = try CLIHarness.json(lines.last ?? "")["stopped_by"] as? String ?? ""
            #expect(stoppedBy.contains("local/my-model: unreachable: could not connect to local at http://127.0.0.1:9/"))
            #expect(stoppedBy.hasSuffix("…; check that the server is running and the base URL"), "\(stoppedBy)")
        }

        /// llama.cpp's `llama-server` answers 503 `Loading model` until its model is in memory, which takes seconds
        /// to minutes: the call waits for it, asking again every second within its timeout and without spending a
        /// retry. It spent its three retries in ~4 s and dropped the member (exit 3) while the model loaded.
        @Test func aServerStillLoadingTheModelIsWaitedForWithinTheTimeout() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let loading = FakeReply.json(
                #"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#, status: 503)
            try await FakeServer.run { server in
                server.route(
                    FakeOpenAI.path, loading, loading, loading, loading, loading,
                    FakeOpenAI.completion(CLIHarness.universalReply()))
                let (_, sandbox, environment) = try setUp(baseURL: server.baseURL)
                defer { sandbox.cleanup() }
                let result = try await binary.run(
                    ["Explain CRDTs", "--models", "local/my-model", "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
                #expect(try CLIHarness.json(result.stdout)["status"] as? String == "single_model")
                #expect(server.requests.count == 6)
            }
            // A model that is not loaded within the call's timeout fails the call as it came, saying so.
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, loading)
                let (_, sandbox, environment) = try setUp(baseURL: server.baseURL)
                defer { sandbox.cleanup() }
                let result = try await binary.run(
                    ["Explain CRDTs", "--models", "local/my-model", "--timeout", "2", "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 3, "\(result.stdout)\(result.stderr)")
                let stoppedBy = try CLIHarness.json(result.stdout)["stopped_by"] as? String ?? ""
                #expect(
                    stoppedBy.hasSuffix(
                        "model_loading: local is still loading the model (HTTP 503): Loading model; not ready after "
                            + "2 s, the call's timeout: raise it for a model slow to load"), "\(stoppedBy)")
                #expect(server.requests.count == 3)
            }
        }
    }
}

extension CLIEndToEnd {
    /// `examples/prompt-template.yaml` sends the prompts its templates mean.
    @Suite struct PromptTemplateExampleCLITests {
        @Test func theExampleRendersTheLabelTheAnswerAndTheReviews() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let example = CLIHarness.packageRoot.appendingPathComponent("examples/prompt-template.yaml").path
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply(score: 4)))
                let result = try await binary.run(
                    [
                        "run", example, "What is 2+2?", "--models", "openai/gpt-4o,openai/gpt-4o-mini",
                        "--max-rounds", "1", "--output-format", "json",
                    ],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                #expect([0, 2].contains(result.exitCode), "\(result.stderr)")
                let bodies = server.requests.map(\.body)
                let reviews = bodies.filter { $0.contains("You are reviewing Response ") }
                #expect(reviews.count == 2)
                #expect(reviews.allSatisfy { $0.contains("Response A:") || $0.contains("Response B:") })
                let refines = bodies.filter { $0.contains("Write the improved answer.") }
                #expect(refines.count == 2)
                #expect(refines.allSatisfy { $0.contains("(4/10): It is right.") }, "\(refines)")
                // No Swift collection printed into a prompt.
                #expect(!bodies.contains { $0.contains(#"[\"label\""#) || $0.contains(#"[\"text\""#) })
                #expect(!bodies.contains { $0.contains("You are reviewing 's answer") })
            }
        }
    }
}
