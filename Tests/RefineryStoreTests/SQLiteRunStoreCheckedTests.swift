import Foundation
import RefineryStore
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The full integrity check is skipped only for a file provably as a clean, explicit close left it; every
/// other way a file can have changed since leads to the full check.
@Suite struct SQLiteRunStoreCheckedTests {
    /// A ledger of 40 runs (several pages), closed explicitly (its `-checked` file written).
    private func closedLedger(_ database: TemporaryDatabase) async throws {
        let store = try SQLiteRunStore(path: database.path)
        for index in 0..<40 { try await store.createRun(Fixture.run(id: "run-\(index)")) }
        store.close()
    }

    /// Writes `bytes` over the file in place (the same inode, as a program scribbling on it would).
    private func overwrite(_ path: String, with bytes: Data) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: bytes)
        try handle.close()
    }

    @Test func afterAnExplicitCloseTheNextOpenSkipsTheFullCheck() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try await closedLedger(database)
        #expect(FileManager.default.fileExists(atPath: database.path + "-checked"))
        #expect(!FileManager.default.fileExists(atPath: database.path + "-wal"))
        let store = try SQLiteRunStore(path: database.path)
        #expect(store.checkedInFull == false)
        #expect(try await store.listRuns(limit: 100).count == 40)
        // The `-checked` file exists only between a clean close and the next open.
        #expect(!FileManager.default.fileExists(atPath: database.path + "-checked"))
        store.close()
        store.close()
        #expect(try SQLiteRunStore(path: database.path).checkedInFull == false)
    }

    /// A store that is never closed explicitly (a crash, `kill -9`, an older binary) leaves no record: the
    /// next open checks in full, and so does an open while another connection holds the file (`-wal`).
    @Test func aLedgerWhoseLastWriterDidNotCloseItIsCheckedInFull() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try await closedLedger(database)
        do {
            let writer = try SQLiteRunStore(path: database.path)
            #expect(writer.checkedInFull == false)
            try await writer.createRun(Fixture.run(id: "late"))
            #expect(try SQLiteRunStore(path: database.path).checkedInFull)
        }
        #expect(try SQLiteRunStore(path: database.path).checkedInFull)
    }

    @Test func aFileWrittenAfterTheCloseIsCheckedInFull() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try await closedLedger(database)
        // The same bytes written again: nothing differs but the change time.
        let bytes = try #require(FileManager.default.contents(atPath: database.path))
        try overwrite(database.path, with: bytes)
        #expect(try SQLiteRunStore(path: database.path).checkedInFull)
    }

    @Test func aFileScribbledAfterTheCloseIsRefused() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try await closedLedger(database)
        var bytes = try #require(FileManager.default.contents(atPath: database.path))
        try #require(bytes.count > 8192)
        for offset in 4096..<4200 { bytes[offset] = 0xA5 }
        try overwrite(database.path, with: bytes)
        let error = try #require(throws: StoreError.self) { try SQLiteRunStore(path: database.path) }
        #expect(error.code == .damaged)
    }

    @Test func aLeftoverWriteAheadLogLeadsToTheFullCheck() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try await closedLedger(database)
        #expect(FileManager.default.createFile(atPath: database.path + "-wal", contents: Data()))
        #expect(try SQLiteRunStore(path: database.path).checkedInFull)
    }

    @Test func anotherLedgerCopiedOverItIsCheckedInFull() async throws {
        let database = try TemporaryDatabase()
        let other = try TemporaryDatabase()
        defer {
            database.cleanup()
            other.cleanup()
        }
        try await closedLedger(database)
        try await closedLedger(other)
        // Copied over it as a new file (another inode), its own `-checked` file left behind.
        try FileManager.default.removeItem(atPath: database.path)
        try FileManager.default.copyItem(atPath: other.path, toPath: database.path)
        #expect(try SQLiteRunStore(path: database.path).checkedInFull)
        // Its `-checked` file copied along too: the inode and change time still differ.
        try FileManager.default.removeItem(atPath: database.path)
        try FileManager.default.copyItem(atPath: other.path, toPath: database.path)
        try? FileManager.default.removeItem(atPath: database.path + "-checked")
        try FileManager.default.copyItem(atPath: other.path + "-checked", toPath: database.path + "-checked")
        #expect(try SQLiteRunStore(path: database.path).checkedInFull)
    }

    /// Whatever the `-checked` file holds, it is at worst a full check, never an error.
    @Test(arguments: [
        "", "garbage", "refinery-checked-v1 1 2 3 4 5\n", "refinery-checked-v1 -1 x y z w\n",
        String(repeating: "refinery-checked-v1 ", count: 100), "\u{0}\u{FF}\n\n",
    ])
    func aCheckedFileWithGarbageLeadsToTheFullCheck(content: String) async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try await closedLedger(database)
        #expect(FileManager.default.createFile(atPath: database.path + "-checked", contents: Data(content.utf8)))
        #expect(try SQLiteRunStore(path: database.path).checkedInFull)
    }

    @Test func aCheckedFolderLeadsToTheFullCheckAndIsKept() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try await closedLedger(database)
        try FileManager.default.removeItem(atPath: database.path + "-checked")
        try FileManager.default.createDirectory(atPath: database.path + "-checked", withIntermediateDirectories: false)
        let store = try SQLiteRunStore(path: database.path)
        #expect(store.checkedInFull)
        store.close()
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: database.path + "-checked", isDirectory: &isFolder))
        #expect(isFolder.boolValue)
    }

    /// A record written in the same clock tick as the file's last change proves nothing (a write in that
    /// tick would keep the change time): the record must be younger than the change it records.
    @Test func aRecordNoYoungerThanTheFilesLastChangeLeadsToTheFullCheck() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try await closedLedger(database)
        // The record's own time set back to 2001: older than the change it records.
        var times = [timeval(tv_sec: 1_000_000_000, tv_usec: 0), timeval(tv_sec: 1_000_000_000, tv_usec: 0)]
        #expect(utimes(database.path + "-checked", &times) == 0)
        #expect(try SQLiteRunStore(path: database.path).checkedInFull)
    }
}
