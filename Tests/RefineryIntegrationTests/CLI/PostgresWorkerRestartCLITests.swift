import Foundation
import RefineryStore
import RefineryTestSupport
import Testing

extension CLIEndToEnd {
    /// Issue 13's must-show: the PostgreSQL server stopped for a few seconds and started again while two
    /// `refinery worker` processes work off one detached batch. On the fault server, one fault test at a time.
    @Suite(.enabled(if: FaultServer.enabled, Comment(rawValue: FaultServer.skipReason)), .timeLimit(.minutes(3)))
    struct PostgresWorkerRestartCLITests {
        /// Both workers wait for the server and reconnect (neither exits during the outage, both exit 0
        /// after it), every item is done exactly once with the answer of a one-process run, and no call
        /// is paid twice: the fake provider served exactly the calls the ledger recorded, which are the
        /// calls of an uninterrupted run, item by item.
        @Test func workersWaitOutAServerRestartAndFinishEveryItemOnce() async throws {
            let stop = try #require(FaultServer.stop, "CI=true requires REFINERY_TEST_POSTGRES_STOP")
            let start = try #require(FaultServer.start, "CI=true requires REFINERY_TEST_POSTGRES_START")
            try await FaultServer.exclusively {
                let answer = FakeOpenAI.completion(CLIHarness.universalReply())
                let (password, outputs) = try await PostgresLedger.withLedger(
                    onFaultServer: true, reply: { _ in .delayed(.milliseconds(150), answer) }
                ) { binary, sandbox, database, server, environment in
                    let questions = try PostgresLedger.writeQuestions(20, to: sandbox)
                    var outputs: [String] = []
                    let batch = [
                        "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels, "--seed",
                        "3",
                    ]
                    func hits(_ question: String, since start: Int) -> Int {
                        PostgresLedger.hits(server, question, since: start)
                    }

                    // The reference: one process, a SQLite ledger, no outage.
                    let reference = try await binary.run(
                        batch + ["--concurrency", "4", "--store", "reference.db", "--output", "reference.jsonl"],
                        environment: environment, directory: sandbox.root)
                    #expect(reference.exitCode == 0, "\(reference.stderr)")
                    let referenceCalls = server.requests.count
                    let referenceHits = questions.map { hits($0, since: 0) }

                    let enqueued = try await binary.run(
                        batch + ["--store", database.url, "--detach"], environment: environment,
                        directory: sandbox.root)
                    outputs += [enqueued.stdout, enqueued.stderr]
                    #expect(enqueued.exitCode == 0, "\(enqueued.stderr)")
                    let id = try #require(
                        enqueued.stdout.split(whereSeparator: \.isWhitespace).last.map(String.init),
                        "`batch --detach` printed no batch id")

                    let baseline = server.requests.count
                    let workers = try (0..<2).map { _ in
                        try binary.start(
                            [
                                "worker", "--store", database.url, "--batch", id, "--concurrency", "1",
                                "--exit-when-done",
                            ], environment: environment, directory: sandbox.root)
                    }
                    // Stop the server early (stopping takes a moment), keep it down for three seconds, start it.
                    let deadline = ContinuousClock.now + .seconds(60)
                    while server.requests.count - baseline < referenceCalls / 10 && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    #expect(try await ServerRestart.run(stop) == 0, "the stop command failed")
                    let atStop = server.requests.count - baseline
                    try await Task.sleep(for: .seconds(3))
                    let down = workers.map(\.process.isRunning)
                    #expect(try await ServerRestart.run(start) == 0, "the start command failed")
                    let atStart = server.requests.count - baseline

                    let finish = ContinuousClock.now + .seconds(90)
                    while workers.contains(where: \.process.isRunning) && ContinuousClock.now < finish {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    for worker in workers where worker.process.isRunning {
                        kill(worker.process.processIdentifier, SIGKILL)
                    }
                    let results = try workers.map { worker in
                        try worker.process.isRunning ? nil : worker.result()
                    }
                    for result in results {
                        outputs += [result?.stdout ?? "", result?.stderr ?? ""]
                        #expect(result?.exitCode == 0, "a worker failed or hung: \(result?.stderr ?? "(killed)")")
                    }

                    // The outage was mid-batch, the workers outlived it, and work went on after it.
                    #expect(atStop > 0 && atStop < referenceCalls, "the server was not stopped mid-batch")
                    #expect(down == [true, true], "a worker exited while the server was down")
                    #expect(server.requests.count - baseline > atStart, "no call was made after the restart")

                    // No call paid twice: exactly the reference's calls, item by item, and the ledger
                    // recorded each of them once.
                    #expect(server.requests.count - baseline == referenceCalls)
                    for (question, expected) in zip(questions, referenceHits) {
                        #expect(hits(question, since: baseline) == expected, "\(question)")
                    }
                    let runs = try await binary.listRuns(
                        store: database.url, environment: environment, directory: sandbox.root)
                    #expect(runs.count == questions.count)
                    #expect(runs.allSatisfy { $0["status"] as? String == "converged" })
                    #expect(runs.compactMap { $0["calls"] as? Int }.reduce(0, +) == referenceCalls)

                    // Every item done exactly once, with the reference's answer.
                    let location = try PostgresLocation(
                        url: database.url, environment: ["PGPASSWORD": database.password])
                    let store = try await PostgresRunStore.open(location)
                    let items = try await store.items(batchID: id)
                    await store.close()
                    #expect(items.count == questions.count)
                    #expect(Set(items.map(\.itemID)).count == questions.count)
                    #expect(Set(items.map(\.runID)).count == questions.count)
                    let text = try String(
                        contentsOf: sandbox.root.appendingPathComponent("reference.jsonl"), encoding: .utf8)
                    var expected: [String: String] = [:]
                    for line in text.split(separator: "\n") {
                        let result = try CLIHarness.json(String(line))
                        expected[result["item_id"] as? String ?? ""] = result["answer"] as? String
                    }
                    #expect(expected.count == questions.count)
                    for item in items {
                        #expect(item.status == "converged", "\(item.itemID): \(item.status)")
                        #expect(item.answer == expected[item.itemID], "\(item.itemID)")
                    }
                    let listed = try #require(
                        try await BatchCLITests.list(
                            binary, store: database.url, environment: environment, directory: sandbox.root
                        ).first)
                    #expect(listed["id"] as? String == id)
                    #expect(listed["status"] as? String == "finished")
                    #expect(listed["done"] as? Int == questions.count && listed["total"] as? Int == questions.count)
                    return (database.password, outputs)
                }
                for output in outputs { #expect(!output.contains(password), "the password was printed") }
            }
        }
    }
}
