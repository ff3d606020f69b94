// The owner of a run or batch on a SQLite ledger: an exclusive `flock` on a file of its own in the folder
// `FILE-owners` beside the ledger, named by the subject's key and holding the owner's pid and host. The
// kernel drops the lock when the process ends, however it ends, so a crashed run's file is taken over at
// once by the next owner. `flock` locks belong to an open file, not to a process: a second owner in the same
// process (another task, another store instance) is refused too. The file is removed when its owner lets
// go; one left by a crash is harmless and reused. A `:memory:` ledger is private to its store instance:
// its owners are kept in the instance.

import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SQLiteRunStore {
    /// Takes `subject`'s lock file, or throws ``StoreError/Code/live`` naming who holds it.
    public func takeOwnership(of subject: LedgerSubject) async throws -> LedgerOwnership {
        let key = subject.key
        guard path != ":memory:" else {
            guard memoryOwners.withLock({ $0.insert(key).inserted }) else {
                throw StoreError.live(subject, holder: nil)
            }
            return LedgerOwnership { [self] in _ = memoryOwners.withLock { $0.remove(key) } }
        }
        let folder = path + "-owners"
        let file = (folder as NSString).appendingPathComponent(String(format: "%016llx.lock", key))
        let lock = OwnerLockFile(path: file, descriptor: try Self.lock(file, folder: folder, subject: subject))
        return LedgerOwnership { lock.release() }
    }

    /// Opens and locks `file` (creating it and `folder`), writes this process into it and returns its
    /// descriptor.
    private static func lock(_ file: String, folder: String, subject: LedgerSubject) throws -> Int32 {
        while true {
            var descriptor = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if descriptor < 0, errno == ENOENT {
                // The folder's own failure (a read-only file system) says more than the open's "no such file".
                if mkdir(folder, 0o755) != 0, errno != EEXIST { throw ownershipError(file, errno: errno) }
                descriptor = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            }
            guard descriptor >= 0 else { throw ownershipError(file, errno: errno) }
            var locked = flock(descriptor, LOCK_EX | LOCK_NB)
            while locked != 0, errno == EINTR { locked = flock(descriptor, LOCK_EX | LOCK_NB) }
            if locked != 0 {
                let failure = errno
                let holder = failure == EWOULDBLOCK ? owner(descriptor) : nil
                closeDescriptor(descriptor)
                if failure == EWOULDBLOCK { throw StoreError.live(subject, holder: holder) }
                throw ownershipError(file, errno: failure)
            }
            // The file may have been removed (its owner let go) between the open and the lock: this lock is
            // then on a file nobody else will open. Start over on the file the name holds now.
            var opened = stat()
            var named = stat()
            guard fstat(descriptor, &opened) == 0, stat(file, &named) == 0, opened.st_ino == named.st_ino,
                opened.st_dev == named.st_dev
            else {
                closeDescriptor(descriptor)
                continue
            }
            let line = Array((StoreError.ownerDescription + "\n").utf8)
            _ = ftruncate(descriptor, 0)
            _ = line.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            return descriptor
        }
    }

    /// What the holder wrote into its lock file (`pid N on HOST`), `nil` when it is empty or unreadable.
    private static func owner(_ descriptor: Int32) -> String? {
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// A ledger whose folder cannot hold the lock files (read-only, not ours) cannot record a run: a
    /// configuration problem, found before any call (exit 4), as a store file that cannot be opened is.
    private static func ownershipError(_ file: String, errno code: Int32) -> StoreError {
        StoreError(
            code: .cannotOpen,
            message: "Cannot take the lock file \(file) that marks a run as live (\(String(cString: strerror(code)))); "
                + "check that the ledger's folder is writable.")
    }
}

/// A held lock file, released once.
private final class OwnerLockFile: Sendable {
    let path: String
    /// The locked descriptor, `nil` once released.
    private let descriptor: Mutex<Int32?>

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    func release() {
        let held = descriptor.withLock { descriptor in
            defer { descriptor = nil }
            return descriptor
        }
        guard let held else { return }
        // Removed while still locked: a process that opened it meanwhile sees it is gone and starts over.
        unlink(path)
        close(held)
    }
}

/// `close(2)`: inside the store's extension `close` names ``SQLiteRunStore/close()``.
private func closeDescriptor(_ descriptor: Int32) {
    close(descriptor)
}
