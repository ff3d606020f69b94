// The SQLite run ledger (DESIGN §1 "Store"): runs, rounds and calls in one WAL database. Each
// call is committed the moment it finishes (before the engine hears of it), so a process killed
// with SIGKILL loses no finished call, and `resume` serves those calls from here instead of paying
// for them again. Calls that finish together are committed together (one transaction per batch).

import Foundation
import GRDB
public import RefineryRuntime
import Synchronization

/// The run store and call ledger, backed by SQLite (WAL) through GRDB.
///
/// Open one per process; several processes may open the same file (WAL allows one writer and
/// many readers; a busy writer is waited for up to five seconds). Statement arguments never
/// appear in error messages, so prompts cannot leak into logs through a failed query.
public final class SQLiteRunStore: RunLedger {
    let writer: any DatabaseWriter
    /// Calls waiting for the next commit, and whether a commit is under way.
    private let pendingCalls = Mutex<(calls: [PendingCall], committing: Bool)>(([], false))
    /// The database file, or `:memory:`.
    public let path: String
    /// Whether opening it ran SQLite's full integrity check (an existing file not provably as a clean close
    /// left it): tests observe the check this way.
    package let checkedInFull: Bool
    /// Whether ``close()`` ran.
    private let closed = Mutex(false)
    /// The subjects owned through a `:memory:` store (private to it); a file's owners hold lock files.
    let memoryOwners = Mutex<Set<UInt64>>([])
    /// Hides credentials in the error texts written to the ledger (what `runs show` and
    /// `runs export` print back).
    let redactor: Redactor

    /// Opens (creating if needed) the database at `path` and migrates it; `:memory:` opens a
    /// private in-memory database for tests. Every error text recorded is passed through
    /// `redactor` (give it the run's credentials; the default hides key-shaped strings only).
    ///
    /// Several processes may open (and create) the same file at once: switching a new file to WAL and
    /// migrating it wait for each other instead of failing. An existing file that fails SQLite's
    /// integrity check is refused before anything is written to it (``StoreError/Code/damaged``), and so
    /// is a file migrated by a newer Refinery (``StoreError/Code/newerSchema``).
    public init(path: String, redactor: Redactor = Redactor()) throws {
        self.redactor = redactor
        var configuration = Configuration()
        configuration.publicStatementArguments = false
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.label = "refinery.store"
        self.path = path
        if path == ":memory:" {
            checkedInFull = false
            writer = try Self.opening(path) { try DatabaseQueue(configuration: configuration) }
        } else {
            try Self.checkIsFile(path)
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw StoreError(
                    code: .cannotOpen,
                    message: "Cannot create the folder of the run store \(path); check that it is writable "
                        + "or choose another file with --store.", cause: error)
            }
            // A file as this store's last clean close left it skips the check that reads every page; its
            // `-checked` file goes before anything is written, so it exists only between a clean close and
            // the next open.
            let unchanged = Self.isUnchangedSinceCleanClose(path)
            Self.removeChecked(path)
            let isNew = unchanged ? false : try Self.checkIntegrity(path, configuration: configuration)
            checkedInFull = !unchanged && !isNew
            // WAL with synchronous=NORMAL: a commit is an append to the log, not an fsync (about
            // 10× faster, and a wide round commits thousands of calls). A commit survives the
            // process crashing or being killed — what resume relies on; only a power loss may
            // take back the last commits, and resume then repeats those calls.
            configuration.prepareDatabase(Self.synchronousSetting(creating: isNew))
            writer = try Self.opening(path) { try DatabasePool(path: path, configuration: configuration) }
            if isNew {
                try Self.opening(path) {
                    try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                }
            }
        }
        try Self.migrate(writer, path: path)
    }

    /// Closes the database: what its owner calls when it is done with it (``RunService`` does, when the
    /// command that opened it finishes). When no other connection has the file open (no `-wal` file is
    /// left), the file's identity is recorded beside it (`FILE-checked`), and the next open skips the
    /// integrity check that reads every page as long as nothing has changed the file since. Everything was
    /// committed before: a close that fails records nothing, and a store that is never closed this way
    /// (a crash, `kill -9`) is checked in full next time. Every use after it fails with an error; a second
    /// close does nothing. Never call it while another task is still using the store.
    public func close() {
        guard
            closed.withLock({ closed in
                defer { closed = true }; return !closed
            })
        else { return }
        do {
            // The pool closes its writer first, and a reader (read-only) connection closing last cannot
            // checkpoint and delete the `-wal` file: the readers go first, so the writer is the last.
            (writer as? DatabasePool)?.releaseMemory()
            try writer.close()
        } catch {
            return
        }
        if path != ":memory:" { Self.recordCleanClose(path) }
    }

    /// How long a process waits for another that holds the database (a write, a migration).
    static let busyTimeout: TimeInterval = 5
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

    /// Runs raw SQL: tests use it to stage what another version of Refinery would have written.
    package func executeForTesting(_ sql: String) throws {
        try writer.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    /// The rows `sql` selects, each value as SQL writes it (text in single quotes, unescaped; `42`, `0.5`,
    /// `NULL`): tests pin what the ledger holds, type included.
    package func rowsForTesting(_ sql: String) throws -> [[String]] {
        try read { db in
            try Row.fetchAll(db, sql: sql).map { row in
                row.databaseValues.map { value in
                    switch value.storage {
                    case .string(let text): "'\(text)'"
                    case .int64(let integer): String(integer)
                    case .double(let real): String(real)
                    case .blob(let bytes): "x'\(bytes.map { String(format: "%02x", $0) }.joined())'"
                    case .null: "NULL"
                    }
                }
            }
        }
    }

    /// SQLite's journal mode for this database (`wal` for files).
    package func journalMode() throws -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// `PRAGMA synchronous` of the connection that writes (1 = `NORMAL`): a new file is switched to WAL
    /// unsynced, and every commit after that must be synced as on any other file.
    package func writerSynchronousForTesting() throws -> Int {
        try writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    // MARK: RunLedger

    /// The reply of an earlier succeeded call with the same run, round, node and request hash, and its cost.
    public func recordedReply(
        runID: String, round: Int, node: String, requestHash: String
    ) async throws -> RecordedReply? {
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
            return row.flatMap { row in row.response.map { RecordedReply(reply: $0, costUSD: row.costUSD) } }
        }
    }

    /// The succeeded (or replayed) calls of `node` in `round` of `runID`, in recording order.
    public func recordedCalls(runID: String, round: Int, node: String) async throws -> [CallRecord] {
        try await readAsync { db in
            try CallRow
                .filter(
                    Column("run_id") == runID && Column("round") == round && Column("node") == node
                        && Column("response") != nil
                        && [CallStatus.succeeded.rawValue, CallStatus.replayed.rawValue].contains(Column("status"))
                )
                .order(Column("id"))
                .fetchAll(db).map(\.record)
        }
    }

    /// Whether a succeeded (or replayed) call of `runID` is recorded: one query per run, instead of
    /// one lookup per call of a run that has nothing to replay.
    public func hasRecordedReplies(runID: String) async throws -> Bool {
        try await readAsync { db in
            try CallRow
                .filter(
                    Column("run_id") == runID
                        && [CallStatus.succeeded.rawValue, CallStatus.replayed.rawValue].contains(Column("status"))
                )
                .isEmpty(db) == false
        }
    }

    /// Commits the call at once. A second succeeded record of the same call is ignored.
    ///
    /// Group commit: while one transaction is being written, the calls that finish meanwhile wait
    /// and are written together in the next. A wide round finishes thousands of calls at once, and
    /// one transaction each made the database, not the models, the slowest part of the round.
    /// Returns once the call is committed.
    public func record(_ call: CallRecord) async throws {
        let row: [DatabaseValue]
        do {
            row = try CallRow(call, redactor: redactor).insertArguments()
        } catch {
            throw writeError(error)
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startsCommit = pendingCalls.withLock { state -> Bool in
                state.calls.append(PendingCall(row: row, continuation: continuation))
                guard !state.committing else { return false }
                state.committing = true
                return true
            }
            if startsCommit { commitPendingCalls() }
        }
    }

    private struct PendingCall: Sendable {
        let row: [DatabaseValue]
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// Writes every waiting call in one transaction, then the calls that arrived meanwhile, until none
    /// is left. A batch that fails is written again call by call, so one bad call fails alone.
    private func commitPendingCalls() {
        let batch = pendingCalls.withLock { state -> [PendingCall] in
            defer { state.calls = [] }
            if state.calls.isEmpty { state.committing = false }
            return state.calls
        }
        guard !batch.isEmpty else { return }
        let rows = batch.map(\.row)
        writer.asyncWrite({ db in
            let statement = try db.cachedStatement(sql: CallRow.insertSQL)
            for row in rows { try statement.execute(arguments: StatementArguments(row)) }
        }) { [self] _, result in
            switch result {
            case .success:
                for call in batch { call.continuation.resume() }
                commitPendingCalls()
            case .failure where batch.count > 1:
                commitOneByOne(batch[...])
            case .failure(let error):
                batch[0].continuation.resume(throwing: writeError(error))
                commitPendingCalls()
            }
        }
    }

    /// Writes `calls` one transaction each, then goes back to batches.
    private func commitOneByOne(_ calls: ArraySlice<PendingCall>) {
        guard let call = calls.first else { return commitPendingCalls() }
        writer.asyncWrite({ db in
            try db.cachedStatement(sql: CallRow.insertSQL).execute(arguments: StatementArguments(call.row))
        }) { [self] _, result in
            call.continuation.resume(with: result.mapError { writeError($0) })
            commitOneByOne(calls.dropFirst())
        }
    }

    func writeError(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        let code = (error as? DatabaseError)?.resultCode
        let advice =
            if code == .SQLITE_BUSY || code == .SQLITE_LOCKED {
                "another process held it locked for more than \(Int(Self.busyTimeout)) seconds"
            } else if code == .SQLITE_READONLY || code == .SQLITE_PERM {
                "check that the file and its folder are writable"
            } else {
                "check free disk space"
            }
        return StoreError(code: .io, message: "Writing to the run store at \(path) failed; \(advice).", cause: error)
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
            // GRDB's callback read, as `writeAsync` writes: its async read throws CancellationError in a
            // cancelled task, and after Ctrl-C a bench still reads its table from the ledger (the one
            // `bench resume` prints) and a batch its rows.
            return try await withCheckedThrowingContinuation { continuation in
                writer.asyncRead { database in continuation.resume(with: Result { try body(database.get()) }) }
            }
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
        } catch {
            throw writeError(error)
        }
    }
}
