// The ledger interface the application uses, whatever database holds it: the runtime's `RunLedger`
// (calls, recorded as they finish) plus the run-level writes and the queries behind
// `refinery runs list|show|export`, `resume` and `report`, and the `BatchLedger` of `batch` and `bench`.
// Two implementations: SQLiteRunStore (one file, the default) and PostgresRunStore (a shared server,
// `--store postgres://...`).

public import Foundation
public import RefineryRuntime

/// A run store: runs, rounds and calls, and the batches and benches grouping runs, with the same
/// semantics in every implementation (a call is committed before `record` returns; a succeeded call is
/// stored once; `resume` never pays twice; a batch job's row is replaced, never duplicated).
public protocol RunStore: RunLedger, BatchLedger {
    /// Where the store lives, printable: a file path, or a `postgres://` URL without its password.
    var location: String { get }

    /// Inserts a new run (status `running`).
    func createRun(_ run: StoredRun) async throws
    /// Marks a run as running again (for `resume`).
    func markRunning(id: String) async throws
    /// Records how the run ended.
    func finishRun(id: String, _ completion: RunCompletion) async throws
    /// Records (or, on resume, replaces) the close decision of a round.
    func recordRound(runID: String, round: Int, decisionJSON: String, at date: Date) async throws
    /// The run with this id, or the only run whose id starts with it (what a user types).
    func run(id: String) async throws -> StoredRun
    /// The run with exactly this id, `nil` when none is recorded: what the batch runner asks of every
    /// item, so it never pays for a prefix search (a scan of every run on PostgreSQL).
    func run(exactID id: String) async throws -> StoredRun?
    /// Runs, newest first, at most `limit`.
    func listRuns(limit: Int) async throws -> [RunSummary]
    /// The calls of a run, in recording order.
    func calls(runID: String) async throws -> [CallRecord]
    /// The rounds of a run, in order.
    func rounds(runID: String) async throws -> [RoundRecord]
    /// Everything about one run (`refinery runs export`).
    func export(runID: String) async throws -> RunExport
    /// Names of the migrations applied to this store, sorted.
    func appliedMigrations() async throws -> [String]
    /// Makes the caller the one live owner of `subject` until it releases the returned ownership, or its
    /// process ends however it ends (`kill -9` included: the operating system, or the database server
    /// when the connection drops, lets go). Use ``withOwnership(of:_:)``.
    ///
    /// - Throws: ``StoreError/Code/live`` at once, without waiting, when another owner holds `subject`:
    ///   another process, or another caller in this process (even through another store instance).
    func takeOwnership(of subject: LedgerSubject) async throws -> LedgerOwnership
}

extension SQLiteRunStore: RunStore {
    /// The database file, or `:memory:`.
    public var location: String { path }
}

/// The `LIKE` pattern matching the ids that start with `prefix`: its backslashes, `%` and `_` matched
/// literally (with `ESCAPE` backslash), so an id holding them finds only itself.
func likePattern(prefix: String) -> String {
    prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
        .replacingOccurrences(of: "_", with: "\\_") + "%"
}
