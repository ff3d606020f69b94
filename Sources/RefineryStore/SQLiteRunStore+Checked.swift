// Skipping the full integrity check of a ledger that is provably as a `refinery` store left it.
//
// `PRAGMA quick_check` reads every page, so on a ledger of thousands of runs it cost every command tens of
// milliseconds, growing with the ledger (Benchmarks/README.md). At a clean, explicit close (the pool closed
// and no `-wal` file left) the store records the main file's identity in `FILE-checked`: device, inode,
// size, and modification and change times in nanoseconds. The next open skips the full check only when that
// file parses, the five fields match the file now and there is no `-wal` file. Any other writer, a file
// copied over it or a restored backup changes them (the change time is set by the kernel at every write and
// no program can set it back), and a crash leaves the `-wal` file: the full check runs as before.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What identifies the contents of a file without reading it: the same device, inode, size and times mean
/// nothing has written to it.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedNanoseconds: Int64
    var changedNanoseconds: Int64

    /// The identity of the file at `path` now, `nil` when it cannot be read (no file, no permission).
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(truncatingIfNeeded: info.st_dev)
        inode = UInt64(truncatingIfNeeded: info.st_ino)
        size = Int64(info.st_size)
        #if canImport(Glibc)
            modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            changedNanoseconds = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        #else
            modifiedNanoseconds =
                Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
            changedNanoseconds =
                Int64(info.st_ctimespec.tv_sec) * 1_000_000_000 + Int64(info.st_ctimespec.tv_nsec)
        #endif
    }

    init?(line: String) {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count == 6, fields[0] == Self.version, let device = UInt64(fields[1]),
            let inode = UInt64(fields[2]), let size = Int64(fields[3]), let modified = Int64(fields[4]),
            let changed = Int64(fields[5])
        else { return nil }
        self.device = device
        self.inode = inode
        self.size = size
        modifiedNanoseconds = modified
        changedNanoseconds = changed
    }

    /// What the `-checked` file holds: one line, so anything else in it (garbage, another version) is not
    /// a match and costs only a full check.
    var line: String {
        "\(Self.version) \(device) \(inode) \(size) \(modifiedNanoseconds) \(changedNanoseconds)\n"
    }

    private static let version = "refinery-checked-v1"
}

extension SQLiteRunStore {
    /// The file beside the ledger that records its identity at the last clean close.
    package static func checkedPath(_ path: String) -> String { path + "-checked" }

    /// Removes the `-checked` file of `path` (`unlink`: never a folder someone made under that name).
    static func removeChecked(_ path: String) { _ = unlink(checkedPath(path)) }

    /// Whether the file at `path` is as a clean close of a store left it after that store's own check:
    /// its `-checked` file matches it, and there is no `-wal` file (a writer is open, or one crashed).
    /// Anything unreadable or unexpected answers `false`: a full check, never an error.
    static func isUnchangedSinceCleanClose(_ path: String) -> Bool {
        let sidecar = checkedPath(path)
        guard !FileManager.default.fileExists(atPath: path + "-wal"),
            let data = FileManager.default.contents(atPath: sidecar), data.count < 256,
            let recorded = FileIdentity(line: String(decoding: data, as: UTF8.self)), recorded.size > 0,
            let witness = FileIdentity(path: sidecar), let now = FileIdentity(path: path)
        else { return false }
        // A write in the same clock tick as the last one would keep the change time: the `-checked` file
        // must have been written in a later tick than the ledger's last change (what `recordCleanClose`
        // waits for), or the match proves nothing.
        return now == recorded && witness.modifiedNanoseconds > recorded.changedNanoseconds
    }

    /// Records the identity of the file at `path` after its pool closed, when no `-wal` file is left (no
    /// other connection, here or in another process, has it open). Best effort: a failure leaves no
    /// `-checked` file, and the next open checks in full.
    static func recordCleanClose(_ path: String) {
        let sidecar = checkedPath(path)
        removeChecked(path)
        guard !FileManager.default.fileExists(atPath: path + "-wal"), let identity = FileIdentity(path: path)
        else { return }
        let temporary = sidecar + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(identity.line.utf8)) else { return }
        // The file system's clock ticks coarsely (a few milliseconds): wait until it has moved past the
        // ledger's last change, so that any later write to the ledger gets a later change time. The
        // temporary file's own time is that clock; give up after 50 ms (a file system with coarse times).
        for _ in 0..<50 {
            guard let witness = FileIdentity(path: temporary) else { break }
            if witness.modifiedNanoseconds > identity.changedNanoseconds {
                if rename(temporary, sidecar) == 0, FileIdentity(path: path) == identity { return }
                break
            }
            Thread.sleep(forTimeInterval: 0.001)
            _ = utimes(temporary, nil)
        }
        _ = unlink(temporary)
        removeChecked(path)
    }
}
