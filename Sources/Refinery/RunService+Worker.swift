// Many workers on one batch: `refinery batch|bench --detach` enqueues every job in the shared
// PostgreSQL ledger and returns; `refinery worker` on any number of machines claims jobs (a lease its
// heartbeat renews), runs them with the batch runner (the claims are its job source) and records each
// result fenced by its claim. A job whose worker died is claimed again when its lease expires and its
// run resumes from the ledger. `refinery batch status` reads how far a batch is, from any machine.

import Foundation
import Logging
import RefineryCompiler
import RefineryRuntime
public import RefineryStore
import RefinerySyntax

extension RunService {
    /// `refinery batch --detach`: checks the input and the workflow as `batch` does, then enqueues
    /// every item in the shared ledger (each with its run id chosen) and returns; `refinery worker`
    /// runs them.
    ///
    /// - Throws: ``InputError`` (exit 4) when the store is not a shared (PostgreSQL) one, and what
    ///   ``batch(_:progress:results:)`` throws before any call.
    public func detachBatch(_ request: BatchRequest) async throws -> DetachedBatch {
        try requireSharedStore()
        var generator = SystemRandomNumberGenerator()
        let spec = BatchSpec(
            target: request.target, inputPath: request.inputPath, field: request.field,
            overrides: BatchSpec.Overrides(request.overrides), seed: request.seed ?? generator.next(),
            concurrency: max(1, request.concurrency), maxBudgetUSD: request.maxBudgetUSD, output: nil,
            workflowSHA256: [:], gitCommits: [:])
        return try await enqueue(try await batchPlan(spec, id: EngineConfiguration.makeRunID(), debug: false))
    }

    /// `refinery bench --detach`: the bench's jobs enqueued for workers (see ``detachBatch(_:)``);
    /// `bench resume ID` prints its table once they are done.
    package func detachBench(_ request: BenchRequest) async throws -> DetachedBatch {
        try requireSharedStore()
        var request = request
        request.output = nil
        let plan = try await benchPlan(
            Self.benchSpec(request), id: EngineConfiguration.makeRunID(), debug: false)
        return try await enqueue(plan)
    }

    /// Refuses a SQLite store for `--detach` (`worker: false`) and `refinery worker`, before anything is read.
    private func requireSharedStore(worker: Bool = false) throws {
        try PostgresLocation.refuseOtherURLScheme(resolvedStorePath)
        guard PostgresLocation.isPostgresURL(resolvedStorePath) else {
            throw InputError(
                code: .invalidOption,
                message: (worker ? "refinery worker" : "--detach")
                    + " needs a shared store: workers in other processes and on other machines claim the items "
                    + "from it, and \(resolvedStorePath) is a SQLite file. Use --store postgres://USER@HOST:PORT/DB "
                    + "(or REFINERY_STORE)" + (worker ? "." : ", or run the batch here without --detach."))
        }
    }

    private func sharedStore(worker: Bool = false) async throws -> PostgresRunStore {
        try requireSharedStore(worker: worker)
        guard let store = try await openStore() as? PostgresRunStore else {
            throw InputError(code: .invalidOption, message: "workers need a PostgreSQL store (--store postgres://...).")
        }
        return store
    }

    private func enqueue(_ plan: BatchPlan) async throws -> DetachedBatch {
        let store = try await sharedStore()
        let items = plan.jobs.map { job in
            BatchItemRecord(
                batchID: plan.record.id, itemID: job.itemID, system: job.system, position: job.position,
                runID: EngineConfiguration.makeRunID(), status: "pending")
        }
        try await store.enqueueBatch(plan.record, items: items, budgetUSD: plan.spec.maxBudgetUSD)
        return DetachedBatch(
            batchID: plan.record.id, kind: plan.record.kind, total: plan.jobs.count, store: store.location)
    }

    // MARK: worker

    /// `refinery worker`: claims jobs of detached batches (``WorkerRequest/batchID`` only, or every one,
    /// oldest first), runs them at most ``WorkerRequest/concurrency`` at a time and records their results.
    /// Waits for more work (`LISTEN`, and a timer at the next lease's end) until cancelled, or, with
    /// ``WorkerRequest/exitWhenDone``, until nothing is left. Cancelled (SIGTERM, Ctrl-C): stops claiming,
    /// records the runs in flight `cancelled` and hands back every job it holds, for other workers.
    ///
    /// - Parameter onItem: called with each job whose result this worker recorded.
    public func work(
        _ request: WorkerRequest, onItem: (@Sendable (BatchItemRecord) -> Void)? = nil
    ) async throws -> WorkerOutcome {
        let store = try await sharedStore(worker: true)
        let lease = try leaseSeconds(request)
        let info = ProcessInfo.processInfo
        let workerID = "\(info.hostName):\(info.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
        var only: String?
        if let batchID = request.batchID {
            let record = try await store.batch(id: batchID)
            // A batch run by one process has its items in flight without a lease: a worker must not take them.
            guard try await store.detachedState(batchID: record.id).detached else {
                throw InputError(
                    code: .invalidOption,
                    message: "\(record.kind) \(record.id) was not enqueued with --detach: workers run only detached "
                        + "batches. Finish it with `refinery \(record.kind) resume \(record.id)`.")
            }
            only = record.id
        }
        try await store.registerWorker(
            id: workerID, host: info.hostName, pid: Int(info.processIdentifier), batchID: only,
            concurrency: max(1, request.concurrency), leaseSeconds: lease)
        let listener = PostgresWorkListener(store: store)
        let inFlight = RunsInFlight()
        let worker = Worker(
            service: self, store: store, listener: listener, id: workerID, request: request, lease: lease,
            only: only, inFlight: inFlight, onItem: onItem)
        do {
            let outcome = try await withThrowingTaskGroup(of: WorkerOutcome?.self) { group in
                group.addTask {
                    // The heartbeat renews this worker's leases; it is not the work, so it never ends the group.
                    // A job it no longer holds was taken over while this worker stalled past its lease: the
                    // run is cancelled (its result would be refused, its calls paid twice).
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(lease / 3))
                        if Task.isCancelled { break }
                        let started = inFlight.started
                        guard let held = try? await store.heartbeat(worker: workerID, leaseSeconds: lease) else {
                            continue
                        }
                        let cancelled = inFlight.cancel(notHeld: held, startedBefore: started)
                        if cancelled > 0 {
                            onWarning?(
                                "worker: \(Counted.text(cancelled, "item")) \(cancelled == 1 ? "was" : "were") taken over by another worker while this one "
                                    + "stalled past its \(String(format: "%g", lease)) s lease; their runs here are cancelled"
                            )
                        }
                    }
                    return nil
                }
                group.addTask { try await worker.run() }
                var outcome: WorkerOutcome?
                while let next = try await group.next() {
                    if let next {
                        outcome = next
                        group.cancelAll()
                    }
                }
                return outcome ?? WorkerOutcome(workerID: workerID, recorded: 0, lost: 0, batches: [])
            }
            await worker.leave()
            return outcome
        } catch {
            await worker.leave()
            throw error
        }
    }

    private func leaseSeconds(_ request: WorkerRequest) throws -> Double {
        if let lease = request.leaseSeconds { return lease }
        guard let text = environment["REFINERY_WORKER_LEASE_SECONDS"], !text.isEmpty else {
            return WorkerRequest.defaultLeaseSeconds
        }
        guard let lease = Double(text), lease >= 0.5, lease.isFinite else {
            throw InputError(
                code: .invalidOption,
                message: "REFINERY_WORKER_LEASE_SECONDS=\(text): give a number of seconds, at least 0.5 (default 30).")
        }
        return lease
    }

    /// The plan of a detached batch as a worker runs it (its jobs by key), refused when its input file
    /// or a workflow differs here from what was enqueued.
    /// Reads through the worker's own `store`: a worker holds one ledger connection for all its batches.
    func workerPlan(
        batchID: String, concurrency: Int, debug: Bool, store: PostgresRunStore
    ) async throws -> (BatchPlan, [String: BatchJob]) {
        let record = try await store.batch(id: batchID)
        var spec = try BatchSpec.decode(record.specJSON, batchID: record.id)
        spec.concurrency = max(1, concurrency)
        let plan = try await resumablePlan(record, spec: spec, debug: debug)
        var jobs: [String: BatchJob] = [:]
        for job in plan.jobs { jobs[job.key] = job }
        return (plan, jobs)
    }

    /// Runs `claimed` and the jobs of the batch this worker can claim after them, until none is left to
    /// claim and its runs in flight are recorded. Returns the recorded and lost counts.
    func workSession(
        _ plan: BatchPlan, jobs: [String: BatchJob], claimed: [ClaimedItem], store: PostgresRunStore,
        workerID: String, lease: Double, inFlight: RunsInFlight, onItem: (@Sendable (BatchItemRecord) -> Void)?
    ) async throws -> (recorded: Int, lost: Int) {
        let batchID = plan.record.id
        let concurrency = plan.spec.concurrency
        let budgeted = plan.spec.maxBudgetUSD != nil
        return try await withProviders(for: plan.workflows, debug: plan.debug, budget: plan.spec.maxBudgetUSD) {
            providers, embedder, logger in
            let catalog = try catalog()
            var buffer = claimed
            var claims: [String: ClaimedItem] = [:]
            var recorded = 0
            var lost = 0
            var finishedClaiming = false
            /// Grants held by this session's runs in flight, and whether the budget asked to wait for other workers'.
            var granted = 0
            var deferred = false
            let stop = try await BatchRunner(concurrency: concurrency).run(
                next: { () async throws -> BatchJob? in
                    if buffer.isEmpty, !finishedClaiming {
                        // A claim takes up to `concurrency` jobs in one statement; they wait here, leased.
                        buffer = try await store.claimItems(
                            batchID: batchID, worker: workerID, limit: concurrency, leaseSeconds: lease)
                        finishedClaiming = buffer.isEmpty
                    }
                    guard !buffer.isEmpty else { return nil }
                    let claim = buffer.removeFirst()
                    guard let job = jobs[claim.key] else {
                        throw InputError(
                            code: .invalidOption,
                            message: "Batch \(batchID) holds an item (\(claim.itemID)) its input does not: the input "
                                + "changed since it was enqueued.")
                    }
                    claims[claim.key] = claim
                    return job
                },
                start: { job -> Result<@Sendable () async -> BatchItemRecord, BatchStop> in
                    guard let claim = claims[job.key] else { return .failure(.cancelled) }
                    var grant: Double?
                    if budgeted {
                        let estimate = job.estimate(catalog: catalog).costUSD.max
                        switch try await store.grant(
                            claim, worker: workerID, estimateUSD: estimate, held: granted, concurrency: concurrency)
                        {
                        case .granted(let amount): grant = amount
                        case .later where granted > 0:
                            // The grants this session's runs hold come back as they finish: the runner asks
                            // again for this job then, as a one-process batch does (one way to wait for money).
                            return .failure(.untilRunsFinish("the batch budget's end game: one item at a time"))
                        case .later:
                            // Only other workers' grants are in flight: this session ends, and the next asks
                            // again once theirs are settled.
                            deferred = true
                            return .failure(.budget("the batch budget's end game: waiting for other workers"))
                        case .refused:
                            return .failure(
                                .budget(
                                    "budget: next item ~\(DollarText.text(estimate)) does not fit in what is left "
                                        + "of the batch budget (across all workers)"))
                        }
                        granted += 1
                    }
                    let earlier = BatchItemRecord(
                        batchID: batchID, itemID: job.itemID, system: job.system, position: job.position,
                        runID: claim.runID, status: "running")
                    let seed = Self.itemSeed(plan.spec.seed, position: job.position)
                    return .success { [self, grant] in
                        await inFlight.run(key: job.key) {
                            var record = await runJob(
                                job, loaded: job.workflow, batchID: batchID, seed: seed, earlier: earlier,
                                budgetUSD: grant, store: store, catalog: catalog, providers: providers,
                                embedder: embedder, logger: logger, claimed: true)
                            // A grant is sized by the item's estimate and a share of what is left, which depends
                            // on how many workers are there and what they hold at that moment: a run can stop at
                            // it while the batch has money left. It resumes (its calls are not paid again) with
                            // everything left, and only a run that cannot go on with that stops the batch.
                            var had = grant
                            while record.status == Self.cutByBatchBudget, let budget = had,
                                let more = await largerGrant(
                                    claim, worker: workerID, had: budget, spent: record.costUSD, store: store)
                            {
                                had = more
                                record = await runJob(
                                    job, loaded: job.workflow, batchID: batchID, seed: seed, earlier: record,
                                    budgetUSD: more, store: store, catalog: catalog, providers: providers,
                                    embedder: embedder, logger: logger, claimed: true)
                            }
                            // Stopped waiting for money by a cancellation: handed back like any cancelled run.
                            if record.status == Self.cutByBatchBudget, Task.isCancelled { record.status = "cancelled" }
                            return record
                        }
                    }
                },
                finished: { record in
                    let key = record.system + "\u{1F}" + record.itemID
                    guard let claim = claims.removeValue(forKey: key) else { return }
                    if budgeted { granted -= 1 }
                    guard try await store.completeItem(record, worker: workerID, attempt: claim.attempt) else {
                        // Another worker holds the job now: its result, and the budget's verdict, are theirs.
                        lost += 1
                        return
                    }
                    recorded += 1
                    onItem?(record)
                    if record.status == Self.cutByBatchBudget {
                        // Even everything left of the budget did not let this run go on.
                        try await store.stopBatch(id: batchID, status: "budget_exhausted")
                    }
                })
            if case .budget = stop, !deferred { try await store.stopBatch(id: batchID, status: "budget_exhausted") }
            // Jobs claimed but not started (the budget stopped the launching, or a cancellation did).
            try await store.releaseClaims(worker: workerID)
            return (recorded, lost)
        }
    }
}

extension RunService {
    /// The run budget a job whose run stopped at its grant (`had`, after costing `spent`) resumes with:
    /// everything left of the batch budget, waiting while other grants in flight may give money back;
    /// `nil` when it cannot get more than it had (the batch budget is spent), or on an error or a cancel.
    fileprivate func largerGrant(
        _ claim: ClaimedItem, worker: String, had: Double, spent: Double, store: PostgresRunStore
    ) async -> Double? {
        do {
            try await store.settleCutGrant(claim, worker: worker, spentUSD: spent)
            while true {
                switch try await store.regrant(claim, worker: worker, hadUSD: had) {
                case .granted(let budget): return budget
                case .refused: return nil
                case .later: try await Task.sleep(for: .milliseconds(50))
                }
            }
        } catch is CancellationError {
            return nil
        } catch {
            onWarning?("worker: item \(claim.itemID) stopped at its share of the batch budget: \(error)")
            return nil
        }
    }
}

extension RunService {
    /// `refinery batch status ID`: a batch's progress from the ledger, on any machine: jobs by state,
    /// cost, the budget as the shared ledger holds it, and its workers (PostgreSQL; none for SQLite).
    public func batchStatus(id: String) async throws -> BatchStatusReport {
        let store = try await openStore(.existing)
        defer { closeOpened(store) }
        let record = try await store.batch(id: id)
        let status = await Self.liveStatus(record.status, of: .batch(record.id, kind: record.kind), in: store)
        var report = BatchStatusReport(
            batchID: record.id, kind: record.kind, status: status, detached: false, done: 0,
            total: record.total, failed: 0, running: 0, pending: 0, costUSD: 0,
            budgetUSD: (try? BatchSpec.decode(record.specJSON, batchID: record.id))?.maxBudgetUSD, spentUSD: nil,
            reservedUSD: nil, workers: [])
        var seen = 0
        for item in try await Self.spending(ofBatch: record.id, in: store) {
            seen += 1
            report.costUSD += item.costUSD
            switch item.status {
            case _ where Self.isDone(item.status): report.done += 1
            // Nothing runs the items of an interrupted batch: they wait for `batch resume`.
            case "running" where status != Self.interruptedStatus: report.running += 1
            case "pending", "cancelled", "running": report.pending += 1
            default: report.failed += 1
            }
        }
        // Jobs a batch in one process had not reached yet have no row.
        report.pending += max(0, record.total - seen)
        if let shared = store as? PostgresRunStore {
            let state = try await shared.detachedState(batchID: record.id)
            report.detached = state.detached
            if state.detached {
                report.budgetUSD = state.budgetUSD
                report.spentUSD = state.spentUSD
                report.reservedUSD = state.reservedUSD
            }
            report.workers = state.workers
        }
        return report
    }
}
