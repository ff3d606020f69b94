// `refinery run` and `refinery resume`: compile, check credentials, record the run, execute it
// with the run ledger (SQLite or PostgreSQL), record the outcome. Resume reruns the stored workflow snapshot with the
// same run id, seed and prompt, so every call already in the ledger is served from it.

import Foundation
import Logging
import RefineryCompiler
import RefineryProviders
public import RefineryRuntime
import RefineryStore
import RefinerySyntax

extension RunService {
    /// `refinery run`: runs the workflow and records it. `events` receives the engine's events.
    public func run(
        _ request: RunRequest, events: (@Sendable (RunEvent) -> Void)? = nil
    ) async throws -> RunResult {
        try refuseCredentials(in: request.prompt)
        var overrides = request.overrides
        overrides.variables.merge(request.variables) { _, flag in flag }
        try refuseCredentials(inVariables: overrides.variables)
        let loaded = reportingWarnings(
            try await loader().load(request.target, overrides: overrides, gitProvenance: true))
        let workflow = loaded.workflow
        // The store opens (a new one is created: files synced) on another thread while the providers start
        // (event loops, connection pools) and the credentials are checked: start-up pays the longer of the
        // two, not their sum. Nothing is written to it before both are done.
        let service = self
        let opening = Task.detached { try await service.openStore() }
        let runID = EngineConfiguration.makeRunID()
        var generator = SystemRandomNumberGenerator()
        let seed = request.seed ?? generator.next()
        let stored = StoredRun(
            id: runID, workflowName: workflow.name, prompt: request.prompt,
            promptHash: Self.sha256(request.prompt), workflow: workflow, provenance: workflow.provenance,
            seed: seed, variables: overrides.variables, startedAt: Date())
        do {
            let result = try await withProviders(for: [stored.workflow], debug: request.debug) {
                providers, embedder, logger in
                try await execute(
                    stored, graph: loaded.graph, store: opening.value, isResume: false, providers: providers,
                    embedder: embedder, logger: logger, events: events)
            }
            await closeOpened(opening)
            return result
        } catch {
            // A store that cannot be opened is reported first, as when it was opened before the providers.
            if case .failure(let storeError) = await opening.result { throw storeError }
            await closeOpened(opening)
            throw error
        }
    }

    /// `refinery resume RUN`: finishes an interrupted run without paying twice for a finished call.
    public func resume(
        runID: String, debug: Bool = false, events: (@Sendable (RunEvent) -> Void)? = nil
    ) async throws -> RunResult {
        let store = try await openStore(.existing)
        defer { closeOpened(store) }
        let found = try await store.run(id: runID)
        // Owned before its status is read: a run live in another process is refused (StoreError.live, exit 4),
        // and one that process finished meanwhile is not replayed.
        return try await store.withOwnership(of: .run(found.id)) {
            let stored = try await store.run(exactID: found.id) ?? found
            // Only a run that stopped early has anything left to do; replaying a finished one would
            // only overwrite its recorded outcome.
            guard Self.resumableStatuses.contains(stored.status) else {
                throw InputError(
                    code: .finished,
                    message: "Run \(stored.id) already finished (\(stored.status)); there is nothing to resume. "
                        + "`refinery runs show \(stored.id)` shows its result; start a new run with `refinery run`.")
            }
            // The stored workflow's graph is built again: a resumed run never depends on a compiler's output.
            return try await withProviders(for: [stored.workflow], debug: debug) { providers, embedder, logger in
                try await execute(
                    stored, graph: nil, store: store, isResume: true, holding: .held, providers: providers,
                    embedder: embedder, logger: logger, events: events)
            }
        }
    }

    /// Runs `body` with the providers of this service: ``providers`` when set, else one HTTP provider
    /// registry (its endpoint gates and rate limits shared by everything `body` runs), after checking
    /// that every participant of `workflows` has credentials (exit 4 before any call). `budget` is a batch's
    /// `--max-budget`, which caps its runs as their own budget does
    /// (see ``unpricedBudgetWarning(of:catalog:budget:)``).
    func withProviders<T>(
        for workflows: [Workflow], debug: Bool, budget: Double? = nil,
        _ body: (any ProviderResolver, (any Embedder)?, Logger) async throws -> T
    ) async throws -> T {
        let logger = Self.logger(debug: debug)
        if let providers {
            return try await body(providers, providers as? any Embedder, logger)
        }
        let providerEnvironment = ProviderEnvironment.load(
            environment: environment, dotEnvDirectory: workingDirectory.path)
        let providersConfig = try providersConfiguration()
        return try await ProviderRegistry.withRegistry(
            environment: providerEnvironment, configuration: providersConfig, logger: logger
        ) { registry in
            var problems: [CredentialProblem] = []
            var warnings: [String] = []
            for workflow in workflows {
                let check = Self.checkCredentials(of: workflow, registry: registry)
                problems += check.problems.filter { problem in !problems.contains { $0 == problem } }
                warnings += check.warnings.filter { !warnings.contains($0) }
            }
            if !problems.isEmpty {
                throw InputError(code: .credentials, message: problems.map(\.description).joined(separator: "\n"))
            }
            for warning in warnings { warn(warning, logger: logger) }
            let catalog = try self.catalog()
            for workflow in workflows {
                if let warning = Self.unpricedBudgetWarning(of: workflow, catalog: catalog, budget: budget) {
                    warn(warning, logger: logger)
                }
            }
            return try await body(registry, registry, logger)
        }
    }

    /// How ``execute(_:graph:store:isResume:holding:providers:embedder:logger:events:catalog:)`` holds the
    /// run's ownership (one live owner per run, ``RunStore/takeOwnership(of:)``).
    enum RunHolding {
        /// Take it for the run's whole life, from before its first write: refused while another owner holds it.
        case take
        /// The caller holds it already (`resume` takes it before reading the run's status).
        case held
        /// A worker's claimed job: taken when free, so a `resume` of the run is refused while the worker runs
        /// it; when another owner holds it the claim decides, since its lease is what hands a stalled worker's
        /// job to another worker (RunService+Worker), and the stalled one cancels its run at its heartbeat.
        case claim
    }

    func execute(
        _ stored: StoredRun, graph: ExecutionGraph?, store: any RunStore, isResume: Bool, holding: RunHolding = .take,
        providers: any ProviderResolver,
        embedder: (any Embedder)?, logger: Logger, events: (@Sendable (RunEvent) -> Void)?,
        catalog: ModelCatalog? = nil
    ) async throws -> RunResult {
        let ownership: LedgerOwnership?
        switch holding {
        case .held: ownership = nil
        case .take: ownership = try await store.takeOwnership(of: .run(stored.id))
        case .claim: ownership = try? await store.takeOwnership(of: .run(stored.id))
        }
        return try await LedgerOwnership.holding(ownership) {
            try await executeOwned(
                stored, graph: graph, store: store, isResume: isResume, providers: providers, embedder: embedder,
                logger: logger, events: events, catalog: catalog)
        }
    }

    private func executeOwned(
        _ stored: StoredRun, graph: ExecutionGraph?, store: any RunStore, isResume: Bool,
        providers: any ProviderResolver, embedder: (any Embedder)?, logger: Logger,
        events: (@Sendable (RunEvent) -> Void)?, catalog: ModelCatalog?
    ) async throws -> RunResult {
        // A batch passes the catalog it read once; a single run reads it here.
        let catalog = try catalog ?? self.catalog()
        let workflow = stored.workflow
        if isResume {
            try await store.markRunning(id: stored.id)
        } else {
            try await store.createRun(stored)
        }
        let engine = Engine(
            workflow: workflow, graph: graph, providers: providers,
            configuration: EngineConfiguration(
                runID: stored.id, seed: stored.seed, catalog: catalog, ledger: store, embedder: embedder,
                logger: logger, mayHaveRecordedCalls: isResume))
        let outcome: RunOutcome
        do {
            outcome = try await engine.run(stored.prompt, events: events)
        } catch {
            // Leave the run resumable and say why it stopped; every finished call is already committed.
            let status = error is CancellationError ? "cancelled" : "failed"
            try? await store.finishRun(
                id: stored.id,
                RunCompletion(
                    status: status, outcomeJSON: nil, costUSD: 0, inputTokens: 0, outputTokens: 0,
                    exitCode: Int(RunExitCode.failure.rawValue), finishedAt: Date()))
            throw error
        }
        let report = RunReport(outcome: outcome, workflow: workflow)
        let exitCode = RunExitCode(outcome.status)
        // The outcome is recorded even when the run was cancelled: the ledger stays consistent.
        try await Self.recordOutcome(outcome, report: report, exitCode: exitCode, runID: stored.id, store: store)
        return RunResult(outcome: outcome, workflow: workflow, report: report, exitCode: exitCode)
    }

    private static func recordOutcome(
        _ outcome: RunOutcome, report: RunReport, exitCode: RunExitCode, runID: String, store: any RunStore
    ) async throws {
        for round in outcome.rounds where round.phase == .round {
            if let decision = round.decision {
                try await store.recordRound(
                    runID: runID, round: round.round, decisionJSON: decision.sortedJSONText, at: Date())
            }
        }
        try await store.finishRun(
            id: runID,
            RunCompletion(
                status: report.status, outcomeJSON: try report.sortedJSONText(),
                costUSD: outcome.costUSD, inputTokens: outcome.usage.inputTokens,
                outputTokens: outcome.usage.outputTokens, exitCode: Int(exitCode.rawValue), finishedAt: Date(),
                anonymization: anonymizationTable(outcome.anonymizationMap)))
    }

    /// The ledger's anonymization table: each `r{round}:{viewer}`'s labels and the members behind them.
    /// The engine lists entries grouped by round and viewer, so each group's table is made at its size
    /// and stored once (one key made and hashed a group, not an entry: half of the ledger record's cost
    /// besides the report, Benchmarks/README.md). A group met again is merged, later entries winning, as
    /// entry by entry.
    package static func anonymizationTable(_ entries: [AnonymizationEntry]) -> [String: [String: String]] {
        var table: [String: [String: String]] = [:]
        var start = entries.startIndex
        while start < entries.endIndex {
            let first = entries[start]
            let end =
                entries[start...].firstIndex { $0.round != first.round || $0.viewer != first.viewer }
                ?? entries.endIndex
            var labels = [String: String](minimumCapacity: end - start)
            for entry in entries[start..<end] { labels[entry.label] = entry.memberID }
            let key = "r\(first.round):\(first.viewer)"
            if let earlier = table.updateValue(labels, forKey: key) {
                table[key] = earlier.merging(labels) { _, later in later }
            }
            start = end
        }
        return table
    }

    /// Statuses of a run that stopped before its outcome: interrupted (`running` after a crash or
    /// kill), cancelled (Ctrl-C) or failed.
    /// `insufficient_models` too: too few members answered because their providers failed (a
    /// local server was down), and once they are back the run can finish, replaying what answered.
    static let resumableStatuses: Set<String> = ["running", "cancelled", "failed", "insufficient_models"]

    /// The credential check before any call, per participant the run can call (each member, and the arbiter
    /// when a stage is performed by it: ``Workflow/calledArbiter``): a
    /// participant none of whose models (primary, then fallbacks) has credentials is a problem (exit 4);
    /// one whose first models lack them but a fallback has them is a warning, and the engine moves it
    /// to that fallback when the primary's provider refuses to start.
    static func checkCredentials(
        of workflow: Workflow, registry: ProviderRegistry
    ) -> (problems: [CredentialProblem], warnings: [String]) {
        var chains = workflow.members.map { (id: $0.id, models: [$0.model] + $0.fallback) }
        if let arbiter = workflow.calledArbiter {
            chains.append((id: "arbiter", models: [arbiter.model] + arbiter.fallback))
        }
        var unusable: [ModelRef] = []
        var warnings: [String] = []
        for chain in chains {
            let missing = chain.models.prefix { !registry.checkCredentials(for: [$0]).isEmpty }
            if missing.count == chain.models.count {
                unusable += chain.models
            } else if let usable = chain.models.dropFirst(missing.count).first, !missing.isEmpty {
                let problems = registry.checkCredentials(for: Array(missing)).map(\.description)
                warnings.append(
                    "\(chain.id) starts with its fallback \(usable): " + problems.joined(separator: "; "))
            }
        }
        return (registry.checkCredentials(for: unusable), warnings)
    }

    /// A budget cannot stop calls it cannot price: a model the catalog has no price for costs $0 to it. Said
    /// before the first call, so that a budget the run cannot keep is not trusted in silence. `budget` is a
    /// batch's or a bench's `--max-budget`, else the workflow's own budget is the one.
    static func unpricedBudgetWarning(of workflow: Workflow, catalog: ModelCatalog, budget: Double? = nil) -> String? {
        guard let budget = budget ?? workflow.limits.budgetUSD else { return nil }
        var models = workflow.members.map(\.model)
        if let arbiter = workflow.calledArbiter { models.append(arbiter.model) }
        models += workflow.fallbackModels
        // The semantic strategy's embedding requests are calls of the run too, in its budget.
        if case .semantic(let options) = workflow.convergence.strategy, let embedding = options.embeddingModel {
            models.append(embedding)
        }
        var seen = Set<String>()
        let unpriced = models.filter { catalog.pricing(for: $0) == nil && seen.insert($0.description).inserted }
            .map(\.description)
        guard !unpriced.isEmpty else { return nil }
        return "the budget of $\(DollarText.plain(budget)) counts calls to \(unpriced.joined(separator: ", ")) as $0: "
            + "the catalog has no price for \(unpriced.count == 1 ? "it" : "them"), so the budget cannot stop them; "
            + "price them in $XDG_CONFIG_HOME/refinery/catalog.yaml (`refinery models` lists the prices)"
    }

    /// Refuses a prompt that holds a credential this environment loads (in any encoding the ledger hides):
    /// it would go to every model of the run, and be recorded redacted, so a resume would ask something
    /// else. The way in is a file: `-f .env`, or an MCP client's `files: [".env"]`.
    func refuseCredentials(in prompt: String) throws {
        guard ledgerRedactor().holdsSecret(prompt) else { return }
        throw InputError(
            code: .holdsCredential,
            message:
                "The prompt holds the value of a credential this environment loads (an API key from the "
                + "environment or .env); it would be sent to the models. Remove it from the prompt and its files.")
    }

    /// Refuses a `--var` whose value holds a credential this environment loads: every template showing it
    /// would send it to the models, as a prompt holding it would.
    func refuseCredentials(inVariables variables: [String: String]) throws {
        let redactor = ledgerRedactor()
        guard let name = variables.keys.sorted().first(where: { redactor.holdsSecret(variables[$0] ?? "") }) else {
            return
        }
        throw InputError(
            code: .holdsCredential,
            message:
                "--var \(name) holds the value of a credential this environment loads (an API key from the "
                + "environment or .env); it would be sent to the models. Remove it from the variable.")
    }

    /// Refuses a batch or bench whose item would send a credential this environment loads: its prompt, or a
    /// field it gives the templates (`variables`), located at the item's row, as ``refuseCredentials(in:)``
    /// refuses a run's prompt. `redactor` is ``ledgerRedactor()``, made once for all the items of a plan (it
    /// reads the environment, `.env` and `providers.yaml`).
    func refuseCredentials(
        in item: DatasetItem, variables: [String: String], path: String, redactor: Redactor
    ) throws {
        guard redactor.holdsSecret(item.prompt) || variables.values.contains(where: redactor.holdsSecret) else {
            return
        }
        throw InputError(
            code: .holdsCredential,
            message:
                "\(item.location(in: path)) holds the value of a credential this environment loads"
                + " (an API key from the environment or .env); it would be sent to the models. "
                + "Remove it from the input file.")
    }

    static func sha256(_ text: String) -> String {
        WorkflowCompiler.sha256Hex(Array(text.utf8))
    }
}
