// The SQLite run ledger (DESIGN §1 "Store"): runs, rounds and calls in one WAL database. Each
// call is committed in its own transaction the moment it finishes, so a process killed with
// SIGKILL loses no finished call, and `resume` serves those calls from here instead of paying
// for them again.

import Foundation
import GRDB
public import RefineryRuntime

/// The run store and call ledger, backed by SQLite (WAL) through GRDB.
///
/// Open one per process; several processes may open the same file (WAL allows one writer and
/// many readers; a busy writer is waited for up to five seconds). Statement arguments never
/// appear in error messages, so prompts cannot leak into logs through a failed query.
public final class SQLiteRunStore: RunLedger {
    let writer: any DatabaseWriter
    /// The database file, or `:memory:`.
    public let path: String

    /// Opens (creating if needed) the database at `path` and migrates it; `:memory:` opens a
    /// private in-memory database for tests.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.publicStatementArguments = false
        configuration.busyMode = .timeout(5)
        configuration.label = "refinery.store"
        self.path = path
        do {
            if path == ":memory:" {
                writer = try DatabaseQueue(configuration: configuration)
            } else {
                let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                // WAL with synchronous=NORMAL: a commit is an append to the log, not an fsync (about
                // 10× faster, and a wide round commits thousands of calls). A commit survives the
                // process crashing or being killed — what resume relies on; only a power loss may
                // take back the last commits, and resume then repeats those calls.
                configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                writer = try DatabasePool(path: path, configuration: configuration)
            }
        } catch {
            throw StoreError(
                code: .cannotOpen,
                message: "Cannot open the run store at \(path); check that the folder is writable "
                    + "or choose another file with --store.",
                cause: error)
        }
        do {
            try Self.migrator.migrate(writer)
        } catch {
            throw StoreError(
                code: .migrationFailed,
                message: "Cannot bring the run store at \(path) up to date; it may have been written by a newer "
                    + "Refinery. Use another file with --store.",
                cause: error)
        }
    }

    /// `$XDG_DATA_HOME/refinery/refinery.db`, or `~/.local/share/refinery/refinery.db`.
    public static func defaultPath(environment: [String: String]) -> String {
        let base: String
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty {
            base = data
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = (home as NSString).appendingPathComponent(".local/share")
        }
        return ((base as NSString).appendingPathComponent("refinery") as NSString)
            .appendingPathComponent("refinery.db")
    }

    /// Names of the migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try read { db in try Self.migrator.appliedIdentifiers(db).sorted() }
    }

    /// SQLite's journal mode for this database (`wal` for files).
    package func journalMode() throws -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    // MARK: RunLedger

    /// The reply of an earlier succeeded call with the same run, round, node and request hash.
    public func recordedReply(runID: String, round: Int, node: String, requestHash: String) async throws -> ModelReply?
    {
        try await readAsync { db in
            let row =
                try CallRow
                .filter(
                    Column("run_id") == runID && Column("round") == round && Column("node") == node
                        && Column("request_hash") == requestHash
                        && [CallStatus.succeeded.rawValue, CallStatus.replayed.rawValue].contains(Column("status"))
                )
                .order(Column("id").desc)
                .fetchOne(db)
            return row?.response
        }
    }

    /// Commits the call at once. A second succeeded record of the same call is ignored.
    public func record(_ call: CallRecord) async throws {
        let row = CallRow(call)
        try await writeAsync { db in
            var row = row
            try row.insert(db, onConflict: .ignore)
        }
    }

    // MARK: Plumbing

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .io, message: "Reading the run store at \(path) failed.", cause: error)
        }
    }

    func readAsync<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .io, message: "Reading the run store at \(path) failed.", cause: error)
        }
    }

    func writeAsync<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            // GRDB's callback write, not its async one: the async write throws CancellationError in a
            // cancelled task, and after Ctrl-C the calls that finished and the run's outcome must still
            // be committed. Nor its blocking write: the writes of concurrent calls would each hold one of
            // the few threads Swift concurrency runs on while they wait for the database's queue.
            return try await withCheckedThrowingContinuation { continuation in
                writer.asyncWrite(body) { _, result in continuation.resume(with: result) }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                code: .io, message: "Writing to the run store at \(path) failed; check free disk space.",
                cause: error)
        }
    }
}
