// One `refinery worker`: the loop over the detached batches (or the one named), claiming from each
// until nothing is claimable, then waiting (LISTEN, or the next lease's end); what it recorded. The
// work of one batch session is RunService.workSession, on the batch runner.

import Foundation
import RefineryStore
import Synchronization

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
    let inFlight: RunsInFlight
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
        request: WorkerRequest, lease: Double, only: String?, inFlight: RunsInFlight,
        onItem: (@Sendable (BatchItemRecord) -> Void)?
    ) {
        self.service = service
        self.store = store
        self.listener = listener
        self.id = id
        self.request = request
        self.lease = lease
        self.only = only
        self.inFlight = inFlight
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
                            inFlight: inFlight, onItem: onItem)
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

/// The runs a worker has in flight, by job key, so that a run whose job another worker took over is
/// cancelled at this worker's next heartbeat instead of paying for the rest of its calls a second time.
/// That happens when a worker stalls past its lease without dying (a frozen VM, SIGSTOP, a machine
/// suspended) and then wakes up: its claim was taken, its result would be refused by the fence, and every
/// call it still made would be paid twice.
final class RunsInFlight: Sendable {
    private struct State {
        /// Counts the runs started, so that a heartbeat judges only the runs started before it was sent.
        var started = 0
        var runs: [String: (number: Int, cancel: @Sendable () -> Void)] = [:]
    }
    private let state = Mutex(State())

    /// Runs `body` as the run of job `key`, cancellable by ``cancel(notHeld:startedBefore:)``.
    func run<T: Sendable>(key: String, _ body: @escaping @Sendable () async -> T) async -> T {
        // A task of its own only so that a lost claim can cancel it; it is awaited here, and cancelling the
        // caller cancels it.
        let run = Task { await body() }
        state.withLock { state in
            state.runs[key] = (state.started, { run.cancel() })
            state.started += 1
        }
        defer { _ = state.withLock { $0.runs.removeValue(forKey: key) } }
        return await withTaskCancellationHandler {
            await run.value
        } onCancel: {
            run.cancel()
        }
    }

    /// How many runs were started so far: read before a heartbeat is sent.
    var started: Int { state.withLock { $0.started } }

    /// Cancels the runs started before the heartbeat (`startedBefore`, from ``started``) whose job the
    /// heartbeat did not find held by this worker (`held`, job keys). Returns how many it cancelled.
    func cancel(notHeld held: Set<String>, startedBefore: Int) -> Int {
        let lost = state.withLock { state in
            state.runs.filter { $0.value.number < startedBefore && !held.contains($0.key) }.map(\.value.cancel)
        }
        for cancel in lost { cancel() }
        return lost.count
    }
}
