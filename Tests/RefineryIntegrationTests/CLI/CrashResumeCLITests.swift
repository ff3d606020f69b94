import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension CLIEndToEnd {
    /// The real binary killed with SIGKILL in the middle of a run, then `resume`: no finished call
    /// reaches the server twice, and the outcome equals an uninterrupted run's.
    @Suite struct CrashResumeCLITests {
        private static let delay = Duration.milliseconds(120)

        private func arguments(_ extra: [String] = []) -> [String] {
            [
                "What is 2+2?", "--models", CLIHarness.threeModels, "--max-concurrent", "2", "--seed", "7",
                "--output-format", "json",
            ] + extra
        }

        /// Fields that must not depend on interruptions.
        private func stable(_ json: [String: Any]) -> [String] {
            let winner = json["winner"] as? [String: Any]
            let answers = (json["all_answers"] as? [[String: Any]] ?? []).map {
                "\($0["member_id"] ?? "")=\($0["answer"] ?? "")@\($0["mean_score"] ?? "")"
            }
            let metadata = json["metadata"] as? [String: Any]
            return [
                "\(json["status"] ?? "")", "\(json["final_round"] ?? "")", "\(winner?["member_id"] ?? "")",
                "\(winner?["answer"] ?? "")", "\(metadata?["total_rounds"] ?? "")", "\(metadata?["total_calls"] ?? "")",
            ] + answers
        }

        /// What each test works with: the binary, its sandbox, a fake server answering every call (slowly)
        /// and the environment that points the binary at it, and a store in the sandbox.
        private struct Setup {
            let binary: RefineryBinary
            let sandbox: Sandbox
            let server: FakeServer
            let environment: [String: String]
            let store: String

            /// `refinery ARGUMENTS` in the sandbox.
            func run(_ arguments: [String]) async throws -> RefineryBinary.Result {
                try await binary.run(arguments, environment: environment, directory: sandbox.root)
            }
        }

        private func withSetup(_ body: @Sendable (Setup) async throws -> Void) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, .delayed(Self.delay, FakeOpenAI.completion(CLIHarness.universalReply())))
                try await body(
                    Setup(
                        binary: binary, sandbox: sandbox, server: server,
                        environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                        store: sandbox.root.appendingPathComponent("runs.db").path))
            }
        }

        /// The run on the set-up's store, sent `signal` once four requests reached the server: two calls at a
        /// time, so the first two are recorded by then.
        private func stoppedRun(
            _ setup: Setup, signal: Int32
        ) async throws -> (process: Process, result: RefineryBinary.Result) {
            let running = try setup.binary.start(
                arguments(["--store", setup.store]), environment: setup.environment, directory: setup.sandbox.root)
            let process = running.process
            while setup.server.requests.count < 4 && process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
            kill(process.processIdentifier, signal)
            try await running.wait()
            return (process, try running.result())
        }

        @Test(arguments: [2, 5, 9, 14])
        func killedRunResumesWithoutPayingTwice(killAfterRequests: Int) async throws {
            try await withSetup { setup in
                let (binary, sandbox, server, environment) = (setup.binary, setup.sandbox, setup.server, setup.environment)

                // The uninterrupted reference run, in its own store.
                let reference = try await binary.run(
                    arguments(["--store", sandbox.root.appendingPathComponent("reference.db").path]),
                    environment: environment, directory: sandbox.root)
                #expect(reference.exitCode == 0, "\(reference.stderr)")
                let referenceCalls = server.requests.count
                let baseline = server.requests.count

                // The same run, killed once `killAfterRequests` requests have reached the server.
                let store = setup.store
                let running = try binary.start(
                    arguments(["--store", store]), environment: environment, directory: sandbox.root)
                try await running.kill { server.requests.count - baseline >= killAfterRequests }
                #expect(running.process.terminationReason == .uncaughtSignal)

                // What the ledger holds now is exactly what was finished before the kill.
                let list = try await binary.run(
                    ["runs", "list", "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                let runs = try #require(
                    try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
                let id = try #require(runs.first?["id"] as? String)
                // Recorded `running`, but no process runs it: every reading says so, with the command that
                // finishes it (they said `running` for ever).
                #expect(runs.first?["status"] as? String == "interrupted")
                let text = try await binary.run(
                    ["runs", "show", id, "--store", store], environment: environment, directory: sandbox.root)
                #expect(text.stdout.contains("status:    interrupted"), "\(text.stdout)")
                #expect(text.stdout.contains("`refinery resume \(id)` finishes it"), "\(text.stdout)")
                let page = sandbox.root.appendingPathComponent("killed-\(killAfterRequests).html")
                let report = try await binary.run(
                    ["report", id, "--store", store, "-o", page.path], environment: environment,
                    directory: sandbox.root)
                #expect(report.exitCode == 0, "\(report.stderr)")
                let html = try String(contentsOf: page, encoding: .utf8)
                #expect(html.contains("<span class=\"status\">interrupted</span>"))
                #expect(html.contains("`refinery resume \(id)` finishes it"))
                let export = try await binary.run(
                    ["runs", "export", id, "--store", store], environment: environment, directory: sandbox.root)
                let calls = (try CLIHarness.json(export.stdout)["calls"] as? [[String: Any]] ?? [])
                    .filter { $0["status"] as? String == "succeeded" }
                let recorded = calls.count
                #expect(recorded <= killAfterRequests)
                // What the finished calls cost is the run's cost so far, though no outcome was recorded: it read $0.
                let spent = calls.reduce(0.0) { $0 + ($1["cost_usd"] as? Double ?? 0) }
                #expect(recorded == 0 || spent > 0)
                #expect(abs((runs.first?["cost_usd"] as? Double ?? -1) - spent) < 1e-12, "\(list.stdout)")
                let shown = try await binary.run(
                    ["runs", "show", id, "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(abs((try CLIHarness.json(shown.stdout)["cost_usd"] as? Double ?? -1) - spent) < 1e-12)

                let beforeResume = server.requests.count
                let resumed = try await binary.run(
                    ["resume", id, "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                // Every call finished before the kill is served from the ledger: the resume sends
                // exactly the calls that were not finished.
                #expect(server.requests.count - beforeResume == referenceCalls - recorded)
                let resumedJSON = try CLIHarness.json(resumed.stdout)
                #expect(stable(resumedJSON) == stable(try CLIHarness.json(reference.stdout)))
                // The resumed run's page counts each call once, as its JSON does: the calls served back from
                // the ledger were drawn, counted and priced a second time (the cost table summed past the run's cost).
                let resumedPage = sandbox.root.appendingPathComponent("resumed-\(killAfterRequests).html")
                _ = try await binary.run(
                    ["report", id, "--store", store, "-o", resumedPage.path], environment: environment,
                    directory: sandbox.root)
                let resumedHTML = try String(contentsOf: resumedPage, encoding: .utf8)
                let total = try #require((resumedJSON["metadata"] as? [String: Any])?["total_calls"] as? Int)
                #expect(resumedHTML.contains("<dt>calls</dt><dd>\(total)</dd>"))
                #expect(resumedHTML.components(separatedBy: "<rect class=\"bar ").count - 1 == total)
                let rows = resumedHTML.matches(of: /<tr><td>[^<]*<\/td><td>(\d+)<\/td><td>\d+<\/td><td>\$([0-9.]+)<\/td>/)
                #expect(rows.reduce(0) { $0 + (Int($1.output.1) ?? 0) } == total)
                let cost = try #require(resumedJSON["cost_usd"] as? Double)
                #expect(abs(rows.reduce(0.0) { $0 + (Double($1.output.2) ?? 0) } - cost) < 0.0002 * Double(rows.count))
            }
        }

        /// Five instances of one model (`self-consistency`'s five samples) send byte-identical requests; the
        /// ledger keys each instance's call apart (its graph node), so a run killed after three of the five
        /// proposals resumes with each instance's own recorded answer, not the first instance's five times,
        /// and ends as the uninterrupted run did. The fake answers each request differently (a counter).
        @Test func identicalRequestsOfInstancesResumeToTheirOwnReplies() async throws {
            try await withSetup { setup in
                let (binary, sandbox, server, environment) = (setup.binary, setup.sandbox, setup.server, setup.environment)
                // The number of the next answer, and how many the server answers before holding the rest.
                let counter = Mutex((next: 1, answering: Int.max))
                server.route(FakeOpenAI.path) { _ in
                    let number: Int? = counter.withLock { state in
                        guard state.answering > 0 else { return nil }
                        state.answering -= 1
                        defer { state.next += 1 }
                        return state.next
                    }
                    guard let number else { return .hold(limit: .seconds(60)) }
                    return FakeOpenAI.completion("Sample \(number).\n\(number)")
                }
                let arguments = [
                    "run", "self-consistency", "What is 2+2?", "--models", "openai/gpt-4o:5", "--max-rounds", "1",
                    "--max-concurrent", "1", "--output-format", "json",
                ]
                let reference = try await binary.run(
                    arguments + ["--store", "reference.db"], environment: environment, directory: sandbox.root)
                #expect(reference.exitCode == 2, "\(reference.stderr)")
                // The five samples ask the same thing, at the workflow's temperature.
                let bodies = Set(server.requests.map(\.body))
                #expect(server.requests.count == 5 && bodies.count == 1, "\(bodies)")
                #expect(bodies.first?.contains("\"temperature\":0.8") == true, "\(bodies)")

                // Killed while the fourth proposal waits for its answer: three are recorded.
                counter.withLock { $0 = (next: 1, answering: 3) }
                let store = setup.store
                let running = try binary.start(
                    arguments + ["--store", store], environment: environment, directory: sandbox.root)
                try await running.kill { server.requests.count >= 9 }
                let runs = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                let id = try #require(runs.first?["id"] as? String)
                let export = try await binary.run(
                    ["runs", "export", id, "--store", store], environment: environment, directory: sandbox.root)
                let recorded = (try CLIHarness.json(export.stdout)["calls"] as? [[String: Any]] ?? [])
                #expect(recorded.filter { $0["status"] as? String == "succeeded" }.count == 3, "\(export.stdout)")

                // The resume asks only for the last two samples, which the server answers 4 and 5 again.
                counter.withLock { $0 = (next: 4, answering: Int.max) }
                let resumed = try await binary.run(
                    ["resume", id, "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 2, "\(resumed.stderr)")
                #expect(server.requests.count == 11)
                let answers = { (json: [String: Any]) in
                    (json["all_answers"] as? [[String: Any]] ?? []).map {
                        "\($0["member_id"] ?? "")=\($0["answer"] ?? "")"
                    }
                }
                let expected = (1...5).map { "openai/gpt-4o#\($0)=Sample \($0).\n\($0)" }
                #expect(answers(try CLIHarness.json(reference.stdout)) == expected)
                #expect(answers(try CLIHarness.json(resumed.stdout)) == expected)
                #expect(stable(try CLIHarness.json(resumed.stdout)) == stable(try CLIHarness.json(reference.stdout)))
            }
        }

        /// The prices change between the interruption and the resume (catalog.yaml edited): the calls
        /// served from the ledger count what they cost when they were paid for, and only the calls made
        /// by the resume are priced anew. They were priced again at the new prices, so the run's cost
        /// (its JSON, `runs list`, `runs show`) was not what its calls cost in `runs export`.
        @Test func aResumeCountsRecordedCallsAtTheirRecordedCost() async throws {
            try await withSetup { setup in
                let (_, interrupted) = try await stoppedRun(setup, signal: SIGTERM)
                #expect(interrupted.exitCode == 1)

                let id = try #require(
                    try await setup.binary.listRuns(
                        store: setup.store, environment: setup.environment, directory: setup.sandbox.root
                    ).first?["id"] as? String)
                // A hundred times the catalog's prices.
                try setup.sandbox.write(
                    "config/refinery/catalog.yaml",
                    Data(
                        """
                        prices:
                          openai/gpt-4o: { input: 250, output: 1000 }
                          openai/gpt-4o-mini: { input: 15, output: 60 }
                          openai/o3: { input: 200, output: 800 }

                        """.utf8))
                let resumed = try await setup.run(["resume", id, "--store", setup.store, "--output-format", "json"])
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                let cost = try #require(try CLIHarness.json(resumed.stdout)["cost_usd"] as? Double)

                let export = try await setup.run(["runs", "export", id, "--store", setup.store])
                let calls = try CLIHarness.json(export.stdout)["calls"] as? [[String: Any]] ?? []
                let replayed = calls.filter { $0["status"] as? String == "replayed" }
                #expect(replayed.count >= 2)
                // What was paid: each call once, at the price it was made at.
                let paid = calls.filter { $0["status"] as? String == "succeeded" }
                    .reduce(0.0) { $0 + ($1["cost_usd"] as? Double ?? 0) }
                #expect(abs(cost - paid) < 1e-9, "resumed cost \(cost), calls paid \(paid)")
                let shown = try await setup.run(["runs", "show", id, "--store", setup.store, "--output-format", "json"])
                #expect(abs((try CLIHarness.json(shown.stdout)["cost_usd"] as? Double ?? -1) - paid) < 1e-9)
            }
        }

        /// SIGTERM (a service manager's stop) and SIGHUP (the terminal closed) are Ctrl-C's request
        /// too: cancelled, exit 1, resumable. Left at their default they killed the process (exit 143)
        /// with the run still `running`.
        @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
        func stopSignalCancelsWithExitOneAndTheRunResumes(signal: Int32) async throws {
            try await withSetup { setup in
                let (process, interrupted) = try await stoppedRun(setup, signal: signal)
                #expect(process.terminationReason == .exit)
                #expect(interrupted.exitCode == 1, "\(interrupted.stderr)")
                #expect(try CLIHarness.json(interrupted.stdout)["status"] as? String == "cancelled")

                let list = try await setup.run(["runs", "list", "--store", setup.store, "--output-format", "json"])
                let runs = try #require(
                    try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
                #expect(runs.first?["status"] as? String == "cancelled")
                let id = try #require(runs.first?["id"] as? String)
                let shown = try await setup.run(["runs", "show", id, "--store", setup.store, "--output-format", "json"])
                #expect(try CLIHarness.json(shown.stdout)["status"] as? String == "cancelled")
                let resumed = try await setup.run(["resume", id, "--store", setup.store, "--output-format", "json"])
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(try CLIHarness.json(resumed.stdout)["status"] as? String == "converged")
            }
        }
    }
}
