// `refinery bench` on the batch machinery: a bench is a batch of kind `bench` whose jobs are
// (dataset item × system), item by item, each graded as it finishes and recorded with the dataset's
// SHA-256 and each workflow's content hash and git commit. The table is computed from the ledger's
// rows, so `bench resume` prints what the uninterrupted bench would have.

import Foundation
package import RefineryCompiler
import RefineryRuntime
import RefineryStore

/// What `refinery bench` asks for.
package struct BenchRequest: Sendable {
    /// The `SYSTEM` arguments: workflows (name, path, `NAME@REV`) and baselines.
    package var systems: [String]
    /// The dataset (JSONL or CSV).
    package var datasetPath: String
    /// `--grader` (default `numeric`).
    package var grader: String
    /// `--limit N`: the first N items, or with `seed` a sample of N.
    package var limit: Int?
    /// `--seed`: the sample of `--limit` and the runs' seeds.
    package var seed: UInt64?
    /// `--prompt-field`, `--reference-field`.
    package var promptField: String?
    package var referenceField: String?
    /// `--models` (applied to every workflow and `vote`), `--budget` per run, `--var` ...
    package var overrides: WorkflowOverrides
    package var concurrency: Int
    package var maxBudgetUSD: Double?
    /// Where the per-item JSONL goes (recorded for `bench resume`).
    package var output: String?
    package var debug: Bool

    package init(
        systems: [String], datasetPath: String, grader: String = "numeric", limit: Int? = nil, seed: UInt64? = nil,
        promptField: String? = nil, referenceField: String? = nil, overrides: WorkflowOverrides = WorkflowOverrides(),
        concurrency: Int = BatchRequest.defaultConcurrency, maxBudgetUSD: Double? = nil, output: String? = nil,
        debug: Bool = false
    ) {
        self.systems = systems
        self.datasetPath = datasetPath
        self.grader = grader
        self.limit = limit
        self.seed = seed
        self.promptField = promptField
        self.referenceField = referenceField
        self.overrides = overrides
        self.concurrency = concurrency
        self.maxBudgetUSD = maxBudgetUSD
        self.output = output
        self.debug = debug
    }
}

extension RunService {
    /// `refinery bench`: runs every system on every (selected) item, then summarises from the ledger.
    /// `results` receives each graded job as it finishes (earlier sessions' first, on resume).
    package func bench(
        _ request: BenchRequest, progress: ((BatchProgress) -> Void)? = nil,
        results: (BenchItemResult) throws -> Void
    ) async throws -> (outcome: BatchOutcome, summary: BenchSummary) {
        let plan = try await benchPlan(
            Self.benchSpec(request), id: EngineConfiguration.makeRunID(), debug: request.debug)
        // The table is read on the store the bench ran on: after Ctrl-C a new PostgreSQL connection cannot open.
        return try await withStore(.recording) { store in
            let outcome = try await execute(plan, store: store, isResume: false, progress: progress) {
                record in try results(Self.benchResult(record))
            }
            return (outcome, try await benchSummary(plan, store: store))
        }
    }

    /// `refinery bench resume ID`: finishes the bench (see ``resumeBatch(id:concurrency:maxBudgetUSD:debug:progress:results:)``)
    /// and summarises it from the ledger, as the uninterrupted bench would have.
    package func resumeBench(
        id: String, concurrency: Int? = nil, maxBudgetUSD: Double? = nil, debug: Bool = false,
        progress: ((BatchProgress) -> Void)? = nil, results: (BenchItemResult) throws -> Void
    ) async throws -> (outcome: BatchOutcome, summary: BenchSummary) {
        try await resumeRecorded(
            id: id, kind: "bench", concurrency: concurrency, maxBudgetUSD: maxBudgetUSD, debug: debug,
            progress: progress, results: { record in try results(Self.benchResult(record)) }
        ) { outcome, plan, store in (outcome, try await benchSummary(plan, store: store)) }
    }

    /// `refinery bench --dry-run`: calls, tokens and dollars of every system on every item.
    package func estimateBench(_ request: BenchRequest) async throws -> BatchEstimate {
        var spec = Self.benchSpec(request)
        spec.seed = 0
        let plan = try await benchPlan(spec, id: "dry-run", debug: false, gitProvenance: false)
        return try estimate(plan.jobs)
    }

    static func benchSpec(_ request: BenchRequest) -> BatchSpec {
        var generator = SystemRandomNumberGenerator()
        return BatchSpec(
            target: "", inputPath: request.datasetPath, field: request.promptField,
            referenceField: request.referenceField, systems: request.systems, grader: request.grader,
            limit: request.limit, sampleSeed: request.seed, overrides: BatchSpec.Overrides(request.overrides),
            seed: request.seed ?? generator.next(), concurrency: max(1, request.concurrency),
            maxBudgetUSD: request.maxBudgetUSD, output: request.output, workflowSHA256: [:], gitCommits: [:])
    }

    /// The plan of a bench: the dataset read, checked gradable and sampled; every system compiled once;
    /// one job per (item, system), item by item.
    func benchPlan(_ spec: BatchSpec, id: String, debug: Bool, gitProvenance: Bool = true) async throws -> BatchPlan {
        var spec = spec
        let input = try readInput(&spec)
        let resuming = spec.workflowFiles != nil
        resolveFiles(&spec)
        guard let grader = Grader(spec.grader ?? Self.defaultBenchGrader) else {
            throw InputError(
                code: .invalidOption,
                message: "--grader: \(Grader.refusal(spec.grader ?? ""))")
        }
        let all = try Dataset.read(
            input.text, path: spec.inputPath, promptField: spec.field, referenceField: spec.referenceField)
        let items = Dataset.select(all, limit: spec.limit, seed: spec.sampleSeed)
        try Dataset.checkGradable(items, path: spec.inputPath, grader: grader, referenceField: spec.referenceField)
        let systems = try BenchSystem.parse(spec.systems ?? [])
        let overrides = spec.overrides.overrides
        let loader = try loader()
        var workflows: [(name: String, workflow: LoadedWorkflow)] = []
        for system in systems {
            let loaded = try await system.load(
                with: loader, overrides: overrides, gitProvenance: gitProvenance,
                from: try workflowArgument(system.name, of: spec, resuming: resuming))
            spec.workflowSHA256[system.name] = loaded.workflow.provenance.contentSHA256 ?? ""
            if let commit = loaded.workflow.provenance.gitCommit {
                spec.gitCommits[system.name] = commit
                var dirty = spec.gitDirty ?? [:]
                dirty[system.name] = loaded.workflow.provenance.gitDirty ?? false
                spec.gitDirty = dirty
            }
            workflows.append((system.name, loaded))
        }
        reportWarnings(of: workflows.map(\.workflow))
        var jobs: [BatchJob] = []
        jobs.reserveCapacity(items.count * workflows.count)
        let redactor = ledgerRedactor()
        for (position, item) in items.enumerated() {
            try refuseCredentials(in: item, variables: overrides.variables, path: spec.inputPath, redactor: redactor)
            for system in workflows {
                jobs.append(
                    BatchJob(
                        position: position, itemID: item.id, system: system.name, prompt: item.prompt,
                        variables: overrides.variables, workflow: system.workflow, grading: (item, grader)))
            }
        }
        let record = BatchRecord(
            id: id, kind: "bench", createdAt: Date(), workflow: systems.map(\.name).joined(separator: ", "),
            specJSON: try spec.json(), inputPath: spec.inputPath, inputSHA256: input.sha256, total: jobs.count)
        return BatchPlan(record: record, spec: spec, jobs: jobs, debug: debug)
    }

    /// The bench's table from its ledger rows: only done jobs count (a bench stopped early is summarised
    /// over what finished).
    private func benchSummary(_ plan: BatchPlan, store: any RunStore) async throws -> BenchSummary {
        let rows = try await store.items(batchID: plan.record.id)
        // The revision each workflow had when the bench started (a resumed bench checked its content is the
        // same, but the repository's HEAD may have moved since): what the uninterrupted bench would print.
        let recorded = RecordedSpec(plan.record.specJSON)
        var workflows: [String: Workflow] = [:]
        for job in plan.jobs where workflows[job.system] == nil {
            var workflow = job.workflow.workflow
            if let commit = recorded.gitCommits[job.system] {
                workflow.provenance.gitCommit = commit
                workflow.provenance.gitDirty = recorded.gitDirty[job.system] ?? workflow.provenance.gitDirty
            }
            workflows[job.system] = workflow
        }
        return Self.benchSummary(plan.record, rows: rows, workflows: workflows)
    }

    /// A bench's table from its record and ledger rows — what `bench`, `bench resume` and `report` show,
    /// computed in this one place. Systems in the order the bench named them (then any only the rows
    /// name), items in dataset order; jobs not done (running, cancelled, cut by the budget: `bench resume`
    /// runs them) are left out, a failed run counts as incorrect. `workflows` (system name → what it ran)
    /// adds each system's revision when the caller has the compiled workflows.
    static func benchSummary(
        _ record: BatchRecord, rows: [BatchItemRecord], workflows: [String: Workflow] = [:]
    ) -> BenchSummary {
        let spec = RecordedSpec(record.specJSON)
        var systems: [String] = []
        for name in spec.systems.map({ (try? BenchSystem(parsing: $0))?.name ?? $0 }) + rows.map(\.system)
        where !systems.contains(name) {
            systems.append(name)
        }
        var itemIDs: [String] = []
        var seen: Set<String> = []
        for row in rows.sorted(by: { $0.position < $1.position }) where seen.insert(row.itemID).inserted {
            itemIDs.append(row.itemID)
        }
        // The bench's items, not only those a stopped bench reached: one job per item and system was recorded.
        let items = spec.systems.isEmpty ? itemIDs.count : max(itemIDs.count, record.total / spec.systems.count)
        return BenchSummary(
            benchID: record.id,
            dataset: BenchDatasetInfo(path: record.inputPath, sha256: record.inputSHA256, items: items),
            grader: Grader(spec.grader ?? defaultBenchGrader) ?? .numeric, systems: systems, itemIDs: itemIDs,
            results: rows.filter { isGraded($0.status) }.map(benchResult), workflows: workflows)
    }

    /// Whether a bench job's row counts in the table: done, or ended without its answer because its providers
    /// failed (`failed`, `insufficient_models`), which counts as incorrect until `bench resume` runs it again.
    /// Left out: jobs in flight, cancelled or cut by the budget, which the bench has not finished.
    static func isGraded(_ status: String) -> Bool {
        isDone(status) || status == "failed" || status == "insufficient_models"
    }

    /// The grader of a bench that names none (`--grader`'s default).
    static let defaultBenchGrader = "numeric"

    /// A bench job's ledger row as the summary reads it.
    static func benchResult(_ record: BatchItemRecord) -> BenchItemResult {
        BenchItemResult(
            itemID: record.itemID, system: record.system, answer: record.extractedAnswer,
            correct: record.correct ?? false, status: record.status, costUSD: record.costUSD, calls: record.calls,
            inputTokens: record.inputTokens, outputTokens: record.outputTokens,
            latencySeconds: Double(record.latencyMs) / 1000, runID: record.runID, origin: record.origin)
    }
}
