import Foundation
import Refinery
import RefineryRuntime
import RefineryStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Many `refinery worker` processes on one detached batch, against fake providers and the test
/// PostgreSQL server.
extension CLIEndToEnd {
    @Suite(.enabled(if: PostgresLedger.enabled, PostgresLedger.skipReason))
    struct WorkerCLITests {
        /// "What is N+N?" for N in 1...count, one JSONL line each (ids q1...).
        static func questions(_ count: Int) -> [String] { (1...count).map { "What is \($0)+\($0)?" } }

        static func input(_ questions: [String]) -> Data {
            Data(
                questions.enumerated().map { #"{"id":"q\#($0.offset + 1)","question":"\#($0.element)"}"# }
                    .joined(separator: "\n").utf8 + [10])
        }

        /// A reply that answers the question in the request (every stage accepts it), so that each item's
        /// answer is its own and a mix-up between items shows.
        static func reply(to request: RecordedRequest, questions: [String], delay: Duration, completion: Int = 5)
            -> FakeReply
        {
            let number = questions.lastIndex { request.body.contains($0) }.map { 2 * ($0 + 1) } ?? 0
            let text = """
                {"answer":"It is \(number).","strengths":["correct"],"weaknesses":[],"suggestions":[],\
                "rationale":"It is right.","score":9,"synthesis":"It is \(number).","confidence":0.95,"dissent":"",\
                "refinement_areas":[],"needs_iteration":false,"ranking":[]}
                """
            return .delayed(delay, FakeOpenAI.completion(text, completion: completion))
        }

        /// The ledger of a test database, opened as a library user would.
        static func ledger(_ database: PostgresLedger.Database) async throws -> PostgresRunStore {
            try await PostgresRunStore.open(
                try PostgresLocation(url: database.url, environment: ["PGPASSWORD": database.password]))
        }

        static func status(
            _ binary: RefineryBinary, _ id: String, store: String, environment: [String: String], directory: URL
        ) async throws -> [String: Any] {
            let status = try await binary.run(
                ["batch", "status", id, "--store", store, "--output-format", "json"], environment: environment,
                directory: directory)
            #expect(status.exitCode == 0, "\(status.stderr)")
            return try CLIHarness.json(status.stdout)
        }

        /// Three workers on one detached batch; one is killed with SIGKILL while a call of its is in flight.
        /// Every item is recorded exactly once (by exactly one worker), every call once in the ledger, the
        /// providers see the one-process run's calls plus at most the killed worker's calls in flight, and
        /// each item's answer is the one-process batch's.
        @Test(.timeLimit(.minutes(3))) func threeWorkersOneKilledMidCallDoEveryItemOnce() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let questions = Self.questions(12)
            try sandbox.write("in.jsonl", Self.input(questions))
            let database = try await PostgresLedger.Database()
            let outputs = try await database.use {
                // The killed worker calls its own server, so that the test knows when it has a call in flight.
                try await FakeServer.run { shared in
                    try await FakeServer.run { doomed in
                        var outputs: [String] = []
                        shared.route(FakeOpenAI.path) {
                            Self.reply(to: $0, questions: questions, delay: .milliseconds(30))
                        }
                        doomed.route(FakeOpenAI.path) {
                            Self.reply(to: $0, questions: questions, delay: .milliseconds(400))
                        }
                        var environment = CLIHarness.environment(home: sandbox.root, baseURL: shared.baseURL)
                        environment["PGPASSWORD"] = database.password
                        environment["REFINERY_WORKER_LEASE_SECONDS"] = "2"
                        let batch = [
                            "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels, "--seed",
                            "5", "--concurrency", "2",
                        ]
                        let reference = try await binary.run(
                            batch + ["--store", "reference.db", "--output", "reference.jsonl"],
                            environment: environment, directory: sandbox.root)
                        #expect(reference.exitCode == 0, "\(reference.stderr)")
                        let referenceCalls = shared.requests.count

                        let detached = try await binary.run(
                            batch + ["--store", database.url, "--detach", "--output-format", "json"],
                            environment: environment, directory: sandbox.root)
                        outputs += [detached.stdout, detached.stderr]
                        #expect(detached.exitCode == 0, "\(detached.stderr)")
                        let id = try #require(try CLIHarness.json(detached.stdout)["batch_id"] as? String)
                        #expect(shared.requests.count == referenceCalls, "--detach made a call")

                        let worker = ["worker", "--store", database.url, "--concurrency", "2"]
                        var doomedEnvironment = environment
                        for name in ["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL"] {
                            doomedEnvironment[name] = doomed.baseURL
                        }
                        let killed = try binary.start(worker, environment: doomedEnvironment, directory: sandbox.root)
                        let survivors = try (0..<2).map { _ in
                            try binary.start(
                                worker + ["--batch", String(id.prefix(8)), "--exit-when-done", "--output-format", "json"],
                                environment: environment, directory: sandbox.root)
                        }
                        // Killed while its fourth call waits for its (slow) reply.
                        try await killed.kill { doomed.requests.count >= 4 }
                        #expect(killed.process.terminationReason == .uncaughtSignal)
                        let killedOutput = try killed.result()
                        outputs += [killedOutput.stdout, killedOutput.stderr]
                        var recordedBySurvivors = 0
                        for survivor in survivors {
                            try await survivor.wait()
                            let result = try survivor.result()
                            outputs += [result.stdout, result.stderr]
                            #expect(result.exitCode == 0, "\(result.stderr)")
                            recordedBySurvivors += try CLIHarness.json(result.stdout)["recorded"] as? Int ?? -1
                        }
                        // Each recorded item prints one line on the worker's stderr.
                        let recordedByKilled = killedOutput.stderr.split(separator: "\n").filter {
                            $0.hasPrefix(id.prefix(8))
                        }.count
                        #expect(recordedBySurvivors + recordedByKilled == questions.count)

                        // The ledger: every item done once, with the one-process answer; every call once.
                        let ledger = try await Self.ledger(database)
                        let items = try await ledger.items(batchID: id)
                        var referenceAnswers: [String: String] = [:]
                        let referenceText = try String(
                            contentsOf: sandbox.root.appendingPathComponent("reference.jsonl"), encoding: .utf8)
                        for line in referenceText.split(separator: "\n") {
                            let result = try CLIHarness.json(String(line))
                            referenceAnswers[result["item_id"] as? String ?? ""] = result["answer"] as? String
                        }
                        #expect(items.count == questions.count)
                        #expect(items.allSatisfy { $0.status == "converged" }, "\(items.map(\.status))")
                        #expect(Dictionary(uniqueKeysWithValues: items.map { ($0.itemID, $0.answer ?? "") })
                            == referenceAnswers)
                        #expect(referenceAnswers["q3"]?.contains("It is 6.") == true)
                        #expect(Set(items.map(\.runID)).count == questions.count)
                        var ledgerCalls = 0
                        for item in items {
                            let succeeded = try await ledger.calls(runID: item.runID).filter { $0.status == .succeeded }
                            let keys = Set(succeeded.map { "\($0.round)|\($0.node)|\($0.requestHash)" })
                            #expect(keys.count == succeeded.count, "a call of \(item.itemID) was recorded twice")
                            ledgerCalls += succeeded.count
                        }
                        await ledger.close()
                        #expect(ledgerCalls == referenceCalls)
                        // Paid twice: at least the call the killed worker was killed in, at most the calls it
                        // had made (its replies come after 400 ms: those in flight when it was killed).
                        let hits = shared.requests.count - referenceCalls + doomed.requests.count
                        #expect(
                            hits - ledgerCalls >= 1 && hits - ledgerCalls <= doomed.requests.count,
                            "\(hits) hits, \(ledgerCalls) recorded, \(doomed.requests.count) by the killed worker")

                        // `batch status`, from the ledger: done, its cost, and the killed worker, no longer alive.
                        let status = try await Self.status(
                            binary, id, store: database.url, environment: environment, directory: sandbox.root)
                        #expect(status["status"] as? String == "finished")
                        #expect(status["done"] as? Int == questions.count && status["total"] as? Int == questions.count)
                        #expect(status["failed"] as? Int == 0 && status["running"] as? Int == 0)
                        #expect(status["detached"] as? Bool == true)
                        let cost = try #require(status["cost_usd"] as? Double)
                        #expect(abs(cost - items.map(\.costUSD).reduce(0, +)) < 1e-9 && cost > 0)
                        let workers = try #require(status["workers"] as? [[String: Any]])
                        #expect(workers.count == 1, "\(workers)")
                        #expect(workers.first?["pid"] as? Int == Int(killed.process.processIdentifier))
                        #expect(workers.first?["alive"] as? Bool == false)
                        #expect(workers.first?["in_flight"] as? Int == 0)
                        return outputs
                    }
                }
            }
            for output in outputs { #expect(!output.contains(database.password), "the password was printed") }
        }

        /// A batch budget holds across two workers: together they pass it by at most one call each, where
        /// each worker's own copy of the budget would have let both spend it.
        @Test(.timeLimit(.minutes(2))) func theBatchBudgetHoldsAcrossTwoWorkers() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let questions = Self.questions(16)
            try sandbox.write("in.jsonl", Self.input(questions))
            let database = try await PostgresLedger.Database()
            try await database.use {
                try await FakeServer.run { server in
                    // 800 output tokens a call: what the estimate assumes, so an item costs about its estimate.
                    server.route(FakeOpenAI.path) {
                        Self.reply(to: $0, questions: questions, delay: .milliseconds(40), completion: 800)
                    }
                    var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                    environment["PGPASSWORD"] = database.password
                    let batch = [
                        "batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o", "--seed", "2",
                        "--store", database.url,
                    ]
                    let estimate = try await binary.run(
                        batch + ["--dry-run", "--output-format", "json"], environment: environment,
                        directory: sandbox.root)
                    let perItem = try #require(
                        (try CLIHarness.json(estimate.stdout)["cost_usd"] as? [String: Any])?["max"] as? Double)
                        / Double(questions.count)
                    // Room for about six of the sixteen items.
                    let budget = perItem * 6.5
                    let detached = try await binary.run(
                        batch + ["--detach", "--max-budget", String(budget), "--output-format", "json"],
                        environment: environment, directory: sandbox.root)
                    #expect(detached.exitCode == 0, "\(detached.stderr)")
                    let id = try #require(try CLIHarness.json(detached.stdout)["batch_id"] as? String)
                    let workers = try (0..<2).map { _ in
                        try binary.start(
                            [
                                "worker", "--store", database.url, "--batch", id, "--concurrency", "3",
                                "--exit-when-done",
                            ], environment: environment, directory: sandbox.root)
                    }
                    for worker in workers {
                        try await worker.wait()
                        let result = try worker.result()
                        #expect(result.exitCode == 0, "\(result.stderr)")
                    }
                    let ledger = try await Self.ledger(database)
                    var spent = 0.0
                    var largestCall = 0.0
                    for item in try await ledger.items(batchID: id) {
                        for call in try await ledger.calls(runID: item.runID) where call.status == .succeeded {
                            spent += call.costUSD
                            largestCall = max(largestCall, call.costUSD)
                        }
                    }
                    await ledger.close()
                    let status = try await Self.status(
                        binary, id, store: database.url, environment: environment, directory: sandbox.root)
                    #expect(status["status"] as? String == "budget_exhausted")
                    let done = try #require(status["done"] as? Int)
                    #expect(done >= 3 && done < questions.count, "\(done) items done")
                    #expect(spent > 0 && spent <= budget + 2 * largestCall + 1e-9, "spent \(spent) of \(budget)")
                    #expect(abs((status["budget_usd"] as? Double ?? 0) - budget) < 1e-9)
                    #expect(abs((status["spent_usd"] as? Double ?? 0) - spent) < 1e-9)
                    #expect(status["reserved_usd"] as? Double ?? -1 < 1e-9)
                }
            }
        }

        /// `batch status` while a worker runs: the items waiting and in flight, and the worker with its
        /// items and a recent heartbeat.
        @Test(.timeLimit(.minutes(2))) func statusShowsProgressAndTheLiveWorker() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let questions = Self.questions(4)
            try sandbox.write("in.jsonl", Self.input(questions))
            let database = try await PostgresLedger.Database()
            try await database.use {
                try await FakeServer.run { server in
                    server.route(FakeOpenAI.path) {
                        Self.reply(to: $0, questions: questions, delay: .milliseconds(300))
                    }
                    var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                    environment["PGPASSWORD"] = database.password
                    let detached = try await binary.run(
                        [
                            "batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o", "--store",
                            database.url, "--detach",
                        ], environment: environment, directory: sandbox.root)
                    #expect(detached.exitCode == 0, "\(detached.stderr)")
                    let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    let queued = try await Self.status(
                        binary, id, store: database.url, environment: environment, directory: sandbox.root)
                    #expect(queued["pending"] as? Int == 4 && queued["done"] as? Int == 0)
                    #expect(queued["status"] as? String == "running")
                    #expect((queued["workers"] as? [Any])?.isEmpty == true)

                    let worker = try binary.start(
                        [
                            "worker", "--store", database.url, "--concurrency", "1", "--exit-when-done",
                            "--output-format", "json",
                        ], environment: environment, directory: sandbox.root)
                    let started = server.requests.count
                    while server.requests.count == started && worker.process.isRunning {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    let busy = try await Self.status(
                        binary, id, store: database.url, environment: environment, directory: sandbox.root)
                    #expect(busy["running"] as? Int == 1)
                    #expect((busy["pending"] as? Int ?? 0) + (busy["done"] as? Int ?? 0) == 3)
                    let live = try #require((busy["workers"] as? [[String: Any]])?.first)
                    #expect(live["pid"] as? Int == Int(worker.process.processIdentifier))
                    #expect(live["in_flight"] as? Int == 1)
                    #expect(live["alive"] as? Bool == true)
                    #expect((live["heartbeat_age_seconds"] as? Double ?? 99) < 30)

                    try await worker.wait()
                    let result = try worker.result()
                    #expect(result.exitCode == 0, "\(result.stderr)")
                    #expect(try CLIHarness.json(result.stdout)["recorded"] as? Int == 4)
                    let done = try await Self.status(
                        binary, id, store: database.url, environment: environment, directory: sandbox.root)
                    #expect(done["done"] as? Int == 4 && done["status"] as? String == "finished")
                    #expect((done["workers"] as? [Any])?.isEmpty == true, "the worker that exited is still listed")
                }
            }
        }
        /// SIGTERM stops a worker cleanly: it exits 0, records its runs in flight `cancelled` and hands
        /// their items back at once (no lease to wait for), and leaves the workers list; another worker
        /// then finishes the batch, resuming those runs.
        @Test(.timeLimit(.minutes(2))) func sigtermHandsTheItemsBackForAnotherWorker() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let questions = Self.questions(6)
            try sandbox.write("in.jsonl", Self.input(questions))
            let database = try await PostgresLedger.Database()
            try await database.use {
                try await FakeServer.run { server in
                    server.route(FakeOpenAI.path) {
                        Self.reply(to: $0, questions: questions, delay: .milliseconds(300))
                    }
                    var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                    environment["PGPASSWORD"] = database.password
                    let detached = try await binary.run(
                        [
                            "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels,
                            "--store", database.url, "--detach",
                        ], environment: environment, directory: sandbox.root)
                    let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    let worker = ["worker", "--store", database.url, "--concurrency", "2", "--output-format", "json"]
                    let first = try binary.start(worker, environment: environment, directory: sandbox.root)
                    while server.requests.count < 2 && first.process.isRunning {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    let stopped = ContinuousClock.now
                    kill(first.process.processIdentifier, SIGTERM)
                    try await first.wait()
                    // Not a lease's worth of waiting (30 s by default): the items are handed back at once.
                    #expect(ContinuousClock.now - stopped < .seconds(10))
                    let result = try first.result()
                    #expect(result.exitCode == 0, "\(result.stderr)")

                    let status = try await Self.status(
                        binary, id, store: database.url, environment: environment, directory: sandbox.root)
                    #expect(status["running"] as? Int == 0)
                    #expect((status["workers"] as? [Any])?.isEmpty == true)
                    let done = try #require(status["done"] as? Int)
                    #expect(done < questions.count)
                    #expect(status["pending"] as? Int == questions.count - done)

                    let second = try await binary.run(
                        worker + ["--batch", id, "--exit-when-done"], environment: environment,
                        directory: sandbox.root)
                    #expect(second.exitCode == 0, "\(second.stderr)")
                    #expect(try CLIHarness.json(second.stdout)["recorded"] as? Int == questions.count - done)
                    let finished = try await Self.status(
                        binary, id, store: database.url, environment: environment, directory: sandbox.root)
                    #expect(finished["status"] as? String == "finished")
                    #expect(finished["done"] as? Int == questions.count)
                }
            }
        }
        /// PostgreSQL restarted (`pg_ctl restart`) while three workers run a batch: they wait for it and
        /// reconnect, and nothing is lost or paid twice: every item is done once, with the one-process
        /// answers, and the providers saw exactly the calls the ledger holds, the one-process run's.
        @Test(
            .enabled(
                if: PostgresLedger.restart != nil || ProcessInfo.processInfo.environment["CI"] == "true",
                "REFINERY_TEST_POSTGRES_RESTART names no command restarting the test server (.ci/postgres.sh sets it)"),
            .timeLimit(.minutes(3)))
        func aServerRestartMidBatchLosesNothing() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let restart = try #require(PostgresLedger.restart, "CI=true requires REFINERY_TEST_POSTGRES_RESTART")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let questions = Self.questions(24)
            try sandbox.write("in.jsonl", Self.input(questions))
            let database = try await PostgresLedger.Database()
            try await database.use {
                try await FakeServer.run { server in
                    server.route(FakeOpenAI.path) {
                        Self.reply(to: $0, questions: questions, delay: .milliseconds(60))
                    }
                    var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                    environment["PGPASSWORD"] = database.password
                    let batch = [
                        "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels, "--seed", "8",
                    ]
                    let reference = try await binary.run(
                        batch + ["--store", "reference.db", "--output", "reference.jsonl", "--concurrency", "6"],
                        environment: environment, directory: sandbox.root)
                    #expect(reference.exitCode == 0, "\(reference.stderr)")
                    let referenceCalls = server.requests.count
                    let detached = try await binary.run(
                        batch + ["--store", database.url, "--detach"], environment: environment,
                        directory: sandbox.root)
                    let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    let workers = try (0..<3).map { _ in
                        try binary.start(
                            [
                                "worker", "--store", database.url, "--batch", id, "--concurrency", "2",
                                "--exit-when-done", "--output-format", "json",
                            ], environment: environment, directory: sandbox.root)
                    }
                    while server.requests.count < referenceCalls + referenceCalls / 4 {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    // Through python3's subprocess, which closes inherited descriptors: the restarted server
                    // must not inherit the pipe by which Foundation learns that its child exited.
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                    process.arguments = [
                        "python3", "-c",
                        "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1] + ' >/dev/null 2>&1', shell=True))",
                        restart,
                    ]
                    try process.run()
                    while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                    #expect(process.terminationStatus == 0, "the restart command failed")
                    let callsAtRestart = server.requests.count - referenceCalls
                    var recorded = 0
                    for worker in workers {
                        try await worker.wait()
                        let result = try worker.result()
                        #expect(result.exitCode == 0, "\(result.stderr)")
                        recorded += try CLIHarness.json(result.stdout)["recorded"] as? Int ?? 0
                    }
                    #expect(callsAtRestart < referenceCalls, "the batch was over before the restart")
                    #expect(recorded == questions.count)

                    let ledger = try await Self.ledger(database)
                    let items = try await ledger.items(batchID: id)
                    var ledgerCalls = 0
                    for item in items {
                        ledgerCalls += try await ledger.calls(runID: item.runID).filter { $0.status == .succeeded }.count
                    }
                    await ledger.close()
                    #expect(items.count == questions.count && items.allSatisfy { $0.status == "converged" })
                    #expect(ledgerCalls == referenceCalls)
                    #expect(server.requests.count - referenceCalls == referenceCalls, "a call was paid twice")
                    let referenceText = try String(
                        contentsOf: sandbox.root.appendingPathComponent("reference.jsonl"), encoding: .utf8)
                    var referenceAnswers: [String: String] = [:]
                    for line in referenceText.split(separator: "\n") {
                        let result = try CLIHarness.json(String(line))
                        referenceAnswers[result["item_id"] as? String ?? ""] = result["answer"] as? String
                    }
                    #expect(Dictionary(uniqueKeysWithValues: items.map { ($0.itemID, $0.answer ?? "") }) == referenceAnswers)
                    let status = try await Self.status(
                        binary, id, store: database.url, environment: environment, directory: sandbox.root)
                    #expect(status["status"] as? String == "finished" && status["done"] as? Int == questions.count)
                }
            }
        }
        /// `bench --detach`: two workers grade every (item, system) job, and `bench resume` prints the
        /// table of an uninterrupted bench from the ledger without running anything again.
        @Test(.timeLimit(.minutes(2))) func aDetachedBenchIsGradedByWorkers() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let questions = Self.questions(4)
            // The reference of the last item is wrong on purpose: 3 of 4 correct for each system.
            let rows = questions.enumerated().map { index, question in
                #"{"id":"d\#(index + 1)","question":"\#(question)","answer":"\#(index == 3 ? 0 : 2 * (index + 1))"}"#
            }
            try sandbox.write("data.jsonl", Data((rows.joined(separator: "\n") + "\n").utf8))
            let database = try await PostgresLedger.Database()
            try await database.use {
                try await FakeServer.run { server in
                    server.route(FakeOpenAI.path) { Self.reply(to: $0, questions: questions, delay: .milliseconds(20)) }
                    var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                    environment["PGPASSWORD"] = database.password
                    let detached = try await binary.run(
                        [
                            "bench", "single:openai/gpt-4o", "consensus", "--models", "openai/gpt-4o,openai/gpt-4o-mini",
                            "--dataset", "data.jsonl", "--store", database.url, "--detach", "--output-format", "json",
                        ], environment: environment, directory: sandbox.root)
                    #expect(detached.exitCode == 0, "\(detached.stderr)")
                    let enqueued = try CLIHarness.json(detached.stdout)
                    #expect(enqueued["kind"] as? String == "bench" && enqueued["total"] as? Int == 8)
                    let id = try #require(enqueued["batch_id"] as? String)
                    let workers = try (0..<2).map { _ in
                        try binary.start(
                            ["worker", "--store", database.url, "--exit-when-done", "--output-format", "json"],
                            environment: environment, directory: sandbox.root)
                    }
                    var recorded = 0
                    for worker in workers {
                        try await worker.wait()
                        let result = try worker.result()
                        #expect(result.exitCode == 0, "\(result.stderr)")
                        recorded += try CLIHarness.json(result.stdout)["recorded"] as? Int ?? 0
                    }
                    #expect(recorded == 8)
                    let calls = server.requests.count
                    let table = try await binary.run(
                        ["bench", "resume", id, "--store", database.url, "--output-format", "json"],
                        environment: environment, directory: sandbox.root)
                    #expect(table.exitCode == 0, "\(table.stderr)")
                    #expect(server.requests.count == calls, "bench resume ran a finished job again")
                    let summary = try CLIHarness.json(table.stdout)
                    let systems = try #require(summary["systems"] as? [[String: Any]])
                    #expect(systems.count == 2)
                    for system in systems {
                        #expect(system["correct"] as? Int == 3 && system["total"] as? Int == 4, "\(system)")
                    }
                }
            }
        }
    }

    /// `--detach` needs a shared store, and `batch status` reads SQLite batches too: no server needed.
    @Suite struct DetachOnSQLiteCLITests {
        @Test func detachOnASQLiteStoreIsRefusedWithAHint() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("in.jsonl", WorkerCLITests.input(WorkerCLITests.questions(2)))
            try sandbox.write("data.jsonl", Data(#"{"id":"a","question":"What is 1+1?","answer":"2"}"#.utf8 + [10]))
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9")
            for command in [
                ["batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o", "--detach"],
                ["bench", "single:openai/gpt-4o", "--dataset", "data.jsonl", "--detach"],
                ["worker", "--exit-when-done"],
            ] {
                let result = try await binary.run(
                    command + ["--store", "local.db"], environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 4, "\(command): \(result.stderr)")
                #expect(result.stderr.contains("shared store") && result.stderr.contains("postgres://"))
            }
            let listed = try await binary.run(
                ["batch", "list", "--store", "local.db", "--output-format", "json"], environment: environment,
                directory: sandbox.root)
            let batches = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any]
            #expect(batches?.isEmpty == true, "something was enqueued: \(listed.stdout)")
        }

        @Test func statusReadsASQLiteBatch() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let questions = WorkerCLITests.questions(3)
            try sandbox.write("in.jsonl", WorkerCLITests.input(questions))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) {
                    WorkerCLITests.reply(to: $0, questions: questions, delay: .zero)
                }
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let batch = try await binary.run(
                    [
                        "batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o", "--store", "local.db",
                        "--output", "out.jsonl", "--max-budget", "5",
                    ], environment: environment, directory: sandbox.root)
                #expect(batch.exitCode == 0, "\(batch.stderr)")
                let id = try #require(
                    try await BatchCLITests.list(
                        binary, store: "local.db", environment: environment, directory: sandbox.root
                    ).first?["id"] as? String)
                let status = try await WorkerCLITests.status(
                    binary, String(id.prefix(8)), store: "local.db", environment: environment,
                    directory: sandbox.root)
                #expect(status["batch_id"] as? String == id)
                #expect(status["done"] as? Int == 3 && status["total"] as? Int == 3 && status["failed"] as? Int == 0)
                #expect(status["status"] as? String == "finished" && status["detached"] as? Bool == false)
                #expect((status["cost_usd"] as? Double ?? 0) > 0)
                #expect(status["budget_usd"] as? Double == 5)
                #expect((status["workers"] as? [Any])?.isEmpty == true)
                let text = try await binary.run(
                    ["batch", "status", id, "--store", "local.db"], environment: environment, directory: sandbox.root)
                #expect(text.stdout.contains("3/3 done") && text.stdout.contains("budget $5.0000"), "\(text.stdout)")
            }
        }
    }
}
