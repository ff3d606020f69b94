// `refinery bench` through the real binary against a fake HTTP server: a bench killed with SIGKILL
// and resumed redoes no run, pays no call twice and prints the uninterrupted bench's table.

import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension CLIEndToEnd {
    @Suite struct BenchCLITests {
        /// The numbers of a bench's JSON document that do not depend on timing or ids.
        private static func table(_ stdout: String) throws -> [String] {
            let json = try CLIHarness.json(stdout)
            let systems = (json["systems"] as? [[String: Any]] ?? []).map {
                "\($0["name"] ?? "") \($0["correct"] ?? "")/\($0["total"] ?? "") \($0["ci95"] ?? "") "
                    + "$\($0["cost_usd"] ?? "") calls \($0["calls"] ?? "")"
            }
            let items = (json["items"] as? [[String: Any]] ?? []).map { item in
                let results = (item["results"] as? [String: [String: Any]] ?? [:]).sorted { $0.key < $1.key }
                return "\(item["id"] ?? ""): "
                    + results.map { "\($0.key)=\($0.value["answer"] ?? "nil")/\($0.value["correct"] ?? "")" }
                    .joined(separator: ",")
            }
            return systems + items
        }

        /// `bench --dry-run` prices every system on every item, counts the dataset's items once (not once per
        /// system: it said "12 items" for 6), and calls nothing.
        @Test func dryRunCountsItemsOnceAndRunsPerSystem() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let rows = (1...6).map { "{\"id\":\"g\($0)\",\"question\":\"What is 2+\($0)?\",\"answer\":\"#### 4\"}" }
            try sandbox.write("gsm.jsonl", Data(rows.joined(separator: "\n").utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("4"))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let arguments = [
                    "bench", "single:openai/gpt-4o", "vote", "--dataset", "gsm.jsonl", "--models",
                    CLIHarness.threeModels, "--dry-run",
                ]
                let json = try await binary.run(
                    arguments + ["--output-format", "json"], environment: environment, directory: sandbox.root)
                #expect(json.exitCode == 0, "\(json.stderr)")
                let estimate = try CLIHarness.json(json.stdout)
                #expect(estimate["items"] as? Int == 6)
                #expect(estimate["runs"] as? Int == 12)
                // One call a single-model run, one per member for the vote: 6 × 1 + 6 × 3.
                let calls = try #require(estimate["calls"] as? [String: Any])
                #expect(calls["min"] as? Int == 24 && calls["max"] as? Int == 24, "\(calls)")
                // Per system, in the order named: its runs, calls, tokens and dollars, adding up to the totals.
                let systems = try #require(estimate["systems"] as? [[String: Any]], "\(estimate)")
                #expect(systems.map { $0["system"] as? String } == ["single:openai/gpt-4o", "vote"])
                #expect(systems.map { $0["runs"] as? Int } == [6, 6])
                #expect(systems.map { ($0["calls"] as? [String: Any])?["max"] as? Int } == [6, 18])
                let dollars = systems.compactMap { ($0["cost_usd"] as? [String: Any])?["max"] as? Double }
                let total = try #require((estimate["cost_usd"] as? [String: Any])?["max"] as? Double)
                #expect(dollars.count == 2 && dollars.allSatisfy { $0 > 0 } && abs(dollars.reduce(0, +) - total) < 1e-9)
                let inputs = systems.compactMap {
                    (($0["tokens"] as? [String: Any])?["input"] as? [String: Any])?["max"]
                }
                #expect(inputs.count == 2)
                let text = try await binary.run(arguments, environment: environment, directory: sandbox.root)
                #expect(text.exitCode == 0, "\(text.stderr)")
                #expect(text.stdout.hasPrefix("6 items, 12 runs"), "\(text.stdout)")
                #expect(
                    text.stdout.contains("\n  single:openai/gpt-4o: 6 runs, calls 6–6, tokens in "), "\(text.stdout)")
                #expect(text.stdout.contains("\n  vote: 6 runs, calls 18–18, tokens in "), "\(text.stdout)")
                #expect(server.requests.isEmpty)
            }
        }

        @Test(arguments: [5, 13])
        func killedBenchResumesToTheSameTable(killAfterRequests: Int) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let rows = (1...6).map { index in
                let (left, answer) = index % 2 == 0 ? (2, 4) : (3, 5)
                return "{\"id\":\"g\(index)\",\"question\":\"What is 2+\(left)?\",\"answer\":\"#### \(answer)\"}"
            }
            try sandbox.write("gsm.jsonl", Data(rows.joined(separator: "\n").utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, .delayed(.milliseconds(60), FakeOpenAI.completion("2 + 2 = 4.\n4")))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let arguments = [
                    "bench", "single:openai/gpt-4o", "vote", "--dataset", "gsm.jsonl", "--models",
                    CLIHarness.threeModels, "--concurrency", "2", "--seed", "5", "--output-format", "json",
                ]
                let reference = try await binary.run(
                    arguments + ["--store", "reference.db"], environment: environment, directory: sandbox.root)
                #expect(reference.exitCode == 0, "\(reference.stderr)")
                let referenceCalls = server.requests.count
                #expect(referenceCalls == 6 * 4)
                let expected = try Self.table(reference.stdout)
                // The fake answers 4: right on the even items, wrong on the odd ones, for both systems.
                #expect(expected.contains { $0.hasPrefix("single:openai/gpt-4o 3/6") }, "\(expected)")
                #expect(expected.contains { $0.hasPrefix("vote 3/6") }, "\(expected)")

                let store = sandbox.root.appendingPathComponent("crash.db").path
                let baseline = server.requests.count
                let running = try binary.start(
                    arguments + ["--store", store], environment: environment, directory: sandbox.root)
                try await running.kill { server.requests.count - baseline >= killAfterRequests }
                #expect(running.process.terminationReason == .uncaughtSignal)
                let before = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                let recorded = before.compactMap { $0["calls"] as? Int }.reduce(0, +)
                let listed = try await binary.run(
                    ["batch", "list", "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                let benches = try #require(
                    try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
                #expect(benches.first?["kind"] as? String == "bench")
                let id = try #require(benches.first?["id"] as? String)

                let beforeResume = server.requests.count
                let resumed = try await binary.run(
                    ["bench", "resume", id, "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                // Six items, two systems: the summary counts twelve runs (it said "12/12 items").
                #expect(resumed.stderr.contains("bench \(id): finished · 12/12 runs · $"), "\(resumed.stderr)")
                #expect(server.requests.count - beforeResume == referenceCalls - recorded)
                #expect(try Self.table(resumed.stdout) == expected)
                let after = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                #expect(after.count == 12)
            }
        }

        /// SIGTERM (as Ctrl-C) in the middle of a bench: exit 1 with the table of what finished and the command
        /// that finishes it, as a batch does. It printed "Reading the run store at ... failed.
        /// (CancellationError())" and neither the table nor the bench's id.
        @Test func aCancelledBenchPrintsItsTableAndHowToResume() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let rows = (1...8).map { "{\"id\":\"g\($0)\",\"question\":\"What is 2+\($0)?\",\"answer\":\"4\"}" }
            try sandbox.write("gsm.jsonl", Data(rows.joined(separator: "\n").utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, .delayed(.milliseconds(300), FakeOpenAI.completion("4")))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let running = try binary.start(
                    [
                        "bench", "single:openai/gpt-4o", "--dataset", "gsm.jsonl", "--concurrency", "2", "--store",
                        "runs.db", "--output-format", "json",
                    ], environment: environment, directory: sandbox.root)
                while server.requests.count < 3 && running.process.isRunning {
                    try await Task.sleep(for: .milliseconds(5))
                }
                kill(running.process.processIdentifier, SIGTERM)
                try await running.wait()
                let interrupted = try running.result()
                #expect(interrupted.exitCode == 1, "\(interrupted.stderr)")
                #expect(!interrupted.stderr.contains("CancellationError"), "\(interrupted.stderr)")
                let table = try CLIHarness.json(interrupted.stdout)
                let id = try #require(table["bench_id"] as? String)
                // The bench's items, not those it reached before the stop (it said 3 or 4 of 8).
                #expect((table["dataset"] as? [String: Any])?["items"] as? Int == 8, "\(table["dataset"] ?? "")")
                #expect(interrupted.stderr.contains("refinery bench resume \(id)"), "\(interrupted.stderr)")
                let resumed = try await binary.run(
                    ["bench", "resume", id, "--store", "runs.db", "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                let systems = try #require(try CLIHarness.json(resumed.stdout)["systems"] as? [[String: Any]])
                #expect(systems.first?["correct"] as? Int == 8)
            }
        }

        /// An item whose run failed (its provider refused it) counts in the table as incorrect and unanswered, as
        /// the JSON schema says, until `bench resume` runs it again: it was left out, so the system's accuracy was
        /// over the items it did not fail on (2/2 here instead of 2/3), and its `results` were empty.
        @Test func aFailedRunCountsAsIncorrect() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let rows = (1...3).map { "{\"id\":\"g\($0)\",\"question\":\"Item \($0): what is 2+2?\",\"answer\":\"4\"}" }
            try sandbox.write("gsm.jsonl", Data(rows.joined(separator: "\n").utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    request.body.contains("Item 2")
                        ? FakeOpenAI.error("refused", type: "invalid_request_error", status: 400)
                        : FakeOpenAI.completion("4")
                }
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let result = try await binary.run(
                    [
                        "bench", "single:openai/gpt-4o", "--dataset", "gsm.jsonl", "--store", "runs.db",
                        "--output-format", "json",
                    ], environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 1, "\(result.stderr)")
                let json = try CLIHarness.json(result.stdout)
                let system = try #require((json["systems"] as? [[String: Any]])?.first)
                #expect(system["total"] as? Int == 3, "\(system)")
                #expect(system["correct"] as? Int == 2)
                #expect(system["unanswered"] as? Int == 1)
                let items = try #require(json["items"] as? [[String: Any]])
                let failed = (items[1]["results"] as? [String: [String: Any]])?["single:openai/gpt-4o"]
                #expect(failed?["correct"] as? Bool == false, "\(items[1])")
                #expect(failed?["status"] as? String == "insufficient_models", "\(items[1])")
            }
        }

        /// The text and Markdown tables say which revision of each workflow ran (its file, git commit, the
        /// revision asked for, uncommitted changes, content hash), as the JSON and the report do: they showed the
        /// dataset's SHA-256 only, so a table could not be reproduced from what it printed.
        @Test func theTablesNameEachWorkflowsRevision() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let repository = try await TemporaryGitRepository()
            defer { repository.cleanup() }
            try repository.write(
                "workflows/mine.yaml", "refinery: 1\nname: mine\nmodels: [openai/gpt-4o]\nstages: [propose]\n")
            try repository.write("gsm.jsonl", #"{"question":"What is 2+2?","answer":"4"}"# + "\n")
            let commit = try await repository.commitAll("v1")
            try await repository.git("tag", "v1")
            try repository.write(
                "workflows/mine.yaml", "refinery: 1\nname: mine\nmodels: [openai/gpt-4o]\nstages: [propose]\n\n")
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("4"))
                let environment = CLIHarness.environment(home: repository.root, baseURL: server.baseURL)
                for format in ["text", "markdown"] {
                    let result = try await binary.run(
                        [
                            "bench", "mine", "mine@v1", "single:openai/gpt-4o", "--dataset", "gsm.jsonl", "--store",
                            "runs.db", "--output-format", format,
                        ], environment: environment, directory: repository.root)
                    #expect(result.exitCode == 0, "\(result.stderr)")
                    let code = format == "markdown" ? { (text: String) in "`\(text)`" } : { (text: String) in text }
                    let file = repository.root.appendingPathComponent("workflows/mine.yaml").standardizedFileURL.path
                    #expect(
                        result.stdout.contains(
                            "\(code("mine")): \(code(file)), git \(code(String(commit.prefix(12)))) with uncommitted changes"
                        ),
                        "\(result.stdout)")
                    #expect(
                        result.stdout.contains(
                            "\(code("mine@v1")): \(code(file)), git \(code(String(commit.prefix(12)))) (v1), sha256 "),
                        "\(result.stdout)")
                    // Baselines are Refinery's built-ins, named by the system itself.
                    #expect(!result.stdout.contains("single:openai/gpt-4o\(format == "markdown" ? "`" : ""): "))
                }

                // `bench resume` prints what the bench printed, its revisions included, after the repository's
                // HEAD moved (here a commit of the uncommitted change, the content the same): it named the new
                // HEAD and no uncommitted changes, which is not what the bench's first runs ran.
                let first = try await binary.run(
                    ["bench", "mine", "--dataset", "gsm.jsonl", "--store", "runs.db", "--output-format", "json"],
                    environment: environment, directory: repository.root)
                let id = try #require(try CLIHarness.json(first.stdout)["bench_id"] as? String, "\(first.stderr)")
                try repository.write("notes.txt", "unrelated\n")
                let moved = try await repository.commitAll("v2")
                #expect(moved != commit)
                let resumed = try await binary.run(
                    ["bench", "resume", id, "--store", "runs.db", "--output-format", "json"],
                    environment: environment, directory: repository.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(resumed.stdout == first.stdout)
            }
        }

        /// Bad bench input names the file, the line and the field or flag at fault, with a hint; exit 4,
        /// no call, no bench recorded.
        @Test(arguments: [
            (["--reference-field", "solution"], ["gsm.jsonl:2:", "`solution`", "--reference-field"]),
            (["--grader", "regex:(\\d+"], ["regex:(\\d+", "regular expression"]),
            // A baseline's own model, not `--models` (which was not given), is what is unknown.
            (["vote:nosuch/model:3"], ["system `vote:nosuch/model:3`: error: unknown model `nosuch/model`"]),
            // A mistyped path, as `refinery run` names it: it was "gone; put it back there, or start a new bench".
            (["missing.yaml"], ["no workflow file at `missing.yaml`"]),
        ])
        func badBenchInputNamesWhatIsWrong(arguments: [String], expected: [String]) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let rows = [
                #"{"question":"What is 2+2?","answer":"4","solution":"It is 4"}"#,
                #"{"question":"What is 2+3?","answer":"5"}"#,
            ]
            try sandbox.write("gsm.jsonl", Data(rows.joined(separator: "\n").utf8))
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9")
            let result = try await binary.run(
                ["bench", "single:openai/gpt-4o", "--dataset", "gsm.jsonl", "--store", "runs.db"] + arguments,
                environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            for text in expected { #expect(result.stderr.contains(text), "\(text) not in \(result.stderr)") }
            let listed = try await binary.run(
                ["batch", "list", "--store", "runs.db", "--output-format", "json"], environment: environment,
                directory: sandbox.root)
            // No ledger at all (refused before it was opened), or one without a bench.
            let noLedger = listed.exitCode == 4 && listed.stderr.contains("No ledger at runs.db")
            let listedNone = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any])?.isEmpty
            #expect(noLedger || listedNone == true, "\(listed.stderr)")
        }
    }
}
