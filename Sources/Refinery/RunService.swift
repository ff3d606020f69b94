// The application layer's entry point: one method per CLI command, so the CLI stays wiring
// (parse, call one method, print, exit) and a Swift program can do what the CLI does.

public import Foundation
import RefineryProviders
public import RefineryRuntime
public import RefineryStore

/// Runs Refinery's commands against an environment, a working directory and a run store.
public struct RunService: Sendable {
    /// Environment variables (credentials, base URLs, XDG folders, `REFINERY_PATH`).
    public var environment: [String: String]
    /// Where relative paths and `./workflows/` are resolved.
    public var workingDirectory: URL
    /// The run store: a SQLite file (`:memory:` for tests) or a `postgres://` URL; `nil` = `$REFINERY_STORE`
    /// when set, else `$XDG_DATA_HOME/refinery/refinery.db`.
    public var storePath: String?
    /// Who serves the model calls of `run` and `resume`. `nil` (the default, what the CLI uses) =
    /// the built-in HTTP providers with credentials from `environment` and `.env`. Set it to run
    /// workflows against your own ``ModelProvider``s; credentials are then not checked, and an
    /// embedder is used only when the resolver is also an ``Embedder``.
    public var providers: (any ProviderResolver)?
    /// Receives the warnings found before a run starts (a member that starts with its fallback because
    /// its primary's provider has no credentials). `nil` = logged at `warning` level.
    public var onWarning: (@Sendable (String) -> Void)?
    /// Receives the compiler's warnings (W7xx) of a workflow that `run`, `estimate` and `graph` load, with the
    /// text of the files they point into, for rendering like `validate`'s. `nil` = not reported.
    public var onCompileWarnings: (@Sendable (WorkflowDiagnosticsError) -> Void)?
    /// How diagnostics name the workflow files at these paths (``WorkflowLibrary/shownPaths``): a workflow
    /// a caller gave as text and this service reads from a private file is named as the caller knows it.
    public var shownPaths: [String: String] = [:]
    /// Whether a reading command creates a missing SQLite ledger (``StoreAccess/existing`` opens as
    /// ``StoreAccess/recording``): for the MCP server, whose ledger is where its own runs go. `false` (the CLI):
    /// a missing ledger reads as empty and is not created; one in a folder that does not exist is refused.
    public var readingCreatesStore = false
    /// A store to use instead of opening ``resolvedStorePath``: the batch benchmark runs the same batch
    /// with a store that keeps nothing, to tell the ledger's CPU from the scheduler's and the engine's.
    package var store: (any RunStore)?

    /// Creates a service.
    public init(
        environment: [String: String], workingDirectory: URL, storePath: String? = nil,
        providers: (any ProviderResolver)? = nil
    ) {
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.storePath = storePath
        self.providers = providers
    }

    /// The process's environment and current directory.
    public static func current(storePath: String? = nil) -> RunService {
        RunService(
            environment: ProcessInfo.processInfo.environment,
            workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            storePath: storePath)
    }

    /// The run store this service opens: ``storePath`` (`--store`), else `$REFINERY_STORE`, else
    /// `$XDG_DATA_HOME/refinery/refinery.db`. A `postgres://` (or `postgresql://`) URL names a PostgreSQL
    /// ledger; anything else is a SQLite file.
    public var resolvedStorePath: String {
        if let storePath { return storePath }
        if let variable = environment["REFINERY_STORE"], !variable.isEmpty { return variable }
        return SQLiteRunStore.defaultPath(environment: environment)
    }

    /// Whether opening the run store may create it.
    public enum StoreAccess: Sendable {
        /// A command that records (`run`, `batch`, `bench`...): a missing SQLite file and its folders are created.
        case recording
        /// A command that only reads what was recorded (`runs`, `report`, `batch list`/`status`, the resumes):
        /// nothing is created. A missing SQLite file reads as an empty ledger when it is the default one or its
        /// folder exists; in a folder that does not exist it is refused (``StoreError/Code/cannotOpen``, exit 4),
        /// so a mistyped `--store` does not read as an empty ledger. A PostgreSQL database without Refinery's
        /// tables reads as an empty ledger and is left without them; an unreachable server is refused (exit 4).
        case existing
    }

    /// Opens the run store at ``resolvedStorePath``: a ``PostgresRunStore`` for a `postgres://` URL (its
    /// password from the URL, `PGPASSWORD` or `~/.pgpass`), else a ``SQLiteRunStore``. Either holds runs
    /// and batches: every ledger command works on both. The caller owns it: call
    /// ``SQLiteRunStore/close()`` when done, or the next open reads every page of the file to check it.
    public func openStore(_ access: StoreAccess = .recording) async throws -> any RunStore {
        if let store { return store }
        let redactor = ledgerRedactor()
        let store = resolvedStorePath
        if PostgresLocation.isPostgresURL(store) {
            let server = try PostgresLocation(url: store, environment: environment)
            // The database password too: a provider error never holds it, but nothing recorded may.
            let redactor = redactor.adding(server.password.map { [$0] } ?? [])
            guard access == .existing, !readingCreatesStore else {
                return try await PostgresRunStore.open(server, redactor: redactor)
            }
            // A database with no ledger in it yet reads as an empty ledger, and no table is created in it, as a
            // SQLite file not there yet; an unreachable server is refused (exit 4).
            return try await PostgresRunStore.openRecorded(server, redactor: redactor)
                ?? SQLiteRunStore(path: ":memory:", redactor: redactor)
        }
        try PostgresLocation.refuseOtherURLScheme(store)
        if access == .existing, !readingCreatesStore, store != ":memory:",
            !FileManager.default.fileExists(atPath: store)
        {
            // Nothing recorded there yet (a new install's default ledger, a fresh --store in a folder that
            // exists): read as an empty ledger, and create nothing. A folder that does not exist is a mistyped
            // path, not an empty ledger.
            let folder = (store as NSString).deletingLastPathComponent
            let isDefault = storePath == nil && environment["REFINERY_STORE"]?.isEmpty != false
            guard isDefault || FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder) else {
                throw StoreError(code: .cannotOpen, message: noLedgerMessage(store))
            }
            return try SQLiteRunStore(path: ":memory:", redactor: redactor)
        }
        return try SQLiteRunStore(path: store, redactor: redactor)
    }

    /// Why a reading command found nothing at `path`, and where the ledger is looked for.
    private func noLedgerMessage(_ path: String) -> String {
        let named =
            storePath != nil
            ? " (--store)" : environment["REFINERY_STORE"]?.isEmpty == false ? " ($REFINERY_STORE)" : ""
        let folder = (path as NSString).deletingLastPathComponent
        return "No ledger at \(path)\(named): its folder \(folder) does not exist, and nothing was created. Runs, "
            + "batches and benches are recorded in --store FILE, else $REFINERY_STORE, else "
            + "\(SQLiteRunStore.defaultPath(environment: environment)); check the path."
    }

    /// Runs `body` with the store at ``resolvedStorePath`` and closes it when `body` returns or throws: the
    /// one way a command uses a store it opens, so a SQLite ledger is closed cleanly and its next open skips
    /// the integrity check that reads every page (``SQLiteRunStore/close()``).
    func withStore<T>(_ access: StoreAccess, _ body: (any RunStore) async throws -> T) async throws -> T {
        let store = try await openStore(access)
        defer { closeOpened(store) }
        return try await body(store)
    }

    /// Closes `store` when this service opened it (not the injected ``store``, which its owner closes) and
    /// it is a SQLite file; a PostgreSQL store closes its connection when released. Call it only once
    /// nothing uses the store any more: the command's last read or write has returned.
    func closeOpened(_ store: any RunStore) {
        guard self.store == nil, let file = store as? SQLiteRunStore else { return }
        file.close()
    }

    /// ``closeOpened(_:)`` for a store opened by `opening`, once it is done (nothing when it failed).
    func closeOpened(_ opening: Task<any RunStore, any Error>) async {
        if case .success(let store) = await opening.result { closeOpened(store) }
    }

    /// The ledger hides every credential this environment holds, in whatever form a server echoed it.
    func ledgerRedactor() -> Redactor {
        ProviderRegistry.redactor(
            environment: ProviderEnvironment.load(environment: environment, dotEnvDirectory: workingDirectory.path),
            configuration: (try? providersConfiguration()) ?? ProvidersConfig())
    }

    /// The saved-config folder: `to` if given, else the user's workflow folder.
    public func savedConfigs(in folder: String? = nil) -> SavedConfigs {
        if let folder {
            return SavedConfigs(folder: URL(fileURLWithPath: folder, relativeTo: workingDirectory).standardizedFileURL)
        }
        return SavedConfigs(folder: SavedConfigs.userFolder(environment: environment))
    }

    // MARK: runs

    /// `refinery runs list`: a run recorded `running` that no live process owns reads ``interruptedStatus``.
    public func listRuns(limit: Int) async throws -> [RunSummary] {
        try await withStore(.existing) { store in
            var runs = try await store.listRuns(limit: limit)
            // A running run's cost is what its calls cost so far, summed by the store's listing query.
            for index in runs.indices where runs[index].status == Self.unfinished {
                runs[index].status = await Self.liveStatus(runs[index].status, of: .run(runs[index].id), in: store)
            }
            return runs
        }
    }

    /// `refinery runs show ID`.
    public func showRun(id: String) async throws -> StoredRun {
        try await withStore(.existing) { store in
            let run = try await store.run(id: id)
            guard run.status == Self.unfinished else { return run }
            return await Self.withLiveStatus(run, calls: try await store.calls(runID: run.id), in: store)
        }
    }

    /// `refinery runs export ID` (and `report`).
    public func exportRun(id: String) async throws -> RunExport {
        try await withStore(.existing) { store in
            var export = try await store.export(runID: id)
            if export.run.status == Self.unfinished {
                export.run = await Self.withLiveStatus(export.run, calls: export.calls, in: store)
            }
            return export
        }
    }

    /// A run with no outcome recorded as the ledger can tell it: what its finished calls cost, and
    /// ``interruptedStatus`` when no live process runs it (killed, crashed) instead of `running` for ever.
    private static func withLiveStatus(_ run: StoredRun, calls: [CallRecord], in store: any RunStore) async -> StoredRun
    {
        var run = withSpend(run, of: calls)
        run.status = await liveStatus(run.status, of: .run(run.id), in: store)
        return run
    }

    /// The status of a run with no outcome recorded: running, or stopped without a word (`kill -9`, a crash).
    static let unfinished = "running"

    /// `run` with what its finished calls cost. A run's totals are recorded with its outcome; until then (for
    /// ever, when its process was killed) they read $0 and 0 tokens, while each call's cost is in the ledger.
    static func withSpend(_ run: StoredRun, of calls: [CallRecord]) -> StoredRun {
        var run = run
        (run.costUSD, run.inputTokens, run.outputTokens) = spent(by: calls)
        return run
    }

    /// Cost and tokens of `calls`, without those served from the ledger (paid for by an earlier attempt).
    static func spent(by calls: [CallRecord]) -> (cost: Double, input: Int, output: Int) {
        calls.filter { $0.status != .replayed }.reduce(into: (0.0, 0, 0)) { total, call in
            total.0 += call.costUSD
            total.1 += call.reply?.usage.inputTokens ?? 0
            total.2 += call.reply?.usage.outputTokens ?? 0
        }
    }
}
