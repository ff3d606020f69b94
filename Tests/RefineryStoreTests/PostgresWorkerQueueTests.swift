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

    /// A job whose run stopped at its grant, settled and asking again: its grant comes back, its cost is
    /// booked, and it gets everything left when that is more than it had; while it is not but another
    /// grant is in flight, "later"; with nothing in flight, refused. Repeating either statement (after a
    /// lost connection) changes nothing. The grants in flight never pass what is left.
    @Test func aCutJobTakesEverythingLeftOnlyWhenThatIsMore() async throws {
        let database = try await PostgresTestServer.Database()
        let store = try await database.open()
        let id = try await enqueue(store, items: 2, budget: 1.0)
        let claims = try await store.claimItems(batchID: id, worker: "a", limit: 2, leaseSeconds: 30)
        let (cut, other) = (try #require(claims.first), try #require(claims.last))
        #expect(try await store.grant(cut, worker: "a", estimateUSD: 0.3, held: 0, concurrency: 1) == .granted(1.0))
        // Its run stopped at the grant after spending 0.2: everything left is 0.8, with the 0.2 booked
        // a run budget of 1.0, no more than it had.
        try await store.settleCutGrant(cut, worker: "a", spentUSD: 0.2)
        try await store.settleCutGrant(cut, worker: "a", spentUSD: 0.2)
        var state = try await store.detachedState(batchID: id)
        #expect(abs(state.spentUSD - 0.2) < 1e-12 && abs(state.reservedUSD) < 1e-12)
        #expect(try await store.regrant(cut, worker: "a", hadUSD: 1.0) == .refused)
        // Had it been granted 0.5 (a share), it gets everything left: 0.8, a run budget of 1.0.
        #expect(try await store.regrant(cut, worker: "a", hadUSD: 0.5) == .granted(1.0))
        #expect(try await store.regrant(cut, worker: "a", hadUSD: 0.5) == .granted(1.0), "a repeat")
        state = try await store.detachedState(batchID: id)
        #expect(abs(state.reservedUSD - 0.8) < 1e-12 && abs(state.spentUSD - 0.2) < 1e-12)
        #expect(try await store.grant(other, worker: "a", estimateUSD: 0.1, held: 0, concurrency: 1) == .later)

        // The other job holds a grant and the cut one asks again: later, until that grant is settled.
        try await store.settleCutGrant(cut, worker: "a", spentUSD: 0.2)
        #expect(try await store.grant(other, worker: "a", estimateUSD: 0.1, held: 0, concurrency: 2) != .refused)
        #expect(try await store.regrant(cut, worker: "a", hadUSD: 1.0) == .later)
        // A claim that is not held (another attempt) is refused.
        var stale = cut
        stale.attempt += 1
        #expect(try await store.regrant(stale, worker: "a", hadUSD: 0.1) == .refused)
        await store.close()
        await database.drop()
    }
}
