// `refinery batch`: one run of a workflow per item of a JSONL or CSV file, grouped under a batch id;
// `batch resume` finishes an interrupted batch; `batch list` lists batches and benches; `--dry-run`
// prices the whole batch. The execution is shared with `refinery bench` (RunService+BatchExecution).

import Foundation
import RefineryCompiler
import RefineryRuntime
public import RefineryStore
import RefinerySyntax

extension RunService {
    /// `refinery batch`: runs `request.target` once per item of `request.inputPath`.
    ///
    /// - Parameters:
    ///   - progress: called after each finished item (done/total, cost, ETA).
    ///   - results: called with each item's record as it finishes, in finishing order; nothing is kept
    ///     once it returned, so a large batch does not grow in memory.
    /// - Throws: ``InputError`` (exit 4) for an unreadable or malformed input file (with `file:line`),
    ///   ``WorkflowDiagnosticsError`` for a workflow that does not compile, before any call.
    public func batch(
        _ request: BatchRequest, progress: ((BatchProgress) -> Void)? = nil,
        results: (BatchItemRecord) throws -> Void
    ) async throws -> BatchOutcome {
        var generator = SystemRandomNumberGenerator()
        let spec = BatchSpec(
            target: request.target, inputPath: request.inputPath, field: request.field,
            overrides: BatchSpec.Overrides(request.overrides), seed: request.seed ?? generator.next(),
            concurrency: max(1, request.concurrency),
            maxBudgetUSD: request.maxBudgetUSD, output: request.output, workflowSHA256: [:], gitCommits: [:])
        let plan = try await batchPlan(spec, id: EngineConfiguration.makeRunID(), debug: request.debug)
        return try await withStore(.recording) { store in
            try await execute(plan, store: store, isResume: false, progress: progress, results: results)
        }
    }

    /// `refinery batch resume ID` (and `bench resume`): items done are reported from the ledger, not
    /// run again; an item whose run started is resumed (its finished calls are served from the ledger);
    /// the others start. `concurrency` and `maxBudgetUSD` replace the recorded values when given (the
    /// budget then caps what this session spends).
    ///
    /// - Throws: ``InputError`` (exit 4) for a bench's id: `bench resume` finishes it and prints its table.
    public func resumeBatch(
        id: String, concurrency: Int? = nil, maxBudgetUSD: Double? = nil, debug: Bool = false,
        progress: ((BatchProgress) -> Void)? = nil, results: (BatchItemRecord) throws -> Void
    ) async throws -> BatchOutcome {
        try await resumeRecorded(
            id: id, kind: "batch", concurrency: concurrency, maxBudgetUSD: maxBudgetUSD, debug: debug,
            progress: progress, results: results
        ) { outcome, _, _ in outcome }
    }

    /// ``resumeBatch(id:concurrency:maxBudgetUSD:debug:progress:results:)`` of a batch of `kind` (one of the
    /// other kind is refused, naming the command that resumes it), then `finish` with its outcome, its plan and
    /// the store it ran on, still open: after Ctrl-C a new connection to a PostgreSQL ledger cannot be opened.
    func resumeRecorded<T>(
        id: String, kind: String, concurrency: Int?, maxBudgetUSD: Double?, debug: Bool,
        progress: ((BatchProgress) -> Void)?, results: (BatchItemRecord) throws -> Void,
        finish: (BatchOutcome, BatchPlan, any RunStore) async throws -> T
    ) async throws -> T {
        let store = try await openStore(.existing)
        defer { closeOpened(store) }
        let record = try await store.batch(id: id)
        guard record.kind == kind else {
            throw InputError(
                code: .invalidOption,
                message: "\(record.id) is a \(record.kind), not a \(kind); resume it with "
                    + "`refinery \(record.kind) resume \(record.id)`.")
        }
        var spec = try BatchSpec.decode(record.specJSON, batchID: record.id)
        if let concurrency { spec.concurrency = max(1, concurrency) }
        if let maxBudgetUSD { spec.maxBudgetUSD = maxBudgetUSD }
        var plan = try await resumablePlan(record, spec: spec, debug: debug)
        plan.budgetIsThisSessions = maxBudgetUSD != nil
        let outcome = try await execute(plan, store: store, isResume: true, progress: progress, results: results)
        return try await finish(outcome, plan, store)
    }

    /// The plan of a recorded batch, refused when its input file or a workflow changed since.
    func resumablePlan(_ record: BatchRecord, spec: BatchSpec, debug: Bool) async throws -> BatchPlan {
        if let file = spec.inputFile, !FileManager.default.fileExists(atPath: file) {
            throw InputError(
                code: .unreadable,
                message: "\(record.kind) \(record.id) reads its items from \(file) (given as \(record.inputPath)), "
                    + "which is gone; put the file back there (its SHA-256 was \(record.inputSHA256.prefix(12))...), "
                    + "or start a new \(record.kind).")
        }
        let plan: BatchPlan
        if record.kind == "bench" {
            plan = try await benchPlan(spec, id: record.id, debug: debug)
        } else {
            plan = try await batchPlan(spec, id: record.id, debug: debug)
        }
        guard plan.record.inputSHA256 == record.inputSHA256 else {
            throw InputError(
                code: .invalidOption,
                message: "\(plan.spec.inputFile ?? record.inputPath) changed since \(record.kind) \(record.id) "
                    + "started (its SHA-256 differs); restore the file, or start a new \(record.kind).")
        }
        for (key, sha) in plan.spec.workflowSHA256 where spec.workflowSHA256[key].map({ $0 != sha }) ?? false {
            throw InputError(
                code: .invalidOption,
                message: "The workflow \(key.isEmpty ? spec.target : key) changed since \(record.kind) \(record.id) "
                    + "started; restore it (or run it by NAME@REV), or start a new \(record.kind).")
        }
        var resumed = plan
        resumed.record = record
        return resumed
    }

    /// `refinery batch --dry-run`: every item's estimate (its prompt's size) summed; no call is made.
    public func estimateBatch(_ request: BatchRequest) async throws -> BatchEstimate {
        let spec = BatchSpec(
            target: request.target, inputPath: request.inputPath, field: request.field,
            overrides: BatchSpec.Overrides(request.overrides), seed: 0,
            concurrency: 1, maxBudgetUSD: nil, output: nil, workflowSHA256: [:], gitCommits: [:])
        let plan = try await batchPlan(spec, id: "dry-run", debug: false, gitProvenance: false)
        return try estimate(plan.jobs)
    }

    /// The estimates of `jobs`, summed.
    func estimate(_ jobs: [BatchJob]) throws -> BatchEstimate {
        let catalog = try catalog()
        var total = BatchEstimate(
            items: Set(jobs.map(\.position)).count, runs: jobs.count, calls: EstimateRange(min: 0, max: 0),
            tokens: WorkflowEstimate.TokenTotals(
                input: EstimateRange(min: 0, max: 0), output: EstimateRange(min: 0, max: 0)),
            costUSD: EstimateRange(min: 0, max: 0), unpricedModels: [])
        var unpriced: Set<String> = []
        var systems: [BatchEstimate.SystemEstimate] = []
        var systemIndex: [String: Int] = [:]
        for job in jobs {
            let one = job.estimate(catalog: catalog)
            total.add(one)
            unpriced.formUnion(one.unpricedModels)
            // A bench's jobs carry their system (a batch's none): each system's share, as the table lists them.
            guard !job.system.isEmpty else { continue }
            let index =
                systemIndex[job.system]
                ?? {
                    systems.append(
                        BatchEstimate.SystemEstimate(
                            system: job.system, runs: 0, calls: EstimateRange(min: 0, max: 0),
                            tokens: WorkflowEstimate.TokenTotals(
                                input: EstimateRange(min: 0, max: 0), output: EstimateRange(min: 0, max: 0)),
                            costUSD: EstimateRange(min: 0, max: 0)))
                    systemIndex[job.system] = systems.count - 1
                    return systems.count - 1
                }()
            systems[index].runs += 1
            systems[index].add(one)
        }
        total.unpricedModels = unpriced.sorted()
        total.systems = systems.isEmpty ? nil : systems
        return total
    }

    /// `refinery batch list`: batches and benches, newest first; one recorded `running` that no live process
    /// owns reads ``interruptedStatus``.
    public func listBatches(limit: Int = 50) async throws -> [BatchSummary] {
        try await withStore(.existing) { store in
            var batches = try await store.listBatches(limit: limit, resumable: Self.unfinishedStatuses)
            for index in batches.indices {
                let batch = batches[index]
                batches[index].status = await Self.liveStatus(
                    batch.status, of: .batch(batch.id, kind: batch.kind), in: store)
            }
            return batches
        }
    }

    /// The jobs of batch `id` with what each spent, as `batch list` counts it
    /// (``BatchLedger/listBatches(limit:resumable:)``): a done job's recorded cost and tokens; a job without its
    /// result (in flight, cancelled, its process killed) has them recorded with the result, so until then what
    /// its run's finished calls cost, as `runs list` counts that run. `batch status` and `refinery report
    /// BATCH_ID` total these. One ledger query, however many jobs are unfinished.
    static func spending(ofBatch id: String, in store: any RunStore) async throws -> [BatchItemRecord] {
        try await store.items(batchID: id, spendingOf: unfinishedStatuses)
    }

    /// What `runs list|show|export`, `report`, `batch list` and `batch status` show for a run, batch or bench
    /// whose process was killed or whose machine stopped: recorded `running`, owned by no live process.
    /// `refinery resume` (`batch resume`, `bench resume`) finishes it.
    public static let interruptedStatus = "interrupted"

    /// `status` as recorded, or ``interruptedStatus`` for a `running` run, batch or bench that no process
    /// owns: its ownership (``RunStore/takeOwnership(of:)``, which its process holds while it runs) can be
    /// taken, and is given back at once. A detached batch is its workers', never a process's: it stays `running`.
    static func liveStatus(_ status: String, of subject: LedgerSubject, in store: any RunStore) async -> String {
        guard status == "running" else { return status }
        if case .batch(let id, _) = subject, let shared = store as? PostgresRunStore,
            (try? await shared.detachedState(batchID: id).detached) != false
        {
            return status
        }
        // Refused (live, or the owners' folder unwritable): nothing says it is not running.
        guard let ownership = try? await store.takeOwnership(of: subject) else { return status }
        await ownership.release()
        return interruptedStatus
    }

    /// The files a recorded batch or bench named: the input it reads (again on resume) and where it
    /// streamed its results (`--output`), for `batch resume` to write there again.
    public func recordedFiles(ofBatch id: String) async throws -> (input: String, output: String?) {
        let record = try await withStore(.existing) { try await $0.batch(id: id) }
        let spec = try BatchSpec.decode(record.specJSON, batchID: record.id)
        return (spec.inputFile ?? record.inputPath, spec.outputFile ?? spec.output)
    }

    /// Records in `spec` where its workflow files and its `--output` are, as absolute paths resolved in the
    /// working directory (once, when the batch starts: a resumed batch keeps what it recorded), so that
    /// `resume` from another folder loads and writes the same files; the input's is ``readInput(_:)``'s.
    func resolveFiles(_ spec: inout BatchSpec) {
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: workingDirectory).standardizedFileURL.path
        }
        if spec.outputFile == nil, let output = spec.output { spec.outputFile = absolute(output) }
        guard spec.workflowFiles == nil else { return }
        var files: [String: String] = [:]
        // A bench's workflow systems (its baselines, `single:openai/gpt-4o`, are not paths), or a batch's target.
        let workflows =
            spec.systems.map { systems in
                ((try? BenchSystem.parse(systems)) ?? []).compactMap { system -> String? in
                    guard case .workflow(let argument) = system else { return nil }
                    return argument
                }
            } ?? [spec.target]
        for argument in workflows {
            guard let (name, revision) = try? WorkflowLibrary.splitRevision(argument), WorkflowLibrary.isPath(name)
            else { continue }
            files[argument] = absolute(name) + (revision.map { "@\($0)" } ?? "")
        }
        spec.workflowFiles = files
    }

    /// The workflow argument to load for `argument` as given: the absolute path recorded for it, else itself.
    /// A recorded file that is gone when the batch `resuming` is refused, naming it, as a gone input is (a new
    /// batch's missing file is the loader's to name, as `refinery run` names it).
    func workflowArgument(_ argument: String, of spec: BatchSpec, resuming: Bool) throws -> String {
        guard let recorded = spec.workflowFiles?[argument] else { return argument }
        let file = (try? WorkflowLibrary.splitRevision(recorded).name) ?? recorded
        guard resuming || FileManager.default.fileExists(atPath: file) else { return argument }
        guard FileManager.default.fileExists(atPath: file) else {
            throw InputError(
                code: .unreadable,
                message: "The workflow \(file) (given as \(argument)) is gone; put it back there, or start a new "
                    + (spec.systems == nil ? "batch." : "bench."))
        }
        return recorded
    }

    /// Reads the input, builds one job per item and compiles the workflow once per distinct set of
    /// variable names.
    func batchPlan(
        _ spec: BatchSpec, id: String, debug: Bool, gitProvenance: Bool = true
    ) async throws -> BatchPlan {
        var spec = spec
        let input = try readInput(&spec)
        let resuming = spec.workflowFiles != nil
        resolveFiles(&spec)
        let target = try workflowArgument(spec.target, of: spec, resuming: resuming)
        let items = try Dataset.read(input.text, path: spec.inputPath, promptField: spec.field, promptFlag: "--field")
        let overrides = spec.overrides.overrides
        let loader = try loader()
        var compiled: [String: LoadedWorkflow] = [:]
        var jobs: [BatchJob] = []
        jobs.reserveCapacity(items.count)
        let redactor = ledgerRedactor()
        for (position, item) in items.enumerated() {
            let promptField = spec.field ?? Dataset.promptFields.first { item.fields[$0] != nil }
            var variables = overrides.variables
            variables.merge(Self.templateFields(of: item, promptField: promptField)) { _, row in row }
            try refuseCredentials(in: item, variables: variables, path: spec.inputPath, redactor: redactor)
            let key = variables.keys.sorted().joined(separator: ",")
            let workflow: LoadedWorkflow
            if let found = compiled[key] {
                workflow = found
            } else {
                var layer = overrides
                layer.variables = variables
                layer.rowVariables = Set(variables.keys).subtracting(overrides.variables.keys)
                do {
                    workflow = try await loader.load(target, overrides: layer, gitProvenance: gitProvenance)
                } catch var error as WorkflowDiagnosticsError {
                    // The workflow compiled for other rows' columns maybe, not this one's: point at the row.
                    error.diagnostics.append(
                        Self.rowNote(item, path: spec.inputPath, promptField: promptField, code: error.diagnostics))
                    error.sources[spec.inputPath] = input.text
                    throw error
                }
                compiled[key] = workflow
                spec.workflowSHA256[key] = workflow.workflow.provenance.contentSHA256 ?? ""
                if let commit = workflow.workflow.provenance.gitCommit { spec.gitCommits[key] = commit }
            }
            jobs.append(
                BatchJob(
                    position: position, itemID: item.id, prompt: item.prompt, variables: variables, workflow: workflow))
        }
        reportWarnings(of: compiled.sorted { $0.key < $1.key }.map(\.value))
        let record = BatchRecord(
            id: id, kind: "batch", createdAt: Date(), workflow: spec.target, specJSON: try spec.json(),
            inputPath: spec.inputPath, inputSHA256: input.sha256, total: jobs.count)
        return BatchPlan(record: record, spec: spec, jobs: jobs, debug: debug)
    }

    /// A note on the input row whose fields (its template variables) a workflow did not compile with.
    private static func rowNote(
        _ item: DatasetItem, path: String, promptField: String?, code diagnostics: [Diagnostic]
    ) -> Diagnostic {
        let names = templateFields(of: item, promptField: promptField).keys.sorted().map { "`\($0)`" }
        return Diagnostic(
            code: diagnostics.first { $0.severity == .error }?.code ?? "E508", severity: .note,
            message: "item `\(item.id)`: the workflow is compiled with this row's fields as template variables ("
                + (names.isEmpty ? "none" : names.joined(separator: ", ")) + ")",
            file: path, location: item.line.map { SourceLocation(line: $0, column: 1) },
            hint: "give this row the column the workflow names, or pass it to every row with --var NAME=VALUE")
    }

    /// The text and SHA-256 of `spec`'s input, read from its recorded absolute path (``BatchSpec/inputFile``);
    /// a new batch's input path is resolved in the working directory and recorded there. Messages name the
    /// path as given.
    func readInput(_ spec: inout BatchSpec) throws -> (text: String, sha256: String) {
        let file =
            spec.inputFile
            ?? URL(fileURLWithPath: spec.inputPath, relativeTo: workingDirectory)
            .standardizedFileURL.path
        spec.inputFile = file
        return try readInput(spec.inputPath, at: file)
    }

    private func readInput(_ path: String, at file: String) throws -> (text: String, sha256: String) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw InputError(code: .unreadable, message: "\(path): cannot read the input file; check the path.")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            // Point at the first byte that is not UTF-8 (a file saved as Latin-1 or UTF-16, say).
            var bytes = data.makeIterator()
            var parser = Unicode.UTF8.ForwardParser()
            var offset = 0
            while case .valid(let scalar) = parser.parseScalar(from: &bytes) { offset += scalar.count }
            let line = data.prefix(offset).reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            let byte = data.dropFirst(offset).first.map { String(format: " (byte 0x%02X)", $0) } ?? ""
            throw InputError(
                code: .notUTF8, message: "\(path):\(line): the input file is not valid UTF-8\(byte); save it as UTF-8.")
        }
        return (text, WorkflowCompiler.sha256Hex(Array(data)))
    }

    /// The fields of `item` its templates see as variables: all but its prompt and its `id` (the item's id, which
    /// names its result line and run, not a template field), whose names ``isVariableName(_:)`` accepts.
    static func templateFields(of item: DatasetItem, promptField: String?) -> [String: String] {
        item.fields.filter { $0.key != promptField && $0.key != "id" && isVariableName($0.key) }
    }

    /// A field that can be a template variable: `[A-Za-z_][A-Za-z0-9_]*`, and not a name a stage provides
    /// (`answer`, `prompt`, `rubric`, ...: a dataset's reference column is often `answer`, and the stage's own
    /// value is what its template shows). Other columns are not offered to the templates.
    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_",
            first.isASCII
        else { return false }
        let identifier = name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || $0 == "_" || ("0"..."9").contains($0))
        }
        return identifier && PromptVariables.stage(providing: name) == nil
    }
}

/// Calls, tokens and dollars that add up estimate by estimate: a batch's totals and a bench system's.
protocol EstimateSum {
    var calls: EstimateRange<Int> { get set }
    var tokens: WorkflowEstimate.TokenTotals { get set }
    var costUSD: EstimateRange<Double> { get set }
}

extension EstimateSum {
    /// Adds one run's estimate.
    mutating func add(_ one: WorkflowEstimate) {
        calls = EstimateRange(min: calls.min + one.calls.min, max: calls.max + one.calls.max)
        tokens.input = EstimateRange(
            min: tokens.input.min + one.tokens.input.min, max: tokens.input.max + one.tokens.input.max)
        tokens.output = EstimateRange(
            min: tokens.output.min + one.tokens.output.min, max: tokens.output.max + one.tokens.output.max)
        costUSD = EstimateRange(min: costUSD.min + one.costUSD.min, max: costUSD.max + one.costUSD.max)
    }
}

extension BatchEstimate: EstimateSum {}
extension BatchEstimate.SystemEstimate: EstimateSum {}
