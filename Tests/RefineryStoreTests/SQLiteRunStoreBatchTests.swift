import Foundation
import RefineryStore
import Testing

/// The ``BatchLedger`` of the SQLite store: batch rows, job rows written twice (start, end), newest-first
/// listing with done counts, id prefixes, and error texts redacted.
@Suite struct SQLiteRunStoreBatchTests {
    private func batch(_ id: String, at seconds: TimeInterval, kind: String = "batch") -> BatchRecord {
        BatchRecord(
            id: id, kind: kind, createdAt: Date(timeIntervalSince1970: seconds), workflow: "w", specJSON: "{}",
            inputPath: "in.jsonl", inputSHA256: "abc", total: 3)
    }

    @Test func jobsAreReplacedAndListedWithTheirDoneCount() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createBatch(batch("older-1", at: 1))
        try await store.createBatch(batch("newer-2", at: 2, kind: "bench"))
        try await store.recordItem(
            BatchItemRecord(batchID: "older-1", itemID: "b", position: 1, runID: "r2", status: "running"))
        try await store.recordItem(
            BatchItemRecord(batchID: "older-1", itemID: "a", position: 0, runID: "r1", status: "running"))
        // The end of a job replaces its start.
        try await store.recordItem(
            BatchItemRecord(
                batchID: "older-1", itemID: "a", position: 0, runID: "r1", status: "converged", answer: "4",
                correct: true, costUSD: 0.5, calls: 3))
        try await store.recordItem(
            BatchItemRecord(
                batchID: "older-1", itemID: "c", position: 2, runID: "r3", status: "failed", costUSD: 0.25,
                error: "401 for key sk-live-abcdefghijklmnopqrstuv"))
        let items = try await store.items(batchID: "older-1")
        #expect(items.map(\.itemID) == ["a", "b", "c"])
        #expect(items[0].status == "converged" && items[0].correct == true && items[0].answer == "4")
        #expect(items[2].error?.contains("sk-live-abcdefghijklmnopqrstuv") == false)
        let list = try await store.listBatches(limit: 10, resumable: ["running", "failed"])
        #expect(list.map(\.id) == ["newer-2", "older-1"])
        #expect(list.map(\.kind) == ["bench", "batch"])
        #expect(list[1].done == 1 && list[1].total == 3)
        // The failed job's cost is what its run's calls cost (none recorded here), not the row's.
        #expect(abs(list[1].costUSD - 0.5) < 1e-12)
        try await store.setBatchStatus(id: "older-1", status: "finished")
        #expect(try await store.batch(id: "old").status == "finished")
        await #expect(throws: StoreError.self) { try await store.batch(id: "missing") }
    }
}
