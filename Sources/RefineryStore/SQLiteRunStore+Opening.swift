// Opening a store file safely: refusing what is not a file, a damaged file and a newer schema, and
// waiting out another process that is creating or migrating the same file at the same moment.

import Foundation
import GRDB
import RefineryCompiler
import Synchronization

extension SQLiteRunStore {
    /// Refuses a path that exists but is not a regular file: a folder cannot be opened, and SQLite
    /// would block forever on a FIFO or write into a device.
    static func checkIsFile(_ path: String) throws {
        if let kind = WorkflowFileSystem.notAFile(path) {
            throw StoreError(
                code: .cannotOpen,
                message: "The run store \(path) is \(kind), not a file; give a file path with --store "
                    + "(a new one is created).")
        }
    }

    /// Runs SQLite's quick integrity check on an existing file through a read-only connection, so a
    /// damaged file is reported before opening it for writing (which would write WAL state into it).
    /// Returns whether there is nothing to check: no file yet, or an empty one (a new store).
    @discardableResult
    static func checkIntegrity(_ path: String, configuration: Configuration) throws -> Bool {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else { return true }
        var readOnly = configuration
        readOnly.readonly = true
        let result = try opening(path) {
            try DatabaseQueue(path: path, configuration: readOnly).read { db in
                try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "; ")
            }
        }
        guard result == "ok" else { throw damaged(path, detail: result, cause: nil) }
        return false
    }

    /// What each connection sets up: `synchronous = NORMAL` (see the initializer), except on the first
    /// connection to a new file until it is in WAL mode. Switching an empty file to WAL writes its first
    /// page through a rollback journal, synced three times (journal, folder, file) and then deleted:
    /// nothing is recorded in it yet, so nothing can be lost, and the first checkpoint (at the latest when
    /// the store closes) writes that page again and syncs the file before the run ends. Only that switch
    /// goes unsynced: GRDB sets `NORMAL` right after it, and so does the initializer, before any write.
    static func synchronousSetting(creating: Bool) -> @Sendable (Database) throws -> Void {
        let unsyncedSwitch = Mutex(creating)
        return { db in
            let unsynced = unsyncedSwitch.withLock { first in
                defer { first = false }
                return first
            }
            try db.execute(sql: unsynced ? "PRAGMA synchronous = OFF" : "PRAGMA synchronous = NORMAL")
        }
    }

    /// Applies the migrations this build knows. Another process may be migrating the same new file:
    /// a migration that fails because that process applied it first is not an error, and the check
    /// is repeated until the schema is complete or a real failure remains.
    static func migrate(_ writer: any DatabaseWriter, path: String) throws {
        for _ in 0..<20 {
            let applied = try opening(path) { try writer.read { db in try migrator.appliedIdentifiers(db) } }
            let known = Set(migrator.migrations)
            let unknown = applied.subtracting(known)
            guard unknown.isEmpty else {
                throw StoreError(
                    code: .newerSchema,
                    message: "The run store at \(path) was written by a newer Refinery (migrations "
                        + "\(unknown.sorted().joined(separator: ", ")) are unknown to this version); upgrade "
                        + "Refinery or choose another file with --store.")
            }
            if applied == known { return }
            do {
                try opening(path) { try migrator.migrate(writer) }
                return
            } catch let error as StoreError where error.code != .migrationFailed {
                throw error
            } catch {
                let now = try opening(path) { try writer.read { db in try migrator.appliedIdentifiers(db) } }
                // Someone else made progress meanwhile: look again. Otherwise the failure is ours.
                if now != applied { continue }
                throw error
            }
        }
        throw StoreError(
            code: .migrationFailed,
            message: "Cannot bring the run store at \(path) up to date: other processes keep changing it. "
                + "Try again, or choose another file with --store.")
    }

    /// Runs `body`, retrying while another process holds the file (SQLite reports a new file's switch
    /// to WAL as locked without waiting), and maps SQLite's failures to a ``StoreError`` that says what
    /// to do.
    static func opening<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(busyTimeout)
        while true {
            do {
                return try body()
            } catch let error as DatabaseError {
                switch error.resultCode {
                case .SQLITE_BUSY, .SQLITE_LOCKED:
                    guard Date() < deadline else {
                        throw StoreError(
                            code: .cannotOpen,
                            message: "The run store at \(path) stayed locked by another process for "
                                + "\(Int(busyTimeout)) seconds; try again, or choose another file with --store.",
                            cause: error)
                    }
                    Thread.sleep(forTimeInterval: 0.02)
                case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                    throw damaged(path, detail: error.message ?? "\(error.resultCode)", cause: error)
                case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH, .SQLITE_IOERR, .SQLITE_FULL:
                    throw StoreError(
                        code: .cannotOpen,
                        message: "Cannot open the run store at \(path); check that the file and its folder are "
                            + "writable and the disk is not full, or choose another file with --store.",
                        cause: error)
                default:
                    throw StoreError(
                        code: .migrationFailed, message: "Cannot bring the run store at \(path) up to date.",
                        cause: error)
                }
            }
        }
    }

    private static func damaged(_ path: String, detail: String, cause: DatabaseError?) -> StoreError {
        StoreError(
            code: .damaged,
            message: "The run store at \(path) is damaged (\(detail)); Refinery has not changed it. Move it "
                + "aside (`mv \(path) \(path).damaged`) and a new store is created on the next run, or choose "
                + "another file with --store; `sqlite3 \(path).damaged .recover` may save its runs.",
            cause: cause)
    }
}
