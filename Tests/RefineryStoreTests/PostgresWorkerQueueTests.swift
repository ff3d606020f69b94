import Foundation
import RefineryStore
import Testing

/// The worker queue's statements (migration `v3-workers`) on their own: claims, the fence on results
/// and the budget columns they settle.
@Suite(.enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason), .timeLimit(.minutes(1)))
struct PostgresWorkerQueueTests {
    private func enqueue(_ store: PostgresRunStore, items: Int, budget: Double?) async throws -> String {
        let id = "batch-\(UUID().uuidString.prefix(8))"
        let record = BatchRecord(
            id: id, kind: "batch", createdAt: Fixture.date, workflow: "consensus", specJSON: "{}",
            inputPath: "in.jsonl",
            inputSHA256: "ff", total: items)
        try await store.enqueueBatch(
            record,
            items: (0..<items).map {
                BatchItemRecord(batchID: id, itemID: "q\($0)", position: $0, runID: "run-\($0)", status: "pending")
            }, budgetUSD: budget)
        return id
    }

    /// Two workers claiming at once get different jobs (SKIP LOCKED), in input order, and a result is
    /// recorded only under the claim it was claimed with: a repeat of the same write (after a lost
    /// connection) is recognised and books nothing more; a stale claim's result is refused.
    @Test func claimsAreDisjointAndResultsAreFencedAndRepeatable() async throws {
        let database = try await PostgresTestServer.Database()
        let store = try await database.open()
        let other = try await database.open()
        let id = try await enqueue(store, items: 5, budget: 1.0)
        async let first = store.claimItems(batchID: id, worker: "a", limit: 3, leaseSeconds: 30)
        async let second = other.claimItems(batchID: id, worker: "b", limit: 3, leaseSeconds: 30)
        let (a, b) = try await (first, second)
        #expect(a.count + b.count == 5)
        #expect(Set(a.map(\.itemID)).isDisjoint(with: b.map(\.itemID)))

        let claim = try #require(a.first)
        #expect(try await store.grant(claim, worker: "a", estimateUSD: 0.1, held: 0, concurrency: 3) != .refused)
        var record = BatchItemRecord(
            batchID: id, itemID: claim.itemID, position: claim.position, runID: claim.runID, status: "converged",
            answer: "4", costUSD: 0.25, finishedAt: Fixture.date)
        #expect(try await store.completeItem(record, worker: "a", attempt: claim.attempt))
        #expect(try await store.completeItem(record, worker: "a", attempt: claim.attempt), "a repeat is refused")
        let state = try await store.detachedState(batchID: id)
        #expect(abs(state.spentUSD - 0.25) < 1e-12, "the repeat booked the cost twice")
        #expect(abs(state.reservedUSD) < 1e-12)

        // Another worker's claim on a job: "a" cannot record it, with any attempt.
        let taken = try #require(b.first)
        record.itemID = taken.itemID
        #expect(try await store.completeItem(record, worker: "a", attempt: taken.attempt) == false)
        #expect(try await store.items(batchID: id).first { $0.itemID == taken.itemID }?.status == "running")
        await store.close()
        await other.close()
        await database.drop()
    }
}
