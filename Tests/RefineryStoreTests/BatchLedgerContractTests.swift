// The batch part of the ledger contract (`refinery batch`, `bench`, their `resume` and `batch list`),
// run against both stores like RunStoreContractTests.

import Foundation
import RefineryRuntime
import RefineryStore
import Testing

extension Fixture {
    static func batch(id: String, createdAt: Date = date, kind: String = "batch", total: Int = 3) -> BatchRecord {
        BatchRecord(
            id: id, kind: kind, createdAt: createdAt, workflow: "consensus", specJSON: #"{"seed":3,"concurrency":2}"#,
            inputPath: "questions.jsonl", inputSHA256: "9f86d081", total: total)
    }

    static func item(
        batch: String = "batch-1", id: String, system: String = "", position: Int, status: String = "converged",
        costUSD: Double = 0.25, error: String? = nil
    ) -> BatchItemRecord {
        BatchItemRecord(
            batchID: batch, itemID: id, system: system, position: position, runID: "run-\(id)-\(system)",
            status: status, answer: "4", extractedAnswer: "4", correct: position % 2 == 0, costUSD: costUSD, calls: 3,
            inputTokens: 120, outputTokens: 30, latencyMs: 900, error: error,
            finishedAt: status == "running" ? nil : date.addingTimeInterval(Double(position)),
            // What produced the answer round-trips too (a fallback, degraded coverage).
            origin: status == "running"
                ? nil
                : AnswerOrigin(
                    modelID: "openai/gpt-4o-mini", memberID: "m#1", fallbackFrom: "openai/gpt-4o", degraded: true,
                    degradedReasons: ["one call failed"]))
    }
}

/// One batch contract, run against both stores: what `batch`, `bench`, `batch resume` and `batch list`
/// rely on holds whichever database keeps the ledger.
@Suite(.timeLimit(.minutes(2))) struct BatchLedgerContractTests {
    @Test(arguments: StoreKind.available)
    func aBatchRoundTripsIsFoundByPrefixAndItsStatusChanges(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createBatch(Fixture.batch(id: "7b1e-old"))
            try await store.createBatch(Fixture.batch(id: "7b2f-new", kind: "bench"))
            try await store.createBatch(Fixture.batch(id: "x_y%\\"))
            #expect(try await store.batch(id: "7b1e-old") == Fixture.batch(id: "7b1e-old"))
            #expect(try await store.batch(id: "7b2").kind == "bench")
            // LIKE's wildcards in an id are matched literally.
            #expect(try await store.batch(id: "x_y%").id == "x_y%\\")
            try await store.setBatchStatus(id: "7b1e-old", status: "cancelled")
            // Another process (a second connection) reads what was committed.
            let other = try await opened.reopen(Redactor())
            #expect(try await other.batch(id: "7b1e").status == "cancelled")
            for (id, code) in [
                ("7b", StoreError.Code.ambiguousID), ("zzz", .notFound), ("", .notFound), ("x%", .notFound),
            ] {
                do {
                    _ = try await store.batch(id: id)
                    Issue.record("expected \(code) for \(id)")
                } catch let error as StoreError {
                    #expect(error.code == code)
                    #expect(code != .notFound || "\(error)".contains("refinery batch list"))
                }
            }
        }
    }

    /// A job's row is written when it starts and replaced when it ends: one row per (batch, system,
    /// item), listed in input order then by system, every field read back as written.
    @Test(arguments: StoreKind.available)
    func anItemIsReplacedNotDuplicatedAndItemsListInInputOrder(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createBatch(Fixture.batch(id: "batch-1", kind: "bench", total: 4))
            try await store.recordItem(Fixture.item(id: "q2", system: "vote", position: 1))
            try await store.recordItem(Fixture.item(id: "q1", system: "vote", position: 0, status: "running"))
            try await store.recordItem(Fixture.item(id: "q1", system: "single", position: 0))
            var ungraded = Fixture.item(id: "q2", system: "single", position: 1, status: "failed", error: "HTTP 500")
            ungraded.correct = nil
            ungraded.answer = nil
            ungraded.extractedAnswer = nil
            try await store.recordItem(ungraded)
            // The running row of q1 × vote is replaced by its outcome.
            try await store.recordItem(Fixture.item(id: "q1", system: "vote", position: 0))
            let items = try await opened.reopen(Redactor()).items(batchID: "batch-1")
            #expect(
                items.map { "\($0.position):\($0.system):\($0.itemID)" } == [
                    "0:single:q1", "0:vote:q1", "1:single:q2", "1:vote:q2",
                ])
            #expect(items[1] == Fixture.item(id: "q1", system: "vote", position: 0))
            #expect(items[2] == ungraded)
            #expect(items[3].correct == false && items[1].correct == true)
            #expect(try await store.items(batchID: "other").isEmpty)
        }
    }

    /// `batch list`: newest first (batches created in the same instant: the later one first), with the
    /// jobs done (a resumable status is not done) and the dollars of all its jobs: a done job's cost, and for
    /// one without its result (in flight, its process killed) what its run's finished calls cost.
    @Test(arguments: StoreKind.available)
    func batchesListNewestFirstWithJobsDoneAndCost(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createBatch(Fixture.batch(id: "a-old", createdAt: Fixture.date))
            try await store.createBatch(Fixture.batch(id: "b-new", createdAt: Fixture.date.addingTimeInterval(60)))
            try await store.createBatch(Fixture.batch(id: "c-same", createdAt: Fixture.date))
            for (id, status) in [("1", "converged"), ("2", "running"), ("3", "batch_budget_exhausted")] {
                try await store.recordItem(Fixture.item(batch: "a-old", id: id, position: Int(id) ?? 0, status: status))
            }
            try await store.recordItem(Fixture.item(batch: "b-new", id: "1", position: 0, status: "max_rounds"))
            // Job 2's run has paid one call and served another from the ledger (paid in an earlier session).
            try await store.record(Fixture.call(run: "run-2-", node: "a"))
            try await store.record(Fixture.call(run: "run-2-", node: "b", status: .replayed))
            let resumable: Set<String> = ["running", "failed", "cancelled", "batch_budget_exhausted"]
            let listed = try await store.listBatches(limit: 10, resumable: resumable)
            #expect(listed.map(\.id) == ["b-new", "c-same", "a-old"])
            #expect(listed.map(\.done) == [1, 0, 1])
            #expect(listed.map(\.costUSD) == [0.25, 0, 0.25 + Fixture.call().costUSD])
            #expect(
                listed.last
                    == BatchSummary(
                        id: "a-old", kind: "batch", status: "running", createdAt: Fixture.date, workflow: "consensus",
                        input: "questions.jsonl", done: 1, total: 3, costUSD: 0.25 + Fixture.call().costUSD))
            #expect(try await store.listBatches(limit: 1, resumable: resumable).map(\.id) == ["b-new"])
            // With no resumable status every recorded job counts as done.
            #expect(try await store.listBatches(limit: 10, resumable: []).last?.done == 3)
        }
    }

    /// `batch status` and `refinery report BATCH_ID` read a batch's jobs with what each spent: a done job its
    /// recorded cost and tokens, an unfinished one (in flight, its process killed) its run's finished calls
    /// (replays excluded), in one query; a job with no call yet spent nothing.
    @Test(arguments: StoreKind.available)
    func itemsWithSpendingCountAnUnfinishedJobsCalls(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createBatch(Fixture.batch(id: "batch-1", total: 4))
            for (id, status) in [("1", "converged"), ("2", "running"), ("3", "cancelled"), ("4", "running")] {
                try await store.recordItem(Fixture.item(id: id, position: Int(id) ?? 0, status: status))
            }
            // Job 2's run paid two calls and served one from the ledger; job 3's paid one; job 4's none yet.
            try await store.record(Fixture.call(run: "run-2-", node: "a"))
            try await store.record(Fixture.call(run: "run-2-", node: "b", status: .failed))
            try await store.record(Fixture.call(run: "run-2-", node: "c", status: .replayed))
            try await store.record(Fixture.call(run: "run-3-", node: "a"))
            // The done job's run has calls too: its recorded result counts, not them.
            try await store.record(Fixture.call(run: "run-1-", node: "a"))
            let call = Fixture.call()
            let items = try await store.items(batchID: "batch-1", spendingOf: ["running", "cancelled"])
            #expect(items.map(\.itemID) == ["1", "2", "3", "4"])
            #expect(items.map(\.costUSD) == [0.25, 2 * call.costUSD, call.costUSD, 0])
            #expect(items.map(\.inputTokens) == [120, 12, 12, 0])
            #expect(items.map(\.outputTokens) == [30, 3, 3, 0])
            // Everything else as recorded.
            #expect(items[1].calls == 3 && items[1].status == "running" && items[1].runID == "run-2-")
            // With no unfinished status every job reads as its row holds it.
            #expect(try await store.items(batchID: "batch-1", spendingOf: []).map(\.costUSD) == [0.25, 0.25, 0.25, 0.25])
            #expect(try await store.items(batchID: "batch-1") == store.items(batchID: "batch-1", spendingOf: []))
        }
    }

    @Test(arguments: StoreKind.available)
    func anItemsErrorIsRedactedOfKeysBeforeStoring(kind: StoreKind) async throws {
        let key = "proj-9f8e7d6c5b4a3210ZZ"
        try await withStore(kind, redactor: Redactor(secrets: [key])) { opened in
            try await opened.store.createBatch(Fixture.batch(id: "batch-1"))
            try await opened.store.recordItem(
                Fixture.item(id: "q1", position: 0, status: "failed", error: "openai: denied for \(key)"))
            let stored = try #require(try await opened.store.items(batchID: "batch-1").first?.error)
            #expect(stored == "openai: denied for [REDACTED]")
        }
    }
}
