// Running a batch plan (`refinery batch`, `refinery bench` and their `resume`): one provider
// registry for the whole batch, so every endpoint gate, rate limit and the batch budget are shared
// by all items; the jobs through ``BatchRunner``; each job's run recorded like any run and its row
// in the batch tables, written when it starts and when it ends.

import Foundation
import Logging
import RefineryCompiler
import RefineryRuntime
import RefineryStore

extension RunService {
    /// Runs the jobs of `plan` not done yet (`isResume`: the ledger says which are), recorded in `store`.
    /// `results` receives every done job: first those done in an earlier session (from the ledger), then each
    /// as it finishes. The batch is owned while it runs (``RunStore/withOwnership(of:_:)``): a second `resume`
    /// of it while it is live is refused (StoreError.live), and its items are read only once it is owned.
    func execute(
        _ plan: BatchPlan, store: any RunStore, isResume: Bool, progress: ((BatchProgress) -> Void)?,
        results: (BatchItemRecord) throws -> Void
    ) async throws -> BatchOutcome {
        try await store.withOwnership(of: .batch(plan.record.id, kind: plan.record.kind)) {
            var previous: [String: BatchItemRecord] = [:]
            if isResume {
                for item in try await store.items(batchID: plan.record.id) {
                    previous[item.system + "\u{1F}" + item.itemID] = item
                }
            }
            return try await execute(
                plan, previous: previous, isResume: isResume, store: store, progress: progress, results: results)
        }
    }

    private func execute(
        _ plan: BatchPlan, previous: [String: BatchItemRecord], isResume: Bool, store: any RunStore,
        progress: ((BatchProgress) -> Void)?, results: (BatchItemRecord) throws -> Void
    ) async throws -> BatchOutcome {
        try await withProviders(for: plan.workflows, debug: plan.debug, budget: plan.spec.maxBudgetUSD) {
            providers, embedder, logger in
            if isResume {
                try await store.setBatchStatus(id: plan.record.id, status: "running")
            } else {
                try await store.createBatch(plan.record)
            }
            let catalog = try catalog()
            let redactor = ledgerRedactor()
            var done = 0
            var costUSD = 0.0
            var pending: [BatchJob] = []
            for job in plan.jobs {
                if let earlier = previous[job.key], Self.isDone(earlier.status) {
                    done += 1
                    costUSD += earlier.costUSD
                    try results(earlier)
                } else {
                    pending.append(job)
                }
            }
            // `--max-budget` is the whole batch's: what the items finished in earlier sessions spent is gone
            // from it (a budget given to `resume` caps what this session spends).
            let budget = plan.spec.maxBudgetUSD.map {
                BatchBudget(cap: $0, spent: plan.budgetIsThisSessions ? 0 : costUSD)
            }
            let total = plan.jobs.count
            // The batch is recorded and its input good: say so before the first item finishes.
            progress?(
                BatchProgress(done: done, total: total, costUSD: costUSD, elapsedSeconds: 0, etaSeconds: nil))
            let started = ContinuousClock.now
            var finishedHere = 0
            var launched: Set<String> = []
            let stop = try await BatchRunner(concurrency: plan.spec.concurrency).run(pending) {
                job -> Result<@Sendable () async -> (BatchItemRecord, Double?), BatchStop> in
                let loaded = job.workflow
                var grant: Double?
                if let budget {
                    let estimate = job.estimate(catalog: catalog).costUSD.max
                    switch await budget.reserve(estimate, slots: plan.spec.concurrency) {
                    case .success(let amount): grant = amount
                    case .failure(let stop): return .failure(stop)
                    }
                }
                let earlier = previous[job.key]
                launched.insert(job.key)
                let seed = Self.itemSeed(plan.spec.seed, position: job.position)
                return .success { [self, grant] in
                    let record = await runJob(
                        job, loaded: loaded, batchID: plan.record.id, seed: seed, earlier: earlier, budgetUSD: grant,
                        store: store, catalog: catalog, providers: providers, embedder: embedder, logger: logger)
                    return (record, grant)
                }
            } finished: { (record, grant) in
                // The line is written from the record, not read back from the ledger (whose store redacts):
                // a failure's text may echo a credential, so it is hidden here too.
                var record = record
                record.error = record.error.map(redactor.redact)
                try await store.recordItem(record)
                if let budget {
                    await budget.settle(
                        reserved: grant ?? 0, spent: record.costUSD, exhausted: record.status == Self.cutByBatchBudget)
                }
                if Self.isDone(record.status) {
                    done += 1
                    costUSD += record.costUSD
                }
                finishedHere += 1
                try results(record)
                let elapsed = Self.seconds(started.duration(to: .now))
                progress?(
                    BatchProgress(
                        done: done, total: total, costUSD: costUSD, elapsedSeconds: elapsed,
                        etaSeconds: elapsed / Double(finishedHere) * Double(max(0, total - done))))
            }
            let status: String
            switch stop {
            case .cancelled: status = "cancelled"
            case .budget, .untilRunsFinish: status = "budget_exhausted"
            case nil: status = done == total ? "finished" : "failed"
            }
            try await store.setBatchStatus(id: plan.record.id, status: status)
            var stoppedBy: String?
            if case .budget(let line) = stop { stoppedBy = line }
            return BatchOutcome(
                batchID: plan.record.id, kind: plan.record.kind, status: status, done: done, total: total,
                unfinished: total - done, costUSD: costUSD, stoppedBy: stoppedBy, output: plan.spec.output,
                notStarted: pending.filter { !launched.contains($0.key) }.map {
                    $0.system.isEmpty ? $0.itemID : "\($0.itemID) (\($0.system))"
                })
        }
    }

    /// Runs one job to its record; never throws (a failure is the job's status, resumable).
    /// `claimed`: the job is a worker's claim, which wrote its row as `running` (else it is written here
    /// before its run starts) and decides who runs it (``RunHolding/claim``).
    func runJob(
        _ job: BatchJob, loaded: LoadedWorkflow, batchID: String, seed: UInt64, earlier: BatchItemRecord?,
        budgetUSD: Double?, store: any RunStore, catalog: ModelCatalog, providers: any ProviderResolver,
        embedder: (any Embedder)?, logger: Logger, claimed: Bool = false
    ) async -> BatchItemRecord {
        let holding: RunHolding = claimed ? .claim : .take
        let runID = earlier?.runID ?? EngineConfiguration.makeRunID()
        var record = BatchItemRecord(
            batchID: batchID, itemID: job.itemID, system: job.system, position: job.position, runID: runID,
            status: "running")
        do {
            if earlier != nil, let stored = try await store.run(exactID: runID) {
                if Self.resumableStatuses.contains(stored.status) || earlier?.status == Self.cutByBatchBudget {
                    // The run started before the interruption (or the batch budget): resume it, so its
                    // finished calls are served from the ledger and not paid twice.
                    var stored = stored
                    stored.workflow.limits.budgetUSD = Self.runBudget(
                        own: loaded.workflow.limits.budgetUSD, grant: budgetUSD)
                    let result = try await execute(
                        stored, graph: nil, store: store, isResume: true, holding: holding, providers: providers,
                        embedder: embedder, logger: logger, events: nil, catalog: catalog)
                    return Self.finished(
                        record, report: result.report, job: job, grant: budgetUSD, startedAt: stored.startedAt)
                }
                // It ended, but the process stopped before the job's row said so.
                if let json = stored.outcomeJSON,
                    let report = try? JSONDecoder().decode(RunReport.self, from: Data(json.utf8))
                {
                    return Self.finished(
                        record, report: report, job: job, grant: nil, startedAt: stored.startedAt,
                        finishedAt: stored.finishedAt ?? Date())
                }
            }
            if !claimed { try await store.recordItem(record) }
            var workflow = loaded.workflow
            workflow.variables = job.variables
            workflow.limits.budgetUSD = Self.runBudget(own: workflow.limits.budgetUSD, grant: budgetUSD)
            let stored = StoredRun(
                id: runID, workflowName: workflow.name, prompt: job.prompt, promptHash: Self.sha256(job.prompt),
                workflow: workflow, provenance: workflow.provenance, seed: seed, variables: workflow.variables,
                startedAt: Date())
            let result = try await execute(
                stored, graph: loaded.graph, store: store, isResume: false, holding: holding, providers: providers,
                embedder: embedder, logger: logger, events: nil, catalog: catalog)
            return Self.finished(
                record, report: result.report, job: job, grant: budgetUSD, startedAt: stored.startedAt)
        } catch {
            record.status = error is CancellationError || Task.isCancelled ? "cancelled" : "failed"
            record.error = String(describing: error)
            record.finishedAt = Date()
            return record
        }
    }

    /// A job's run budget: its workflow's own, lowered to the batch budget's grant.
    private static func runBudget(own: Double?, grant: Double?) -> Double? {
        guard let grant else { return own }
        return min(own ?? grant, grant)
    }

    /// The status of a job whose run the batch budget's grant stopped (not its workflow's own budget):
    /// not done, and `resume` (with budget left) continues its run.
    static let cutByBatchBudget = "batch_budget_exhausted"

    /// The job's record from its run's report, graded when the job has a reference. `startedAt`: when the run
    /// first started, in this process or in one that was interrupted (a killed worker, a stopped batch).
    private static func finished(
        _ record: BatchItemRecord, report: RunReport, job: BatchJob, grant: Double?, startedAt: Date,
        finishedAt: Date = Date()
    ) -> BatchItemRecord {
        var record = record
        record.status = report.status
        if report.status == "budget_exhausted", let grant,
            job.workflow.workflow.limits.budgetUSD.map({ grant < $0 }) ?? true
        {
            record.status = cutByBatchBudget
        }
        record.answer = report.winner?.answer
        record.origin = report.origin
        record.costUSD = report.costUSD
        record.calls = report.metadata.totalCalls
        record.inputTokens = report.tokens.input
        record.outputTokens = report.tokens.output
        // The item's wall time since its run first started: a run resumed here (taken over from a killed worker,
        // continued by `batch resume`) reported only this session's time, as if the time before was never spent.
        record.latencyMs = max(
            report.metadata.elapsedMs, Int((finishedAt.timeIntervalSince(startedAt) * 1000).rounded()))
        // A run that ended without its answer (failed, out of budget, too few members...) says why, as a
        // single run's stderr does: the report's `stopped_by` is that reason, already redacted by the engine.
        record.error = report.error ?? (Self.answeredStatuses.contains(report.status) ? nil : report.stoppedBy)
        if record.status == cutByBatchBudget, let grant {
            // The run's budget was the item's grant, not a figure the user gave: say which.
            record.error =
                "stopped at its share of the batch budget (~$\(DollarText.plain(grant)), its estimate and a share "
                + "of what was left)" + (record.error.map { ": " + $0 } ?? "")
        }
        record.finishedAt = finishedAt
        if let grading = job.grading {
            // Graded as `refinery bench` grades (the vote's winner when the workflow votes), once, here:
            // the summary is computed from these rows, so a resumed bench grades nothing again.
            let graded = BenchItemResult(
                grading: report, item: grading.item, system: job.system, grader: grading.grader)
            record.extractedAnswer = graded.answer
            record.correct = graded.correct
        }
        return record
    }

    /// The run statuses that end with the workflow's answer: their item line has no `error`.
    private static let answeredStatuses: Set<String> = ["converged", "single_model", "max_rounds"]

    /// Whether a job's status is final: anything but in flight or resumable.
    static func isDone(_ status: String) -> Bool {
        !unfinishedStatuses.contains(status)
    }

    /// The job statuses that do not count as done (`batch list`'s `done`).
    /// (`pending`: enqueued by `--detach`, not claimed yet.)
    static var unfinishedStatuses: Set<String> {
        resumableStatuses.union(["pending", "running", cutByBatchBudget])
    }

    /// Item `position`'s seed: a fixed mix of the batch's seed and the position (SplitMix64), so items
    /// differ and a resumed batch gives each item the seed it had.
    static func itemSeed(_ seed: UInt64, position: Int) -> UInt64 {
        var z = seed &+ (UInt64(position) &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
