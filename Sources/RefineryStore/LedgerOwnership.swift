// One live owner per run and per batch: the process that runs or resumes it holds its ownership, and
// another `resume` of it is refused while it does, so no call is paid twice. The operating system or the
// database server lets go of it when that process ends, however it ends (`kill -9` included): resuming a
// crashed run needs no clean-up. SQLite holds it with a file lock beside the ledger
// (SQLiteRunStore+Ownership), PostgreSQL with a session advisory lock (PostgresRunStore+Ownership).

import Foundation

/// What a process owns while it runs: a run, or a batch (or bench) with the runs of its items.
public enum LedgerSubject: Sendable, Hashable, CustomStringConvertible {
    /// A run, by its full id.
    case run(String)
    /// A batch or bench (`kind`), by its full id.
    case batch(String, kind: String)

    /// `run ID`, `batch ID` or `bench ID`.
    public var description: String {
        switch self {
        case .run(let id): "run \(id)"
        case .batch(let id, let kind): "\(kind) \(id)"
        }
    }

    /// The command that finishes it once nothing else runs it.
    var resumeCommand: String {
        switch self {
        case .run(let id): "refinery resume \(id)"
        case .batch(let id, let kind): "refinery \(kind) resume \(id)"
        }
    }

    /// The lock's key: a run and a batch never share one, whatever ids were chosen. A 64-bit FNV-1a hash
    /// (the same on every machine and in every version): two subjects meet only by a 2^-64 chance.
    var key: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let text: String
        switch self {
        case .run(let id): text = "run\u{1F}" + id
        case .batch(let id, _): text = "batch\u{1F}" + id
        }
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// The ownership of a run or batch, held until ``release()`` (or until the process ends).
public struct LedgerOwnership: Sendable {
    private let releasing: @Sendable () async -> Void

    /// An ownership that `release` gives up. A store returns one from ``RunStore/takeOwnership(of:)``.
    public init(release: @escaping @Sendable () async -> Void) {
        releasing = release
    }

    /// Gives the ownership up: another process may resume the subject now.
    public func release() async {
        await releasing()
    }
}

extension RunStore {
    /// Runs `body` as the one live owner of `subject`, and gives the ownership up when `body` returns or
    /// throws: the one way the application holds a run or a batch.
    ///
    /// - Throws: ``StoreError/Code/live`` (before `body` runs) when another process, or another task of
    ///   this one, owns `subject`.
    public func withOwnership<T>(of subject: LedgerSubject, _ body: () async throws -> T) async throws -> T {
        try await LedgerOwnership.holding(try await takeOwnership(of: subject), body)
    }
}

extension LedgerOwnership {
    /// Runs `body` while `ownership` (if any) is held, and releases it when `body` returns or throws.
    public static func holding<T>(_ ownership: LedgerOwnership?, _ body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            await ownership?.release()
            return value
        } catch {
            await ownership?.release()
            throw error
        }
    }
}

extension StoreError {
    /// The refusal of a subject another owner holds: what it is, who holds it (when known), what to do.
    static func live(_ subject: LedgerSubject, holder: String?) -> StoreError {
        let who = holder.map { " (\($0))" } ?? ""
        return StoreError(
            code: .live,
            message: "\(subject.description.prefix(1).uppercased() + subject.description.dropFirst()) is live in "
                + "another process\(who): resuming it now would pay its unfinished calls twice. Wait for that "
                + "process to finish, or stop it (Ctrl-C, or kill it), then `\(subject.resumeCommand)`.")
    }

    /// `pid N on HOST`: how an owner describes itself to the process it refuses.
    static var ownerDescription: String {
        let info = ProcessInfo.processInfo
        return "pid \(info.processIdentifier) on \(info.hostName)"
    }
}
