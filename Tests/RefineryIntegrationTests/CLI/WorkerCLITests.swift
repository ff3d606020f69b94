import Foundation
import Refinery
import RefineryRuntime
import RefineryStore
import RefineryTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Many `refinery worker` processes on one detached batch, against fake providers and the test
/// PostgreSQL server.
extension CLIEndToEnd {
    @Suite(.enabled(if: PostgresLedger.enabled, PostgresLedger.skipReason))
    struct WorkerCLITests {
        /// "What is N+N?" for N in 1...count.
        static func questions(_ count: Int) -> [String] { (1...count).map { "What is \($0)+\($0)?" } }

        /// One JSONL line per question (ids q1...).
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

        /// What every test here starts from: the binary, a sandbox holding the questions in `in.jsonl`, a
        /// new database, a fake provider answering each question, and the environment pointing at both.
        struct Setup: Sendable {
            let binary: RefineryBinary
            let sandbox: Sandbox
            let database: PostgresLedger.Database
            let server: FakeServer
            let questions: [String]
            let environment: [String: String]

            func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> RefineryBinary.Result
            {
                try await binary.run(arguments, environment: environment ?? self.environment, directory: sandbox.root)
            }

            func start(_ arguments: [String], environment: [String: String]? = nil) throws -> RefineryBinary.Running {
                try binary.start(arguments, environment: environment ?? self.environment, directory: sandbox.root)
            }

            /// Waits for a worker started with `--output-format json`; expects exit 0; its summary.
            func finish(_ worker: RefineryBinary.Running) async throws -> (summary: [String: Any], output: String) {
                try await worker.wait()
                let result = try worker.result()
                #expect(result.exitCode == 0, "\(result.stderr)")
                return (try CLIHarness.json(result.stdout), result.stdout + result.stderr)
            }

            /// `refinery batch status ID --output-format json`.
            func status(_ id: String) async throws -> [String: Any] {
                try await WorkerCLITests.status(
                    binary, id, store: database.url, environment: environment, directory: sandbox.root)
            }

            /// The estimated maximum cost of one item of `batch` (`--dry-run`'s for all, over the questions).
            func estimatePerItem(_ batch: [String]) async throws -> Double {
                let estimate = try await run(batch + ["--dry-run", "--output-format", "json"])
                let all = (try CLIHarness.json(estimate.stdout)["cost_usd"] as? [String: Any])?["max"] as? Double
                return try #require(all) / Double(questions.count)
            }

            /// `--detach` with `arguments`: the batch id.
            func detach(_ arguments: [String]) async throws -> String {
                let detached = try await run(
                    arguments + ["--store", database.url, "--detach", "--output-format", "json"])
                #expect(detached.exitCode == 0, "\(detached.stderr)")
                return try #require(try CLIHarness.json(detached.stdout)["batch_id"] as? String)
            }

            /// Each item's answer in a results file.
            func answers(_ file: String) throws -> [String: String] {
                let text = try String(contentsOf: sandbox.root.appendingPathComponent(file), encoding: .utf8)
                var answers: [String: String] = [:]
                for line in text.split(separator: "\n") {
                    let result = try CLIHarness.json(String(line))
                    answers[result["item_id"] as? String ?? ""] = result["answer"] as? String
                }
                return answers
            }

            /// The batch's rows and each row's succeeded calls, from the ledger opened as a library user would.
            func ledger(_ id: String) async throws -> (items: [BatchItemRecord], calls: [String: [CallRecord]]) {
                let ledger = try await PostgresRunStore.open(
                    try PostgresLocation(url: database.url, environment: ["PGPASSWORD": database.password]))
                let items = try await ledger.items(batchID: id)
                var calls: [String: [CallRecord]] = [:]
                for item in items {
                    calls[item.itemID] = try await ledger.calls(runID: item.runID).filter { $0.status == .succeeded }
                }
                await ledger.close()
                return (items, calls)
            }

            /// When each item's run first started, from the ledger.
            func runStarts(_ items: [BatchItemRecord]) async throws -> [String: Date] {
                let ledger = try await PostgresRunStore.open(
                    try PostgresLocation(url: database.url, environment: ["PGPASSWORD": database.password]))
                var starts: [String: Date] = [:]
                for item in items { starts[item.runID] = try await ledger.run(exactID: item.runID)?.startedAt }
                await ledger.close()
                return starts
            }
        }

        /// `refinery batch status ID --output-format json` on `store`.
        static func status(
            _ binary: RefineryBinary, _ id: String, store: String, environment: [String: String], directory: URL
        ) async throws -> [String: Any] {
            let status = try await binary.run(
                ["batch", "status", id, "--store", store, "--output-format", "json"], environment: environment,
                directory: directory)
            #expect(status.exitCode == 0, "\(status.stderr)")
            if let errors = try await CLIHarness.schemaErrors(status.stdout, schema: "batch-status.schema.json") {
                #expect(errors == [], "\(status.stdout)")
            }
            return try CLIHarness.json(status.stdout)
        }

        /// Runs `body` with a ``Setup`` of `count` questions answered after `delay`; removes everything after.
        static func withSetup<T: Sendable>(
            questions count: Int, delay: Duration, completion: Int = 5, lease: Double? = nil,
            onFaultServer: Bool = false, _ body: @escaping @Sendable (Setup) async throws -> T
        ) async throws -> T {
            let questions = Self.questions(count)
            return try await PostgresLedger.withLedger(
                onFaultServer: onFaultServer,
                reply: { Self.reply(to: $0, questions: questions, delay: delay, completion: completion) }
            ) { binary, sandbox, database, server, environment in
                try sandbox.write("in.jsonl", Self.input(questions))
                var environment = environment
                if let lease { environment["REFINERY_WORKER_LEASE_SECONDS"] = String(lease) }
                return try await body(
                    Setup(
                        binary: binary, sandbox: sandbox, database: database, server: server, questions: questions,
                        environment: environment))
            }
        }

        /// Three workers on one detached batch; one is killed with SIGKILL while a call of its is in flight.
        /// Every item is recorded exactly once (by exactly one worker), every call once in the ledger, the
        /// providers see the one-process run's calls plus at most the killed worker's calls in flight, and
        /// each item's answer is the one-process batch's.
        @Test(.timeLimit(.minutes(3))) func threeWorkersOneKilledMidCallDoEveryItemOnce() async throws {
            let (password, outputs) = try await Self.withSetup(questions: 12, delay: .milliseconds(30), lease: 2) {
                setup in
                // The killed worker calls its own, slow, server: the test knows when it has calls in flight.
                try await FakeServer.run { doomed in
                    let questions = setup.questions
                    doomed.route(FakeOpenAI.path) {
                        Self.reply(to: $0, questions: questions, delay: .milliseconds(400))
                    }
                    var outputs: [String] = []
                    let batch = [
                        "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels, "--seed", "5",
                        "--concurrency", "2",
                    ]
                    let reference = try await setup.run(
                        batch + ["--store", "reference.db", "--output", "reference.jsonl"])
                    #expect(reference.exitCode == 0, "\(reference.stderr)")
                    let referenceCalls = setup.server.requests.count
                    let id = try await setup.detach(batch)
                    #expect(setup.server.requests.count == referenceCalls, "--detach made a call")

                    let worker = ["worker", "--store", setup.database.url, "--concurrency", "2"]
                    var doomedEnvironment = setup.environment
                    doomedEnvironment["OPENAI_BASE_URL"] = doomed.baseURL
                    let killed = try setup.start(worker, environment: doomedEnvironment)
                    let survivors = try (0..<2).map { _ in
                        try setup.start(
                            worker + ["--batch", String(id.prefix(8)), "--exit-when-done", "--output-format", "json"])
                    }
                    // Killed while its fourth call waits for its (slow) reply.
                    try await killed.kill { doomed.requests.count >= 4 }
                    #expect(killed.process.terminationReason == .uncaughtSignal)
                    let killedOutput = try killed.result()
                    outputs += [killedOutput.stdout, killedOutput.stderr]
                    var recordedBySurvivors = 0
                    for survivor in survivors {
                        let (summary, output) = try await setup.finish(survivor)
                        outputs.append(output)
                        recordedBySurvivors += summary["recorded"] as? Int ?? -1
                    }
                    // Each recorded item prints one line on the worker's stderr.
                    let recordedByKilled = killedOutput.stderr.split(separator: "\n").filter {
                        $0.hasPrefix(id.prefix(8))
                    }.count
                    #expect(recordedBySurvivors + recordedByKilled == setup.questions.count)

                    // The ledger: every item done once, with the one-process answer; every call once.
                    let (items, calls) = try await setup.ledger(id)
                    let referenceAnswers = try setup.answers("reference.jsonl")
                    #expect(items.count == setup.questions.count)
                    #expect(items.allSatisfy { $0.status == "converged" }, "\(items.map(\.status))")
                    #expect(
                        Dictionary(uniqueKeysWithValues: items.map { ($0.itemID, $0.answer ?? "") }) == referenceAnswers
                    )
                    #expect(referenceAnswers["q3"]?.contains("It is 6.") == true)
                    #expect(Set(items.map(\.runID)).count == setup.questions.count)
                    for (item, succeeded) in calls {
                        let keys = Set(succeeded.map { "\($0.round)|\($0.node)|\($0.requestHash)" })
                        #expect(keys.count == succeeded.count, "a call of \(item) was recorded twice")
                    }
                    let ledgerCalls = calls.values.map(\.count).reduce(0, +)
                    #expect(ledgerCalls == referenceCalls)
                    // Each item's latency is its wall time since its run first started: an item taken over from the
                    // killed worker (once its lease ran out) counted only the survivor's session.
                    let started = try await setup.runStarts(items)
                    for item in items {
                        let since = try #require(item.finishedAt).timeIntervalSince(try #require(started[item.runID]))
                        #expect(
                            item.latencyMs >= Int((since * 1000).rounded()) - 1,
                            "\(item.itemID): \(item.latencyMs) ms, \(since) s since its run started")
                    }
                    // Paid twice: at least the call the killed worker was killed in, at most the calls it had
                    // made (its replies come after 400 ms: those in flight when it was killed).
                    let hits = setup.server.requests.count - referenceCalls + doomed.requests.count
                    #expect(
                        hits - ledgerCalls >= 1 && hits - ledgerCalls <= doomed.requests.count,
                        "\(hits) hits, \(ledgerCalls) recorded, \(doomed.requests.count) by the killed worker")

                    // `batch status`, from the ledger: done, its cost, and the killed worker, no longer alive.
                    let status = try await setup.status(id)
                    #expect(status["status"] as? String == "finished")
                    #expect(status["done"] as? Int == 12 && status["total"] as? Int == 12)
                    #expect(status["failed"] as? Int == 0 && status["running"] as? Int == 0)
                    #expect(status["detached"] as? Bool == true)
                    let cost = try #require(status["cost_usd"] as? Double)
                    #expect(abs(cost - items.map(\.costUSD).reduce(0, +)) < 1e-9 && cost > 0)
                    let workers = try #require(status["workers"] as? [[String: Any]])
                    #expect(workers.count == 1, "\(workers)")
                    #expect(workers.first?["pid"] as? Int == Int(killed.process.processIdentifier))
                    #expect(workers.first?["alive"] as? Bool == false)
                    #expect(workers.first?["in_flight"] as? Int == 0)
                    return (setup.database.password, outputs)
                }
            }
            for output in outputs { #expect(!output.contains(password), "the password was printed") }
        }

        /// A worker frozen (SIGSTOP) past its lease while its item's first calls wait for their replies; another
        /// worker takes the item over and finishes the batch; the frozen one is woken (SIGCONT). At its next
        /// heartbeat it cancels the run it no longer holds instead of paying for the rest of its calls again
        /// (an item of this batch is 18 calls; it had made its first ones): it starts at most the next layer
        /// (6 calls) before the heartbeat, records nothing, reports the item lost and says why.
        @Test(.timeLimit(.minutes(2))) func aWorkerWokenPastItsLeaseCancelsTheRunItLost() async throws {
            try await Self.withSetup(questions: 2, delay: .milliseconds(10), lease: 1.5) { setup in
                try await FakeServer.run { slow in
                    let questions = setup.questions
                    slow.route(FakeOpenAI.path) { Self.reply(to: $0, questions: questions, delay: .milliseconds(300)) }
                    let batch = [
                        "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels, "--seed", "5",
                        "--concurrency", "1",
                    ]
                    let reference = try await setup.run(
                        batch + ["--store", "reference.db", "--output", "reference.jsonl"])
                    #expect(reference.exitCode == 0, "\(reference.stderr)")
                    let referenceCalls = setup.server.requests.count
                    let id = try await setup.detach(batch)
                    let worker = [
                        "worker", "--store", setup.database.url, "--batch", id, "--concurrency", "1",
                        "--exit-when-done",
                        "--output-format", "json",
                    ]
                    var slowEnvironment = setup.environment
                    slowEnvironment["OPENAI_BASE_URL"] = slow.baseURL
                    let stalled = try setup.start(worker, environment: slowEnvironment)
                    while slow.requests.count < 1 { try await Task.sleep(for: .milliseconds(5)) }
                    kill(stalled.process.processIdentifier, SIGSTOP)
                    let atStop = slow.requests.count
                    let (summary, _) = try await setup.finish(try setup.start(worker))
                    #expect(summary["recorded"] as? Int == 2)
                    kill(stalled.process.processIdentifier, SIGCONT)
                    let (stalledSummary, stalledOutput) = try await setup.finish(stalled)
                    #expect(stalledSummary["recorded"] as? Int == 0)
                    #expect(stalledSummary["lost"] as? Int == 1)
                    #expect(stalledOutput.contains("taken over by another worker"), "\(stalledOutput)")
                    let afterWake = slow.requests.count - atStop
                    #expect(afterWake <= 6, "the woken worker made \(afterWake) more calls for an item it lost")

                    let (items, calls) = try await setup.ledger(id)
                    #expect(items.allSatisfy { $0.status == "converged" }, "\(items.map(\.status))")
                    #expect(
                        Dictionary(uniqueKeysWithValues: items.map { ($0.itemID, $0.answer ?? "") })
                            == (try setup.answers("reference.jsonl")))
                    for (item, succeeded) in calls {
                        let keys = Set(succeeded.map { "\($0.round)|\($0.node)|\($0.requestHash)" })
                        #expect(keys.count == succeeded.count, "a call of \(item) was recorded twice")
                    }
                    #expect(calls.values.map(\.count).reduce(0, +) == referenceCalls)
                }
            }
        }

        /// PostgreSQL restarted (`pg_ctl restart`) while three workers run a batch: they wait for it and
        /// reconnect, and nothing is lost or paid twice: every item is done once, with the one-process
        /// answers, and the providers saw exactly the calls the ledger holds, the one-process run's.
        /// On the fault server, one fault test at a time.
        @Test(.enabled(if: FaultServer.enabled, Comment(rawValue: FaultServer.skipReason)), .timeLimit(.minutes(3)))
        func aServerRestartMidBatchLosesNothing() async throws {
            let restart = try #require(FaultServer.restart, "CI=true requires REFINERY_TEST_POSTGRES_RESTART")
            try await FaultServer.exclusively {
                try await Self.withSetup(questions: 24, delay: .milliseconds(60), onFaultServer: true) { setup in
                    let batch = [
                        "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels, "--seed", "8",
                    ]
                    let reference = try await setup.run(
                        batch + ["--store", "reference.db", "--output", "reference.jsonl", "--concurrency", "6"])
                    #expect(reference.exitCode == 0, "\(reference.stderr)")
                    let referenceCalls = setup.server.requests.count
                    let id = try await setup.detach(batch)
                    let workers = try (0..<3).map { _ in
                        try setup.start([
                            "worker", "--store", setup.database.url, "--batch", id, "--concurrency", "2",
                            "--exit-when-done",
                            "--output-format", "json",
                        ])
                    }
                    while setup.server.requests.count < referenceCalls + referenceCalls / 4 {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    #expect(try await ServerRestart.run(restart) == 0, "the restart command failed")
                    let callsAtRestart = setup.server.requests.count - referenceCalls
                    var recorded = 0
                    for worker in workers {
                        recorded += try await setup.finish(worker).summary["recorded"] as? Int ?? 0
                    }
                    #expect(callsAtRestart < referenceCalls, "the batch was over before the restart")
                    #expect(recorded == setup.questions.count)

                    let (items, calls) = try await setup.ledger(id)
                    #expect(items.count == setup.questions.count && items.allSatisfy { $0.status == "converged" })
                    #expect(calls.values.map(\.count).reduce(0, +) == referenceCalls)
                    #expect(setup.server.requests.count - referenceCalls == referenceCalls, "a call was paid twice")
                    #expect(
                        Dictionary(uniqueKeysWithValues: items.map { ($0.itemID, $0.answer ?? "") })
                            == (try setup.answers("reference.jsonl")))
                    let status = try await setup.status(id)
                    #expect(
                        status["status"] as? String == "finished" && status["done"] as? Int == setup.questions.count)
                }
            }
        }

        /// A batch budget holds across two workers: together they pass it by at most one call each, where
        /// each worker's own copy of the budget would have let both spend it.
        @Test(.timeLimit(.minutes(2))) func theBatchBudgetHoldsAcrossTwoWorkers() async throws {
            // 800 output tokens a call: what the estimate assumes, so an item costs about its estimate.
            try await Self.withSetup(questions: 16, delay: .milliseconds(40), completion: 800) { setup in
                let batch = ["batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o", "--seed", "2"]
                let perItem = try await setup.estimatePerItem(batch)
                // Room for about six of the sixteen items.
                let budget = perItem * 6.5
                let id = try await setup.detach(batch + ["--max-budget", String(budget)])
                let workers = try (0..<2).map { _ in
                    try setup.start([
                        "worker", "--store", setup.database.url, "--batch", id, "--concurrency", "3",
                        "--exit-when-done",
                        "--output-format", "json",
                    ])
                }
                var outputs: [String] = []
                for worker in workers { outputs.append(try await setup.finish(worker).output) }
                let (ledgerItems, ledgerCalls) = try await setup.ledger(id)
                let succeeded = ledgerCalls.values.flatMap { $0 }
                // Which path stopped the batch: a job cut by its grant, or a grant refused.
                let diagnosis =
                    ledgerItems.map { "\($0.itemID) \($0.status) $\($0.costUSD) calls=\($0.calls)" }
                    .joined(separator: "\n") + "\nper item ~$\(perItem)\n" + outputs.joined(separator: "\n")
                let spent = succeeded.map(\.costUSD).reduce(0, +)
                let largestCall = succeeded.map(\.costUSD).max() ?? 0
                let status = try await setup.status(id)
                #expect(status["status"] as? String == "budget_exhausted")
                let done = try #require(status["done"] as? Int)
                #expect(done >= 3 && done < setup.questions.count, "\(done) items done\n\(diagnosis)")
                #expect(spent > 0 && spent <= budget + 2 * largestCall + 1e-9, "spent \(spent) of \(budget)")
                #expect(abs((status["budget_usd"] as? Double ?? 0) - budget) < 1e-9)
                #expect(abs((status["spent_usd"] as? Double ?? 0) - spent) < 1e-9)
                #expect(status["reserved_usd"] as? Double ?? -1 < 1e-9)
            }
        }

        /// One worker at `--concurrency 20` with a budget for 2.5 items: its first grant is about 1.08 estimates
        /// (a worker's share shrinks with its concurrency). Two items are done, the batch stops only at the third,
        /// which the budget cannot fit, within the budget, nothing left reserved, no call recorded twice. Before
        /// the engine priced a call before any reply with the estimate's assumption for its kind, such a grant
        /// cut the first call (it assumed 1,024 output tokens, the estimate 800) and the cut stopped the batch
        /// with nothing done; a run cut by its grant now also resumes with everything left
        /// (`PostgresWorkerQueueTests.aCutJobTakesEverythingLeftOnlyWhenThatIsMore` checks those statements).
        @Test(.timeLimit(.minutes(2))) func aRunCutByItsGrantResumesWithWhatIsLeft() async throws {
            try await Self.withSetup(questions: 4, delay: .milliseconds(20), completion: 800) { setup in
                let batch = ["batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o", "--seed", "2"]
                let perItem = try await setup.estimatePerItem(batch)
                let budget = perItem * 2.5
                let id = try await setup.detach(batch + ["--max-budget", String(budget)])
                let (summary, output) = try await setup.finish(
                    try setup.start([
                        "worker", "--store", setup.database.url, "--batch", id, "--concurrency", "20",
                        "--exit-when-done", "--output-format", "json",
                    ]))
                let (items, calls) = try await setup.ledger(id)
                let spent = calls.values.flatMap { $0 }.map(\.costUSD).reduce(0, +)
                let status = try await setup.status(id)
                #expect(status["status"] as? String == "budget_exhausted")
                #expect(status["done"] as? Int == 2, "\(items.map { "\($0.itemID) \($0.status)" }) \(output)")
                #expect(summary["recorded"] as? Int == 2)
                #expect(spent > 0 && spent <= budget + 1e-9, "spent \(spent) of \(budget)")
                #expect(abs((status["spent_usd"] as? Double ?? 0) - spent) < 1e-9)
                #expect(status["reserved_usd"] as? Double ?? -1 < 1e-9)
                for (item, succeeded) in calls {
                    let keys = Set(succeeded.map { "\($0.round)|\($0.node)|\($0.requestHash)" })
                    #expect(keys.count == succeeded.count, "a call of \(item) was recorded twice")
                }
            }
        }

        /// Replies five times longer than the estimate assumes (4,000 output tokens, not 800, within the 4,096 a
        /// call is sent with: a reply past its cap is not believed, its usage estimated): after its first
        /// reply a run prices its next calls at that mean, outgrows its grant and is cut. It resumes with everything
        /// left of the batch budget rather than stopping the batch, so the batch stops only once what is left cannot
        /// pay for one more call: little is left at the end, never the most of the budget that the first cut left.
        @Test(.timeLimit(.minutes(2))) func runsOutgrowingTheirGrantsSpendTheBudgetBeforeTheBatchStops() async throws {
            try await Self.withSetup(questions: 6, delay: .milliseconds(10), completion: 4000) { setup in
                let batch = [
                    "batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o,openai/gpt-4o-mini",
                    "--seed", "3",
                ]
                let perItem = try await setup.estimatePerItem(batch)
                let budget = perItem * 4
                let id = try await setup.detach(batch + ["--max-budget", String(budget)])
                let (_, output) = try await setup.finish(
                    try setup.start([
                        "worker", "--store", setup.database.url, "--batch", id, "--concurrency", "2",
                        "--exit-when-done", "--output-format", "json",
                    ]))
                let (items, calls) = try await setup.ledger(id)
                let succeeded = calls.values.flatMap { $0 }
                let spent = succeeded.map(\.costUSD).reduce(0, +)
                let largestCall = succeeded.map(\.costUSD).max() ?? 0
                let status = try await setup.status(id)
                let summary = "\(items.map { "\($0.itemID) \($0.status) \($0.costUSD)" }) \(output)"
                #expect(status["status"] as? String == "budget_exhausted", "\(summary)")
                #expect(status["done"] as? Int ?? 0 >= 1, "\(summary)")
                // What is left is less than two of the largest calls (one per run in flight) or one more item's
                // estimate, not most of it.
                #expect(budget - spent < max(2 * largestCall, perItem), "spent \(spent) of \(budget); \(summary)")
                #expect(spent <= budget + 2 * largestCall + 1e-9, "spent \(spent) of \(budget)")
                #expect(status["reserved_usd"] as? Double ?? -1 < 1e-9)
                for (item, succeeded) in calls {
                    let keys = Set(succeeded.map { "\($0.round)|\($0.node)|\($0.requestHash)" })
                    #expect(keys.count == succeeded.count, "a call of \(item) was recorded twice")
                }
            }
        }

        /// `batch status` while a worker runs: the items waiting and in flight, and the worker with its
        /// items and a recent heartbeat.
        @Test(.timeLimit(.minutes(2))) func statusShowsProgressAndTheLiveWorker() async throws {
            try await Self.withSetup(questions: 4, delay: .milliseconds(300)) { setup in
                let id = try await setup.detach([
                    "batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o",
                ])
                let queued = try await setup.status(id)
                #expect(queued["pending"] as? Int == 4 && queued["done"] as? Int == 0)
                #expect(queued["status"] as? String == "running")
                #expect((queued["workers"] as? [Any])?.isEmpty == true)

                let worker = try setup.start([
                    "worker", "--store", setup.database.url, "--concurrency", "1", "--exit-when-done",
                    "--output-format", "json",
                ])
                while setup.server.requests.isEmpty && worker.process.isRunning {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let busy = try await setup.status(id)
                #expect(busy["running"] as? Int == 1)
                #expect((busy["pending"] as? Int ?? 0) + (busy["done"] as? Int ?? 0) == 3)
                let live = try #require((busy["workers"] as? [[String: Any]])?.first)
                #expect(live["pid"] as? Int == Int(worker.process.processIdentifier))
                #expect(live["in_flight"] as? Int == 1)
                #expect(live["alive"] as? Bool == true)
                #expect((live["heartbeat_age_seconds"] as? Double ?? 99) < 30)

                #expect(try await setup.finish(worker).summary["recorded"] as? Int == 4)
                let done = try await setup.status(id)
                #expect(done["done"] as? Int == 4 && done["status"] as? String == "finished")
                #expect((done["workers"] as? [Any])?.isEmpty == true, "the worker that exited is still listed")
            }
        }

        /// SIGTERM stops a worker cleanly: it exits 0, records its runs in flight `cancelled` and hands
        /// their items back at once (no lease to wait for), and leaves the workers list; another worker
        /// then finishes the batch, resuming those runs.
        @Test(.timeLimit(.minutes(2))) func sigtermHandsTheItemsBackForAnotherWorker() async throws {
            try await Self.withSetup(questions: 6, delay: .milliseconds(300)) { setup in
                let id = try await setup.detach([
                    "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels,
                ])
                let worker = ["worker", "--store", setup.database.url, "--concurrency", "2", "--output-format", "json"]
                let first = try setup.start(worker)
                while setup.server.requests.count < 2 && first.process.isRunning {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let stopped = ContinuousClock.now
                kill(first.process.processIdentifier, SIGTERM)
                _ = try await setup.finish(first)
                // Not a lease's worth of waiting (30 s by default): the items are handed back at once.
                #expect(ContinuousClock.now - stopped < .seconds(10))

                let status = try await setup.status(id)
                #expect(status["running"] as? Int == 0)
                #expect((status["workers"] as? [Any])?.isEmpty == true)
                let done = try #require(status["done"] as? Int)
                #expect(done < setup.questions.count)
                #expect(status["pending"] as? Int == setup.questions.count - done)

                let second = try setup.start(worker + ["--batch", id, "--exit-when-done"])
                #expect(try await setup.finish(second).summary["recorded"] as? Int == setup.questions.count - done)
                let finished = try await setup.status(id)
                #expect(finished["status"] as? String == "finished")
                #expect(finished["done"] as? Int == setup.questions.count)
            }
        }

        /// A batch run by one process has its items in flight without a lease: `worker --batch` refuses it
        /// (exit 4) rather than run its items a second time.
        @Test(.timeLimit(.minutes(2))) func aWorkerRefusesABatchNotDetached() async throws {
            try await Self.withSetup(questions: 2, delay: .zero) { setup in
                let batch = try await setup.run([
                    "batch", "consensus", "--input", "in.jsonl", "--models", "openai/gpt-4o", "--store",
                    setup.database.url, "--output", "out.jsonl",
                ])
                #expect(batch.exitCode == 0, "\(batch.stderr)")
                let id = try #require(
                    try await BatchCLITests.list(
                        setup.binary, store: setup.database.url, environment: setup.environment,
                        directory: setup.sandbox.root
                    ).first?["id"] as? String)
                let calls = setup.server.requests.count
                let worker = try await setup.run([
                    "worker", "--store", setup.database.url, "--batch", id, "--exit-when-done",
                ])
                #expect(worker.exitCode == 4)
                #expect(worker.stderr.contains("not enqueued with --detach"), "\(worker.stderr)")
                #expect(setup.server.requests.count == calls)
                #expect(try await setup.status(id)["detached"] as? Bool == false)
            }
        }

        /// `bench --detach`: two workers grade every (item, system) job, and `bench resume` prints the
        /// table of an uninterrupted bench from the ledger without running anything again.
        @Test(.timeLimit(.minutes(2))) func aDetachedBenchIsGradedByWorkers() async throws {
            try await Self.withSetup(questions: 4, delay: .milliseconds(20)) { setup in
                // The reference of the last item is wrong on purpose: 3 of 4 correct for each system.
                let rows = setup.questions.enumerated().map { index, question in
                    #"{"id":"d\#(index + 1)","question":"\#(question)","answer":"\#(index == 3 ? 0 : 2 * (index + 1))"}"#
                }
                try setup.sandbox.write("data.jsonl", Data((rows.joined(separator: "\n") + "\n").utf8))
                let detached = try await setup.run([
                    "bench", "single:openai/gpt-4o", "consensus", "--models", "openai/gpt-4o,openai/gpt-4o-mini",
                    "--dataset", "data.jsonl", "--store", setup.database.url, "--detach", "--output-format", "json",
                ])
                #expect(detached.exitCode == 0, "\(detached.stderr)")
                let enqueued = try CLIHarness.json(detached.stdout)
                #expect(enqueued["kind"] as? String == "bench" && enqueued["total"] as? Int == 8)
                let id = try #require(enqueued["batch_id"] as? String)
                let workers = try (0..<2).map { _ in
                    try setup.start([
                        "worker", "--store", setup.database.url, "--exit-when-done", "--output-format", "json",
                    ])
                }
                var recorded = 0
                for worker in workers { recorded += try await setup.finish(worker).summary["recorded"] as? Int ?? 0 }
                #expect(recorded == 8)
                let calls = setup.server.requests.count
                let table = try await setup.run([
                    "bench", "resume", id, "--store", setup.database.url, "--output-format", "json",
                ])
                #expect(table.exitCode == 0, "\(table.stderr)")
                #expect(setup.server.requests.count == calls, "bench resume ran a finished job again")
                let systems = try #require(try CLIHarness.json(table.stdout)["systems"] as? [[String: Any]])
                #expect(systems.count == 2)
                for system in systems {
                    #expect(system["correct"] as? Int == 3 && system["total"] as? Int == 4, "\(system)")
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
                #expect(text.stdout.contains("3/3 done") && text.stdout.contains("budget $5.00"), "\(text.stdout)")
            }
        }
    }
}
