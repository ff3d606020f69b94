// One `refinery worker`: the loop over the detached batches (or the one named), claiming from each
// until nothing is claimable, then waiting (LISTEN, or the next lease's end); what it recorded. The
// work of one batch session is RunService.workSession, on the batch runner.

import Foundation
import RefineryStore

/// One `refinery worker`: the loop over detached batches, and what it did.
actor Worker {
    let service: RunService
    let store: PostgresRunStore
    let listener: PostgresWorkListener
    let id: String
    let request: WorkerRequest
    let lease: Double
    let only: String?
    let onItem: (@Sendable (BatchItemRecord) -> Void)?
    private var recorded = 0
    private var lost = 0
    private var batches: [String] = []
    /// Batches this worker cannot run (their input or workflow differs here): not tried again.
    private var refused: Set<String> = []
    /// The plans of the batches worked on, built once (reading the input, compiling the workflows).
    private var plans: [String: (BatchPlan, [String: BatchJob])] = [:]
    private var concurrency: Int { max(1, request.concurrency) }

    init(
        service: RunService, store: PostgresRunStore, listener: PostgresWorkListener, id: String,
        request: WorkerRequest, lease: Double, only: String?, onItem: (@Sendable (BatchItemRecord) -> Void)?
    ) {
        self.service = service
        self.store = store
        self.listener = listener
        self.id = id
        self.request = request
        self.lease = lease
        self.only = only
        self.onItem = onItem
    }

    func run() async throws -> WorkerOutcome {
        try await listener.start()
        while !Task.isCancelled {
            var candidates = only.map { [$0] } ?? []
            if only == nil { candidates = try await store.runningDetachedBatches() }
            var worked = false
            var open = 0
            var wake: Double?
            for batchID in candidates where !refused.contains(batchID) {
                if Task.isCancelled { break }
                let claimed = try await store.claimItems(
                    batchID: batchID, worker: id, limit: concurrency, leaseSeconds: lease)
                if !claimed.isEmpty {
                    do {
                        let (plan, jobs) = try await plan(batchID)
                        let session = try await service.workSession(
                            plan, jobs: jobs, claimed: claimed, store: store, workerID: id, lease: lease,
                            onItem: onItem)
                        if !batches.contains(batchID) { batches.append(batchID) }
                        recorded += session.recorded
                        lost += session.lost
                        // A session that ran nothing (the budget said "later") waits like an idle worker.
                        worked = worked || session.recorded + session.lost > 0
                    } catch let error as InputError where only == nil {
                        // Another batch may still be runnable here: this one is left to other workers.
                        try await store.releaseClaims(worker: id)
                        refused.insert(batchID)
                        service.onWarning?("worker: skipping batch \(batchID): \(error.message)")
                        continue
                    }
                }
                let left = try await store.settleDetachedBatch(id: batchID, notDone: RunService.unfinishedStatuses)
                if left > 0 {
                    open += left
                    if let expiry = try await store.secondsToNextLeaseExpiry(batchID: batchID) {
                        wake = min(wake ?? expiry, expiry)
                    }
                } else {
                    // Workers waiting for this batch's last jobs can stop waiting.
                    try await store.notifyWork(batchID: batchID)
                }
            }
            if Task.isCancelled { break }
            if request.exitWhenDone, open == 0 { break }
            if worked { continue }
            // Nothing to claim now: wait for a batch (NOTIFY), or for a lease held elsewhere to expire.
            await listener.wait(seconds: min(lease, (wake ?? lease) + 0.05))
        }
        return WorkerOutcome(workerID: id, recorded: recorded, lost: lost, batches: batches)
    }

    private func plan(_ batchID: String) async throws -> (BatchPlan, [String: BatchJob]) {
        if let plan = plans[batchID] { return plan }
        let plan = try await service.workerPlan(
            batchID: batchID, concurrency: concurrency, debug: request.debug, store: store)
        plans[batchID] = plan
        return plan
    }

    /// Hands back what this worker holds and removes it from the workers (also when cancelled: the
    /// store's writes still go through).
    func leave() async {
        try? await store.releaseClaims(worker: id)
        try? await store.removeWorker(id: id)
        await listener.stop()
    }
}
