// `refinery batch` through the real binary against a fake HTTP server: per-item variables, shared
// endpoint limits and budget across items, bad input, dry-run totals, kill -9 then resume, list.

import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension CLIEndToEnd {
    @Suite struct BatchCLITests {
        /// One member; the propose prompt shows the row's `topic` column.
        private static let workflow = #"""
            refinery: 1
            name: w
            models: [openai/gpt-4o]
            stages:
              - propose:
                  prompt: { user: "[{{topic}}] {{{prompt}}}" }

            """#

        private static let rows: [(id: String, question: String, topic: String)] = [
            ("a", "What is 2+2?", "math"), ("b", "Name a colour.", "art"), ("c", "Capital of France?", "geo"),
        ]

        private static func jsonl(_ rows: [(id: String, question: String, topic: String)]) -> String {
            rows.map { #"{"id":"\#($0.id)","question":"\#($0.question)","topic":"\#($0.topic)"}"# }
                .joined(separator: "\n") + "\n"
        }

        private static func lines(_ text: String) throws -> [[String: Any]] {
            try text.split(separator: "\n").map { try CLIHarness.json(String($0)) }
        }

        static func list(
            _ binary: RefineryBinary, store: String, environment: [String: String], directory: URL
        ) async throws -> [[String: Any]] {
            let listed = try await binary.run(
                ["batch", "list", "--store", store, "--output-format", "json"], environment: environment,
                directory: directory)
            #expect(listed.exitCode == 0, "\(listed.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        }

        /// `--max-budget` counts the calls of a model the catalog has no price for as $0, so it cannot stop them:
        /// the batch (and a bench) says so before the first call, as `run --budget` does. It ran every item in
        /// silence and reported `$0`.
        @Test func aBatchBudgetOverUnpricedModelsIsNotTrustedInSilence() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("in.jsonl", Data((#"{"id":"a","question":"What is 2+2?","answer":"4"}"# + "\n").utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let warning =
                    "warning: the budget of $0.01 counts calls to openai/gpt-unpriced as $0: the catalog has no "
                    + "price for it, so the budget cannot stop them"
                for command in [
                    ["batch", "vote", "--input", "in.jsonl"],
                    ["bench", "vote", "--dataset", "in.jsonl", "--grader", "exact"],
                ] {
                    let result = try await binary.run(
                        command + ["--models", "openai/gpt-unpriced:2", "--max-budget", "0.01"],
                        environment: environment, directory: sandbox.root)
                    #expect(result.stderr.contains(warning), "\(command[0]): \(result.stderr)")
                }
            }
        }

        /// Each item is one recorded run whose prompt carries the row's own variable, and each result
        /// line names its item, status, answer, cost and run.
        @Test(arguments: ["in.jsonl", "in.csv"])
        func everyItemRunsOnceWithItsOwnVariables(file: String) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            try sandbox.write("in.jsonl", Data(Self.jsonl(Self.rows).utf8))
            let csv =
                "id,question,topic\n"
                + Self.rows.map { "\($0.id),\"\($0.question)\",\($0.topic)" }
                .joined(separator: "\n") + "\n"
            try sandbox.write("in.csv", Data(csv.utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Forty-two."))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let result = try await binary.run(
                    [
                        "batch", "w.yaml", "--input", file, "--output", "out.jsonl", "--store", store, "--concurrency",
                        "2",
                    ],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(result.stdout.isEmpty)
                #expect(result.stderr.contains("finished · 3/3 items"), "\(result.stderr)")
                let bodies = server.requests.map(\.body)
                #expect(bodies.count == 3)
                for row in Self.rows {
                    #expect(bodies.filter { $0.contains("[\(row.topic)] \(row.question)") }.count == 1, "\(bodies)")
                }
                let text = try String(contentsOf: sandbox.root.appendingPathComponent("out.jsonl"), encoding: .utf8)
                let results = try Self.lines(text)
                #expect(Set(results.compactMap { $0["item_id"] as? String }) == ["a", "b", "c"])
                for line in results {
                    #expect(line["answer"] as? String == "Forty-two.")
                    #expect(line["status"] as? String == "converged", "\(line)")
                    #expect((line["cost_usd"] as? Double ?? 0) > 0)
                }
                let runs = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                #expect(
                    Set(runs.compactMap { $0["id"] as? String }) == Set(results.compactMap { $0["run_id"] as? String }))
                let batches = try await Self.list(
                    binary, store: store, environment: environment, directory: sandbox.root)
                #expect(batches.count == 1)
                #expect(batches.first?["kind"] as? String == "batch")
                #expect(batches.first?["status"] as? String == "finished")
                #expect(batches.first?["done"] as? Int == 3)
                #expect(batches.first?["total"] as? Int == 3)
                #expect((batches.first?["id"] as? String)?.isEmpty == false)
            }
        }

        /// A failed item's line says why (its run's stop reason), so a script can act on it without the
        /// ledger; an answered item's line has no `error`.
        @Test func aFailedItemsLineSaysWhy() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            try sandbox.write("in.jsonl", Data(Self.jsonl(Self.rows).utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    request.body.contains("colour")
                        ? FakeOpenAI.error("colours are out of scope", type: "invalid_request_error", status: 400)
                        : FakeOpenAI.completion("Forty-two.")
                }
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let result = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--store", store], environment: environment,
                    directory: sandbox.root)
                let lines = try Self.lines(result.stdout)
                let failed = try #require(lines.first { $0["item_id"] as? String == "b" }, "\(result.stdout)")
                #expect(failed["answer"] == nil)
                #expect(failed["status"] as? String != "converged")
                let error = try #require(failed["error"] as? String, "\(failed)")
                #expect(error.contains("colours are out of scope"), "\(error)")
                for line in lines where line["item_id"] as? String != "b" {
                    #expect(line["status"] as? String == "converged")
                    #expect(line["error"] == nil, "\(line)")
                }
            }
        }

        /// `batch resume --output NEW` writes NEW, and its summary names NEW, not the file the batch started with.
        @Test func resumeWithAnotherOutputNamesTheFileItWrote() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            try sandbox.write("in.jsonl", Data(Self.jsonl(Self.rows).utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Forty-two."))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let first = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--store", store, "--output", "first.jsonl"],
                    environment: environment, directory: sandbox.root)
                #expect(first.stderr.contains("results in first.jsonl"), "\(first.stderr)")
                let batches = try await Self.list(
                    binary, store: store, environment: environment, directory: sandbox.root)
                let id = try #require(batches.first?["id"] as? String)
                let resumed = try await binary.run(
                    ["batch", "resume", id, "--store", store, "--output", "second.jsonl"],
                    environment: environment, directory: sandbox.root)
                let written = try String(
                    contentsOf: sandbox.root.appendingPathComponent("second.jsonl"), encoding: .utf8)
                #expect(try Self.lines(written).count == Self.rows.count)
                #expect(resumed.stderr.contains("results in second.jsonl"), "\(resumed.stderr)")
                #expect(!resumed.stderr.contains("first.jsonl"), "\(resumed.stderr)")
            }
        }

        /// `--output` is opened as a shell's `>` opens it: a link is followed, not replaced by a regular file
        /// (which replaced `/dev/full` itself when run as root), and a line the disk cannot take stops the batch
        /// in one line with the system's reason, exit 1 (it printed Foundation's NSError dump).
        @Test func theResultsFileIsWrittenWhereItsPathLeads() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            try sandbox.write("in.jsonl", Data(Self.jsonl(Self.rows).utf8))
            try sandbox.write("target.jsonl", Data("old\n".utf8))
            let link = sandbox.root.appendingPathComponent("link.jsonl")
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "target.jsonl")
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Forty-two."))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let linked = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--store", store, "--output", "link.jsonl"],
                    environment: environment, directory: sandbox.root)
                #expect(linked.exitCode == 0, "\(linked.stderr)")
                try #require(
                    (try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) == "target.jsonl",
                    "the link was replaced by a file")
                let written = try String(
                    contentsOf: sandbox.root.appendingPathComponent("target.jsonl"), encoding: .utf8)
                #expect(try Self.lines(written).count == Self.rows.count)

                let full = try FileManager.default.attributesOfItem(atPath: "/dev/full")[.type] as? FileAttributeType
                try #require(full == .typeCharacterSpecial)
                let onFull = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--store", store, "--output", "/dev/full"],
                    environment: environment, directory: sandbox.root)
                #expect(onFull.exitCode == 1, "\(onFull.stderr)")
                #expect(
                    onFull.stderr.contains("cannot write --output /dev/full: No space left on device."),
                    "\(onFull.stderr)")
                #expect(!onFull.stderr.contains("NSCocoaErrorDomain"), "\(onFull.stderr)")
                #expect(
                    try FileManager.default.attributesOfItem(atPath: "/dev/full")[.type] as? FileAttributeType
                        == .typeCharacterSpecial)
            }
        }

        /// `batch resume` run in another folder reads the input where the batch found it (its relative `--input`
        /// resolved when it started); an input gone or changed since is refused with exit 4, naming the file.
        @Test func resumeInAnotherFolderReadsTheInputWhereTheBatchFoundIt() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            let input = Data(Self.jsonl(Self.rows).utf8)
            try sandbox.write("in.jsonl", input)
            let elsewhere = sandbox.root.appendingPathComponent("elsewhere")
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            let file = sandbox.root.appendingPathComponent("in.jsonl")
            let workflow = sandbox.root.appendingPathComponent("w.yaml").path
            try await FakeServer.run { server in
                // The colour item fails the first time only: the batch ends `failed`, and resume retries it.
                let failures = Mutex(1)
                server.route(FakeOpenAI.path) { request in
                    let fail =
                        request.body.contains("colour")
                        && failures.withLock { count in
                            defer { count -= 1 }
                            return count > 0
                        }
                    return fail
                        ? FakeOpenAI.error("try again later", type: "invalid_request_error", status: 400)
                        : FakeOpenAI.completion("Forty-two.")
                }
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let first = try await binary.run(
                    ["batch", workflow, "--input", "in.jsonl", "--store", store], environment: environment,
                    directory: sandbox.root)
                #expect(first.exitCode == 1, "\(first.stderr)")
                let id = try #require(
                    try await Self.list(binary, store: store, environment: environment, directory: sandbox.root)
                        .first?["id"] as? String)
                let resume = ["batch", "resume", id, "--store", store]

                try FileManager.default.moveItem(at: file, to: sandbox.root.appendingPathComponent("moved.jsonl"))
                let gone = try await binary.run(resume, environment: environment, directory: elsewhere)
                #expect(gone.exitCode == 4, "\(gone.stderr)")
                #expect(gone.stderr.contains(file.path) && gone.stderr.contains("put the file back"), "\(gone.stderr)")
                try Data(input + Data("\n".utf8)).write(to: file)
                let changed = try await binary.run(resume, environment: environment, directory: elsewhere)
                #expect(changed.exitCode == 4, "\(changed.stderr)")
                #expect(changed.stderr.contains("\(file.path) changed since batch \(id)"), "\(changed.stderr)")

                try input.write(to: file)
                let resumed = try await binary.run(resume, environment: environment, directory: elsewhere)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                let lines = try Self.lines(resumed.stdout)
                #expect(lines.count == Self.rows.count && lines.allSatisfy { $0["status"] as? String == "converged" })
            }
        }

        /// A batch line and a bench line name what produced the answer, as the run's own JSON does: the fallback
        /// model that answered, the configured one that failed (`model_id`, `fallback_from`), the run's degraded
        /// coverage and its reasons, and no empty `system` in a batch's line; the lines read back from the ledger
        /// on resume say the same.
        @Test func resultLinesNameTheFallbackThatAnswered() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let workflow = """
                refinery: 1
                name: fb
                models:
                  - model: openai/gpt-4o
                    fallback: [openai/gpt-4o-mini]
                stages: [propose]

                """
            try sandbox.write("fb.yaml", Data(workflow.utf8))
            try sandbox.write("in.jsonl", Data(#"{"id":"a","question":"What is 2+2?","answer":"4"}"#.utf8 + [10]))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    request.body.contains("gpt-4o-mini")
                        ? FakeOpenAI.completion("4")
                        : FakeOpenAI.error("this model is not available", type: "invalid_request_error", status: 400)
                }
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let batch = try await binary.run(
                    ["batch", "fb.yaml", "--input", "in.jsonl", "--store", "runs.db"], environment: environment,
                    directory: sandbox.root)
                #expect(batch.exitCode == 0, "\(batch.stderr)")
                let id = try #require(
                    try await Self.list(binary, store: "runs.db", environment: environment, directory: sandbox.root)
                        .first?["id"] as? String)
                let replayed = try await binary.run(
                    ["batch", "resume", id, "--store", "runs.db"], environment: environment, directory: sandbox.root)
                let bench = try await binary.run(
                    ["bench", "fb.yaml", "--dataset", "in.jsonl", "--store", "runs.db", "--output", "items.jsonl"],
                    environment: environment, directory: sandbox.root)
                #expect(bench.exitCode == 0, "\(bench.stderr)")
                let benchLine = try String(
                    contentsOf: sandbox.root.appendingPathComponent("items.jsonl"), encoding: .utf8)
                for (text, isBench) in [(batch.stdout, false), (replayed.stdout, false), (benchLine, true)] {
                    let line = try #require(try Self.lines(text).first, "\(text)")
                    #expect(line["model_id"] as? String == "openai/gpt-4o-mini", "\(line)")
                    #expect(line["fallback_from"] as? String == "openai/gpt-4o", "\(line)")
                    // The run's coverage counts the failed call: degraded, and why.
                    #expect(line["degraded"] as? Bool == true, "\(line)")
                    #expect((line["degraded_reasons"] as? [String])?.isEmpty == false, "\(line)")
                    #expect((line["system"] as? String).map { !$0.isEmpty } ?? !isBench, "\(line)")
                }
            }
        }

        /// A `max_concurrent: 1` endpoint serves the items of a batch one call at a time, though four
        /// items run at once: every item shares the process's one provider registry.
        @Test func anEndpointLimitHoldsAcrossItems() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { _ in .delayed(.milliseconds(60), FakeOpenAI.completion("Four.")) }
                try sandbox.write(
                    "config/refinery/providers.yaml",
                    Data(
                        ("providers:\n  - { name: local, base_url: \"\(server.baseURL)\", "
                            + "max_concurrent: 1, stream: false }\n").utf8))
                try sandbox.write(
                    "w.yaml", Data("refinery: 1\nname: w\nmodels: [local/a]\nstages: [propose]\n".utf8))
                let rows = (1...6).map { #"{"question":"Q\#($0)?"}"# }.joined(separator: "\n")
                try sandbox.write("in.jsonl", Data(rows.utf8))
                let result = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--concurrency", "4", "--store", "runs.db"],
                    environment: RefineryBinary.environment(home: sandbox.root), directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(try Self.lines(result.stdout).count == 6)
                #expect(server.requests.count == 6)
                #expect(server.maxInFlight == 1)
            }
        }

        /// Ten items in the sandbox and their dry run: one item's estimated maximum cost, and the input and output
        /// tokens a reply reports so that one call costs that estimate divided by `divisor`.
        private static func tenItems(
            _ binary: RefineryBinary, _ sandbox: Sandbox, callsCostingEstimateOver divisor: Int
        ) async throws -> (perItem: Double, input: Int, output: Int) {
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            let rows = (1...10).map { (id: "i\($0)", question: "What is \($0) + \($0)?", topic: "math") }
            try sandbox.write("in.jsonl", Data(Self.jsonl(rows).utf8))
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9")
            let dry = try await binary.run(
                ["batch", "w.yaml", "--input", "in.jsonl", "--dry-run", "--output-format", "json"],
                environment: environment, directory: sandbox.root)
            let estimate = try CLIHarness.json(dry.stdout)
            let perItem = try #require((estimate["cost_usd"] as? [String: Any])?["max"] as? Double) / 10
            let tokens = try #require(estimate["tokens"] as? [String: [String: Int]])
            let per = 10 * divisor
            return (perItem, (tokens["input"]?["max"] ?? 0) / per, (tokens["output"]?["max"] ?? 0) / per)
        }

        /// Runs `body` with ten items in a sandbox and a server whose every call costs one item's estimated
        /// maximum (`perItem`, from the dry run) divided by `divisor`.
        private static func withTenItems(
            callsCostingEstimateOver divisor: Int = 1,
            _ body: @Sendable (RefineryBinary, Sandbox, FakeServer, _ perItem: Double) async throws -> Void
        ) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let (perItem, input, output) = try await Self.tenItems(binary, sandbox, callsCostingEstimateOver: divisor)
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Even.", prompt: input, completion: output))
                try await body(binary, sandbox, server, perItem)
            }
        }

        /// `batch w.yaml --input in.jsonl` against `server` with `--max-budget` and `--concurrency`, recorded in
        /// the sandbox's `runs.db`.
        private static func batch(
            _ binary: RefineryBinary, _ sandbox: Sandbox, _ server: FakeServer, maxBudget: Double, concurrency: Int
        ) async throws -> RefineryBinary.Result {
            try await binary.run(
                [
                    "batch", "w.yaml", "--input", "in.jsonl", "--max-budget", String(maxBudget), "--concurrency",
                    String(concurrency), "--store", sandbox.root.appendingPathComponent("runs.db").path,
                ],
                environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                directory: sandbox.root)
        }

        /// `--max-budget` covers the whole batch: items start while what is left covers the next one's
        /// estimate, the spend stays under the cap, and the batch stops `budget_exhausted`; `batch resume`
        /// alone spends nothing more (the cap holds across sessions), and with a budget of its own finishes it,
        /// continuing the run the cap stopped rather than starting another.
        @Test func theBudgetIsSharedAcrossItems() async throws {
            // Each call costs what the estimate says an item costs.
            try await Self.withTenItems { binary, sandbox, server, perItem in
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let cap = perItem * 3.5
                let result = try await Self.batch(binary, sandbox, server, maxBudget: cap, concurrency: 2)
                #expect(result.exitCode == 1, "\(result.stderr)")
                #expect(result.stderr.contains("budget_exhausted"), "\(result.stderr)")
                let results = try Self.lines(result.stdout)
                let spent = results.compactMap { $0["cost_usd"] as? Double }.reduce(0, +)
                let done = results.filter { $0["status"] as? String == "converged" }.count
                #expect(done >= 1 && done < 10, "\(result.stdout)")
                #expect(spent <= cap + 1e-9)
                #expect(server.requests.count == done)
                let batches = try await Self.list(
                    binary, store: store, environment: environment, directory: sandbox.root)
                #expect(batches.first?["status"] as? String == "budget_exhausted")
                #expect(batches.first?["done"] as? Int == done)

                let id = try #require(batches.first?["id"] as? String)
                #expect(result.stderr.contains("refinery batch resume \(id) --max-budget USD"), "\(result.stderr)")
                // The cap is the whole batch's, not each session's: a resume without a budget of its own has
                // nothing left to spend (it ran as many items again, past the cap).
                let again = try await binary.run(
                    ["batch", "resume", id, "--store", store], environment: environment, directory: sandbox.root)
                #expect(again.exitCode == 1, "\(again.stderr)")
                #expect(again.stderr.contains("budget_exhausted · \(done)/10 items"), "\(again.stderr)")
                // The summary says which items were not run, not only how many were done.
                #expect(again.stderr.contains("not started: \(10 - done) (i"), "\(again.stderr)")
                #expect(result.stderr.contains("not started: "), "\(result.stderr)")
                #expect(result.stderr.contains("i6"), "\(result.stderr)")
                #expect(server.requests.count == done)
                let resumed = try await binary.run(
                    ["batch", "resume", id, "--store", store, "--max-budget", "5"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(server.requests.count == 10)
                let runs = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                #expect(runs.count == 10)
                let after = try await Self.list(binary, store: store, environment: environment, directory: sandbox.root)
                #expect(after.first?["done"] as? Int == 10)
            }
        }

        /// Items whose runs spend a tenth of their estimate: the grants in flight come back as they finish, so a
        /// budget of 2.5 items' estimates carries all ten (a whole item's estimate is spent by none) instead of
        /// stopping `budget_exhausted` after two with most of the budget unspent.
        @Test func aBatchWaitsForGrantsInFlightBeforeItStopsOnTheBudget() async throws {
            try await Self.withTenItems(callsCostingEstimateOver: 10) { binary, sandbox, server, perItem in
                let cap = perItem * 2.5
                let result = try await Self.batch(binary, sandbox, server, maxBudget: cap, concurrency: 4)
                #expect(result.exitCode == 0, "\(result.stderr)")
                let results = try Self.lines(result.stdout)
                #expect(results.filter { $0["status"] as? String == "converged" }.count == 10, "\(result.stdout)")
                #expect(results.compactMap { $0["cost_usd"] as? Double }.reduce(0, +) <= cap)
                #expect(server.requests.count == 10)
            }
        }

        /// An item the batch starts can make the call the batch priced it for: the engine's hold before its first
        /// call is the same estimate as `batch --dry-run`'s. With a budget of 2.02 items' estimates, one at a time
        /// and every call costing the estimate, the second item gets a grant of 1.02 estimates and runs (it was
        /// stopped before its call, the engine holding ~1.045 estimates for it); the third does not start, and the
        /// stop says so.
        @Test func anItemStartedMakesTheCallTheBatchPriced() async throws {
            try await Self.withTenItems { binary, sandbox, server, perItem in
                let result = try await Self.batch(binary, sandbox, server, maxBudget: perItem * 2.02, concurrency: 1)
                #expect(result.exitCode == 1, "\(result.stderr)")
                let results = try Self.lines(result.stdout)
                #expect(results.filter { $0["status"] as? String == "converged" }.count == 2, "\(result.stdout)")
                #expect(results.allSatisfy { $0["status"] as? String == "converged" }, "\(result.stdout)")
                #expect(server.requests.count == 2)
                #expect(result.stderr.contains("budget: next item ~$"), "\(result.stderr)")
            }
        }

        /// `batch resume` of a bench id is refused, as `bench resume` of a batch id is: it rewrote the bench's
        /// per-item file as batch lines and printed no table.
        @Test func batchResumeOfABenchNamesBenchResume() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("in.jsonl", Data(#"{"id":"a","question":"What is 2+2?","answer":"4"}"#.utf8 + [10]))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("4"))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let bench = try await binary.run(
                    [
                        "bench", "single:openai/gpt-4o", "--dataset", "in.jsonl", "--output", "items.jsonl", "--store",
                        "runs.db",
                    ], environment: environment, directory: sandbox.root)
                #expect(bench.exitCode == 0, "\(bench.stderr)")
                let items = try Data(contentsOf: sandbox.root.appendingPathComponent("items.jsonl"))
                let listed = try await Self.list(
                    binary, store: "runs.db", environment: environment, directory: sandbox.root)
                let id = try #require(listed.first?["id"] as? String)
                let resumed = try await binary.run(
                    ["batch", "resume", id, "--store", "runs.db"], environment: environment, directory: sandbox.root)
                #expect(resumed.exitCode == 4, "\(resumed.stderr)")
                #expect(resumed.stderr.contains("refinery bench resume \(id)"), "\(resumed.stderr)")
                #expect(resumed.stdout.isEmpty)
                #expect(try Data(contentsOf: sandbox.root.appendingPathComponent("items.jsonl")) == items)
            }
        }

        /// A batch started with a relative workflow path and `--output`, resumed from another folder: it loads
        /// the same workflow and writes the same results file, both recorded as absolute paths at its start (the
        /// resume read `w.yaml` and `out.jsonl` in the folder it ran in: "no workflow", or another file). A
        /// workflow gone by the resume is refused, exit 4, naming it.
        @Test func aBatchResumedFromAnotherFolderUsesTheFilesItStartedWith() async throws {
            try await Self.withTenItems { binary, sandbox, server, perItem in
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let started = try await binary.run(
                    [
                        "batch", "w.yaml", "--input", "in.jsonl", "--output", "out.jsonl", "--max-budget",
                        String(perItem * 1.5), "--concurrency", "1", "--store", store,
                    ], environment: environment, directory: sandbox.root)
                #expect(started.exitCode == 1, "\(started.stderr)")
                let id = try #require(
                    try await Self.list(binary, store: store, environment: environment, directory: sandbox.root)
                        .first?["id"] as? String)
                let elsewhere = sandbox.root.appendingPathComponent("elsewhere")
                try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)

                let moved = sandbox.root.appendingPathComponent("w.yaml.moved")
                try FileManager.default.moveItem(at: sandbox.root.appendingPathComponent("w.yaml"), to: moved)
                let gone = try await binary.run(
                    ["batch", "resume", id, "--store", store, "--max-budget", "5"], environment: environment,
                    directory: elsewhere)
                #expect(gone.exitCode == 4, "\(gone.stderr)")
                #expect(
                    gone.stderr.contains(sandbox.root.appendingPathComponent("w.yaml").standardizedFileURL.path),
                    "\(gone.stderr)")
                try FileManager.default.moveItem(at: moved, to: sandbox.root.appendingPathComponent("w.yaml"))

                let resumed = try await binary.run(
                    ["batch", "resume", id, "--store", store, "--max-budget", "5"], environment: environment,
                    directory: elsewhere)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(server.requests.count == 10)
                let results = try String(
                    contentsOf: sandbox.root.appendingPathComponent("out.jsonl"), encoding: .utf8)
                #expect(try Self.lines(results).count == 10, "\(results)")
                #expect(!FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("out.jsonl").path))
            }
        }

        /// Costs in JSON are clean decimals: three calls of $0.0000125 each cost $0.0000375, which a run's JSON,
        /// a batch's result line, `batch list` and `runs list` wrote as `3.7500000000000003e-05` (the sum's float
        /// noise); they are rounded to the nearest 1e-10 dollars when written. On a terminal and in the report the
        /// same amount read `$0.0000` (four fixed decimals); every dollar amount a user reads is now written by one
        /// function, with four significant digits.
        @Test func costsInJSONAreCleanDecimals() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "w.yaml", Data("refinery: 1\nname: w\nmodels: [openai/gpt-4o:3]\nstages: [propose]\n".utf8))
            try sandbox.write("in.jsonl", Data(Self.jsonl([("a", "What is 1 + 1?", "math")]).utf8))
            try await FakeServer.run { server in
                // One input and one output token: $2.5 + $10 per million, $0.0000125 a call.
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Two.", prompt: 1, completion: 1))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let run = try await binary.run(
                    ["run", "w.yaml", "What is 1 + 1?", "--output-format", "json", "--store", "runs.db"],
                    environment: environment, directory: sandbox.root)
                #expect(run.exitCode == 0, "\(run.stderr)")
                let batch = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--store", "runs.db"], environment: environment,
                    directory: sandbox.root)
                #expect(batch.exitCode == 0, "\(batch.stderr)")
                let batches = try await binary.run(
                    ["batch", "list", "--store", "runs.db", "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                let runs = try await binary.run(
                    ["runs", "list", "--store", "runs.db", "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                for (name, text) in [
                    ("run", run.stdout), ("batch", batch.stdout), ("batch list", batches.stdout),
                    ("runs list", runs.stdout),
                ] {
                    #expect(text.contains("3.75e-05"), "\(name): \(text)")
                    #expect(!text.contains("3.7500000000000003e-05"), "\(name): \(text)")
                }

                // On a terminal and a page the amount keeps its digits: a fixed four decimals read `$0.0000`.
                let id = try #require(
                    (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["run_id"]
                        as? String)
                let list = try await binary.run(
                    ["runs", "list", "--store", "runs.db"], environment: environment, directory: sandbox.root)
                let show = try await binary.run(
                    ["runs", "show", id, "--store", "runs.db"], environment: environment, directory: sandbox.root)
                let report = try await binary.run(
                    ["report", id, "--store", "runs.db", "-o", "report.html"], environment: environment,
                    directory: sandbox.root)
                #expect(report.exitCode == 0, "\(report.stderr)")
                let html = try String(contentsOf: sandbox.root.appendingPathComponent("report.html"), encoding: .utf8)
                for (name, text) in [("runs list", list.stdout), ("runs show", show.stdout), ("report", html)] {
                    #expect(text.contains("$0.0000375"), "\(name): \(text)")
                    #expect(!text.contains("$0.0000 ") && !text.contains("$0.0000<"), "\(name): \(text)")
                }
            }
        }

        /// An item's `id` is its id, not a template field: the batch's report names the fields its workflow was
        /// compiled with (`topic`), not `id,topic`, and a template that asks for `{{id}}` is refused at the row
        /// as it is for any field the row lacks.
        @Test func anItemsIDIsNotATemplateField() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            try sandbox.write("in.jsonl", Data(Self.jsonl([("a", "What is 1 + 1?", "math")]).utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Two."))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let result = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--store", "runs.db"], environment: environment,
                    directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                let id = try #require(try Self.lines(result.stdout).first?["batch_id"] as? String)
                let report = try await binary.run(
                    ["report", id, "--store", "runs.db", "-o", "report.html"], environment: environment,
                    directory: sandbox.root)
                #expect(report.exitCode == 0, "\(report.stderr)")
                let html = try String(contentsOf: sandbox.root.appendingPathComponent("report.html"), encoding: .utf8)
                #expect(html.contains("w.yaml (with the item fields topic)"), "\(html)")
                #expect(!html.contains("id,topic"))

                try sandbox.write(
                    "uses-id.yaml",
                    Data(Self.workflow.replacingOccurrences(of: "[{{topic}}]", with: "[{{id}}]").utf8))
                let refused = try await binary.run(
                    ["batch", "uses-id.yaml", "--input", "in.jsonl", "--store", "runs.db"], environment: environment,
                    directory: sandbox.root)
                #expect(refused.exitCode == 4, "\(refused.stderr)")
                #expect(refused.stderr.contains("in.jsonl:1"), "\(refused.stderr)")
                #expect(server.requests.count == 1)
            }
        }

        /// A malformed input line or CSV record: exit 4 with `file:line`, no call, and the results file
        /// of an earlier batch left as it was.
        @Test(arguments: [
            ("bad.jsonl", "{\"question\":\"Q1\"}\nnot json\n", "bad.jsonl:2:"),
            ("bad.csv", "question,topic\nQ1,x\nQ2\n", "bad.csv:3:"),
            ("bad.jsonl", "{\"question\":\"Q1\"}\n{\"text\":\"Q2\"}\n", "bad.jsonl:2:"),
            // The workflow's `{{topic}}` compiles for the first row, not for the second, which lacks it.
            ("var.jsonl", "{\"question\":\"Q1\",\"topic\":\"x\"}\n{\"question\":\"Q2\"}\n", "var.jsonl:2:"),
            // Refused by `refinery run`, it was paid for: a blank prompt. A row naming its prompt field twice
            // sent the first value, silently.
            (
                "blank.jsonl", "{\"question\":\"Q1\",\"topic\":\"x\"}\n{\"question\":\" \\n \",\"topic\":\"x\"}\n",
                "blank.jsonl:2:"
            ),
            ("twice.jsonl", "{\"question\":\"Q1\",\"topic\":\"x\",\"question\":\"Q2\"}\n", "twice.jsonl:1:"),
        ])
        func badInputExitsFourWithTheLine(file: String, text: String, location: String) async throws {
            let (result, bodies, output) = try await Self.batch(file: file, bytes: Data(text.utf8))
            #expect(result.exitCode == 4)
            #expect(result.stderr.contains(location), "\(result.stderr)")
            #expect(bodies.isEmpty)
            #expect(output == Self.earlierResults)
        }

        /// A row whose prompt is more than `refinery run` may send (1 MB): exit 4 at its line, no call (its 1 MB
        /// was sent to the model).
        @Test func aPromptOverOneMegabyteIsRefusedAtItsRow() async throws {
            let text = "question,topic\nQ1,x\n" + String(repeating: "a", count: (1 << 20) + 1) + ",x\n"
            let (result, bodies, output) = try await Self.batch(file: "big.csv", bytes: Data(text.utf8))
            #expect(result.exitCode == 4)
            #expect(result.stderr.contains("big.csv:3: the row's `question` is 1048577 bytes"), "\(result.stderr)")
            #expect(bodies.isEmpty)
            #expect(output == Self.earlierResults)
        }

        /// A file in another encoding than UTF-8 (here Latin-1): exit 4 at the line of the first byte
        /// that is not UTF-8, with what to do.
        @Test func aFileNotInUTF8IsRefusedAtItsLine() async throws {
            let latin1 = Data("question,topic\nQ1,x\n".utf8) + Data([0x51, 0xE9, 0x2C, 0x79, 0x0A])
            let (result, bodies, output) = try await Self.batch(file: "in.csv", bytes: latin1)
            #expect(result.exitCode == 4)
            #expect(
                result.stderr.contains("in.csv:3: the input file is not valid UTF-8 (byte 0xE9)"), "\(result.stderr)")
            #expect(result.stderr.contains("save it as UTF-8"), "\(result.stderr)")
            #expect(bodies.isEmpty)
            #expect(output == Self.earlierResults)
        }

        /// What `out.jsonl` holds before `batch(file:bytes:)` runs.
        private static let earlierResults = "{\"item_id\":\"from an earlier batch\"}\n"

        /// `refinery batch w.yaml --input FILE --output out.jsonl` on `bytes` against a fake that answers
        /// "Four.", `out.jsonl` holding `earlierResults` before: the result, the bodies of the requests
        /// the fake received and the text of `out.jsonl` after.
        private static func batch(
            file: String, bytes: Data
        ) async throws -> (RefineryBinary.Result, [String], String) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            try sandbox.write(file, bytes)
            try sandbox.write("out.jsonl", Data(Self.earlierResults.utf8))
            return try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Four."))
                let result = try await binary.run(
                    ["batch", "w.yaml", "--input", file, "--output", "out.jsonl", "--store", "runs.db"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                let output = try String(contentsOf: sandbox.root.appendingPathComponent("out.jsonl"), encoding: .utf8)
                return (result, server.requests.map(\.body), output)
            }
        }

        /// A file saved on Windows or by a spreadsheet (a UTF-8 byte order mark, CRLF line ends) reads as
        /// the same rows: every item runs, under the id of its `id` column.
        @Test(arguments: [
            (
                "in.jsonl",
                "\u{FEFF}{\"id\":\"a\",\"question\":\"Q1\",\"topic\":\"x\"}\r\n"
                    + "{\"id\":\"b\",\"question\":\"Q2\",\"topic\":\"y\"}\r\n"
            ),
            ("in.csv", "\u{FEFF}id,question,topic\r\na,\"Q1, first\",x\r\nb,Q2,y\r\n"),
        ])
        func aByteOrderMarkAndCRLFLineEndsReadAsTheSameRows(file: String, text: String) async throws {
            let (result, bodies, output) = try await Self.batch(file: file, bytes: Data(text.utf8))
            #expect(result.exitCode == 0, "\(result.stderr)")
            let results = try Self.lines(output)
            #expect(Set(results.compactMap { $0["item_id"] as? String }) == ["a", "b"], "\(output)")
            #expect(bodies.contains { $0.contains("[x] Q1") }, "\(bodies)")
        }

        /// A row without the field `--field` names: the hint names `--field`, the flag `batch` has.
        @Test func aMissingFieldIsNamedWithBatchsOwnFlag() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            try sandbox.write("in.jsonl", Data(Self.jsonl(Self.rows).utf8))
            let result = try await binary.run(
                ["batch", "w.yaml", "--input", "in.jsonl", "--field", "text", "--store", "runs.db"],
                environment: CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9"),
                directory: sandbox.root)
            #expect(result.exitCode == 4)
            #expect(result.stderr.contains("in.jsonl:1: no prompt: the row has no `text` field"), "\(result.stderr)")
            #expect(result.stderr.contains("--field"), "\(result.stderr)")
            #expect(!result.stderr.contains("--prompt-field"), "\(result.stderr)")
        }

        /// `--dry-run` is the single-run estimate times the items, and calls nothing.
        @Test func dryRunIsItemsTimesTheSingleEstimate() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let rows = (1...7).map { _ in #"{"question":"What is 2+2?"}"# }.joined(separator: "\n")
            try sandbox.write("in.jsonl", Data(rows.utf8))
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9")
            let models = ["--models", CLIHarness.threeModels]
            let batch = try CLIHarness.json(
                try await binary.run(
                    ["batch", "consensus", "--input", "in.jsonl", "--dry-run", "--output-format", "json"] + models,
                    environment: environment, directory: sandbox.root
                ).stdout)
            let single = try CLIHarness.json(
                try await binary.run(
                    ["estimate", "consensus", "What is 2+2?", "--output-format", "json"] + models,
                    environment: environment, directory: sandbox.root
                ).stdout)
            #expect(batch["items"] as? Int == 7)
            for key in ["calls", "cost_usd"] {
                let many = try #require(batch[key] as? [String: Double])
                let one = try #require(single[key] as? [String: Double])
                #expect(abs((many["min"] ?? -1) - 7 * (one["min"] ?? 0)) < 1e-9, "\(key)")
                #expect(abs((many["max"] ?? -1) - 7 * (one["max"] ?? 0)) < 1e-9, "\(key)")
            }
        }

        /// The real binary killed with SIGKILL in the middle of a batch, then `batch resume`: no item
        /// is run again, the server sees exactly the calls that were not finished, and the results file
        /// holds every item once.
        @Test(arguments: [4, 11])
        func killedBatchResumesWithoutRedoingOrPayingTwice(killAfterRequests: Int) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let rows = (1...6).map { (id: "q\($0)", question: "What is \($0)+\($0)?", topic: "math") }
            try sandbox.write("in.jsonl", Data(Self.jsonl(rows).utf8))
            try await FakeServer.run { server in
                server.route(
                    FakeOpenAI.path, .delayed(.milliseconds(80), FakeOpenAI.completion(CLIHarness.universalReply())))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let arguments = [
                    "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels,
                    "--concurrency", "2", "--seed", "3", "--output", "out.jsonl",
                ]
                let reference = try await binary.run(
                    arguments + ["--store", "reference.db"], environment: environment, directory: sandbox.root)
                #expect(reference.exitCode == 0, "\(reference.stderr)")
                let referenceCalls = server.requests.count

                let store = sandbox.root.appendingPathComponent("crash.db").path
                let baseline = server.requests.count
                let running = try binary.start(
                    arguments + ["--store", store], environment: environment, directory: sandbox.root)
                try await running.kill { server.requests.count - baseline >= killAfterRequests }
                #expect(running.process.terminationReason == .uncaughtSignal)

                let before = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                let recorded = before.compactMap { $0["calls"] as? Int }.reduce(0, +)
                let finishedBefore = Set(
                    before.filter { $0["status"] as? String == "converged" }.compactMap { $0["id"] as? String })
                let batches = try await Self.list(
                    binary, store: store, environment: environment, directory: sandbox.root)
                let id = try #require(batches.first?["id"] as? String)
                // Recorded `running`, but its process is gone: it reads interrupted, nothing in flight.
                #expect(batches.first?["status"] as? String == "interrupted")
                let report = try await WorkerCLITests.status(
                    binary, id, store: store, environment: environment, directory: sandbox.root)
                #expect(report["status"] as? String == "interrupted" && report["running"] as? Int == 0, "\(report)")
                // What it spent is what its runs' finished calls cost, the killed runs' too (as `runs list` counts
                // them): both counted only the items done.
                let spent = before.compactMap { $0["cost_usd"] as? Double }.reduce(0, +)
                if killAfterRequests > 6 {
                    // Past the first proposals, a killed run has paid calls.
                    #expect(
                        before.contains { $0["status"] as? String == "interrupted" && $0["cost_usd"] as? Double ?? 0 > 0 })
                }
                #expect(abs((batches.first?["cost_usd"] as? Double ?? -1) - spent) < 1e-9, "\(batches) \(before)")
                #expect(abs((report["cost_usd"] as? Double ?? -1) - spent) < 1e-9, "\(report) \(before)")
                // So is the report's total: it counted only the items done.
                let page = sandbox.root.appendingPathComponent("killed-\(killAfterRequests).html")
                let html = try await binary.run(
                    ["report", id, "--store", store, "-o", page.path], environment: environment,
                    directory: sandbox.root)
                #expect(html.exitCode == 0, "\(html.stderr)")
                let total = try String(contentsOf: page, encoding: .utf8)
                    .components(separatedBy: "<dt>cost</dt><dd>$").dropFirst().first?
                    .prefix { $0 != "<" }
                // Four significant digits (DollarText).
                #expect(abs((total.flatMap { Double($0) } ?? -1) - spent) <= spent * 1e-3, "\(total ?? "none") \(spent)")
                let shown = try await binary.run(
                    ["batch", "status", id, "--store", store], environment: environment, directory: sandbox.root)
                #expect(shown.stdout.contains("interrupted") && shown.stdout.contains("refinery batch resume \(id)"))

                let beforeResume = server.requests.count
                let resumed = try await binary.run(
                    ["batch", "resume", id, "--store", store], environment: environment, directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                // Only the calls not finished before the kill reach the server.
                #expect(server.requests.count - beforeResume == referenceCalls - recorded)
                let after = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                // One run per item: a run that had started was resumed, not replaced.
                #expect(after.count == rows.count)
                #expect(finishedBefore.isSubset(of: Set(after.compactMap { $0["id"] as? String })))
                #expect(after.allSatisfy { $0["status"] as? String == "converged" })
                let text = try String(contentsOf: sandbox.root.appendingPathComponent("out.jsonl"), encoding: .utf8)
                let results = try Self.lines(text)
                #expect(results.compactMap { $0["item_id"] as? String }.sorted() == rows.map(\.id).sorted())
                let listed = try await Self.list(
                    binary, store: store, environment: environment, directory: sandbox.root)
                #expect(listed.first?["status"] as? String == "finished")
                #expect(listed.first?["done"] as? Int == rows.count)
            }
        }

        /// SIGTERM (as Ctrl-C) cancels the batch: exit 1, the runs in flight recorded `cancelled`, the
        /// batch `cancelled`, and `batch resume` finishes it.
        @Test func sigtermCancelsTheBatchResumably() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            let rows = (1...6).map { (id: "t\($0)", question: "Q\($0)?", topic: "t") }
            try sandbox.write("in.jsonl", Data(Self.jsonl(rows).utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, .delayed(.milliseconds(300), FakeOpenAI.completion("Yes.")))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let running = try binary.start(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--concurrency", "2", "--store", store],
                    environment: environment, directory: sandbox.root)
                while server.requests.count < 3 && running.process.isRunning {
                    try await Task.sleep(for: .milliseconds(5))
                }
                kill(running.process.processIdentifier, SIGTERM)
                try await running.wait()
                let interrupted = try running.result()
                #expect(interrupted.exitCode == 1, "\(interrupted.stderr)")
                #expect(interrupted.stderr.contains("refinery batch resume"), "\(interrupted.stderr)")
                let runs = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                #expect(runs.contains { $0["status"] as? String == "cancelled" }, "\(runs)")
                let batches = try await Self.list(
                    binary, store: store, environment: environment, directory: sandbox.root)
                #expect(batches.first?["status"] as? String == "cancelled")
                let id = try #require(batches.first?["id"] as? String)
                let resumed = try await binary.run(
                    ["batch", "resume", id, "--store", store], environment: environment, directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(try Self.lines(resumed.stdout).count == 6)
                let after = try await Self.list(binary, store: store, environment: environment, directory: sandbox.root)
                #expect(after.first?["status"] as? String == "finished")
                #expect(after.first?["done"] as? Int == 6)
            }
        }

        /// `--output` (and `report -o`) over a file the command reads or records in is refused before anything
        /// runs, exit 4: the input file (by name or through a link), the workflow, the SQLite ledger (whose every
        /// run it destroyed), and on `batch resume` the recorded input. Nothing is called, nothing changes.
        @Test func anOutputOverTheInputOrTheLedgerIsRefused() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            let input = #"{"id":"a","question":"What is 2+2?","topic":"math","answer":"4"}"# + "\n"
            try sandbox.write("in.jsonl", Data(input.utf8))
            try FileManager.default.createSymbolicLink(
                atPath: sandbox.root.appendingPathComponent("link.jsonl").path, withDestinationPath: "in.jsonl")
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("4"))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = "runs.db"
                let first = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--output", "out.jsonl", "--store", store],
                    environment: environment, directory: sandbox.root)
                #expect(first.exitCode == 0, "\(first.stderr)")
                let listed = try await Self.list(
                    binary, store: store, environment: environment, directory: sandbox.root)
                let batchID = try #require(listed.first?["id"] as? String)
                let workflowBytes = try Data(contentsOf: sandbox.root.appendingPathComponent("w.yaml"))
                let calls = server.requests.count
                let commands: [[String]] = [
                    ["batch", "w.yaml", "--input", "in.jsonl", "--output", "in.jsonl"],
                    ["batch", "w.yaml", "--input", "in.jsonl", "--output", "link.jsonl"],
                    ["batch", "w.yaml", "--input", "in.jsonl", "--output", "w.yaml"],
                    ["batch", "w.yaml", "--input", "in.jsonl", "--output", "./runs.db"],
                    ["batch", "resume", batchID, "--output", "in.jsonl"],
                    ["bench", "single:openai/gpt-4o", "--dataset", "in.jsonl", "--output", "in.jsonl"],
                    ["bench", "single:openai/gpt-4o", "--dataset", "in.jsonl", "--output", "runs.db"],
                    ["report", batchID, "-o", "runs.db"],
                    ["run", "w.yaml", "hello", "--output", "runs.db"],
                ]
                for command in commands {
                    let result = try await binary.run(
                        command + ["--store", store], environment: environment, directory: sandbox.root)
                    #expect(result.exitCode == 4, "\(command): \(result.stderr)")
                    #expect(result.stderr.contains("would destroy it"), "\(command): \(result.stderr)")
                    let kept = try String(contentsOf: sandbox.root.appendingPathComponent("in.jsonl"), encoding: .utf8)
                    #expect(kept == input, "\(command)")
                }
                #expect(try Data(contentsOf: sandbox.root.appendingPathComponent("w.yaml")) == workflowBytes)
                #expect(server.requests.count == calls)
                let runs = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                #expect(runs.count == 1)
            }
        }
    }
}
