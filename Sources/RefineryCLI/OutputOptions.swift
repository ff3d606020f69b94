// How a run's result and progress are shown.

import ArgumentParser
import Foundation
import Refinery
import RefineryStore

#if canImport(Glibc)
    import Glibc
#endif

struct OutputOptions: ParsableArguments {
    @Option(help: "text, json, markdown or jsonl (engine events, one per line, result last).")
    var outputFormat: OutputFormat = .text

    @Option(help: "Also save the full result (every round, answer and score) as JSON to this file.")
    var output: String?

    @Flag(help: "Print every member's and the arbiter's answers.")
    var raw = false

    @Flag(name: .shortAndLong, help: "No progress display.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Per-round scores on stderr.")
    var verbose = false

    @Flag(help: "Log provider requests and replies (credentials redacted) to stderr.")
    var debug = false

    /// `--output` is checked before the run: finding out after paying for it that the file cannot
    /// be written would lose the full result.
    func validate() throws { try check(keeping: []) }

    /// ``validate()``, and `--output` is none of `kept`: the files the command reads or records in.
    func check(keeping kept: [KeptFile]) throws {
        guard let output else { return }
        if let problem = Self.unwritable(output, keeping: kept) {
            throw ValidationError("--output \(output): \(problem)")
        }
    }

    /// Why `path` cannot be written as a file, or `nil` when it can: a folder, a missing or read-only
    /// folder, or one of `kept` under another name (the same path, a link to it).
    static func unwritable(_ path: String, keeping kept: [KeptFile] = []) -> String? {
        if let problem = Self.unwritableFile(path) { return problem }
        let identity = KeptFile.identity(path)
        guard let file = kept.first(where: { KeptFile.identity($0.path) == identity }) else { return nil }
        return "is \(file.role) (\(file.path)); writing there would destroy it. Give another file name."
    }

    private static func unwritableFile(_ path: String) -> String? {
        let manager = FileManager.default
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        if path.isEmpty { return "give a file name." }
        if manager.fileExists(atPath: url.path, isDirectory: &isFolder) {
            if isFolder.boolValue { return "is a folder; give a file name." }
            return manager.isWritableFile(atPath: url.path) ? nil : "the file is not writable."
        }
        let parent = url.deletingLastPathComponent().path
        guard manager.fileExists(atPath: parent, isDirectory: &isFolder), isFolder.boolValue else {
            return "the folder \(parent) does not exist."
        }
        return manager.isWritableFile(atPath: parent) ? nil : "the folder \(parent) is not writable."
    }
}

/// A file that `--output` or `-o` must never replace: one the command reads (its input file, its workflow) or
/// records in (a SQLite ledger with its `-wal` and `-shm`). Results written over it destroy it: the input that
/// `batch resume` needs, or every run in the ledger.
struct KeptFile {
    var path: String
    var role: String

    /// The files of `service`'s run store when it is a SQLite file (none for PostgreSQL).
    static func store(_ service: RunService) -> [KeptFile] {
        let path = service.resolvedStorePath
        guard !PostgresLocation.isPostgresURL(path), path != ":memory:" else { return [] }
        return ["", "-wal", "-shm", "-journal", "-checked"].map { KeptFile(path: path + $0, role: "the run store") }
    }

    /// `paths` that name existing files (a workflow argument may be a name or a prompt instead).
    static func existing(_ paths: [String], role: String) -> [KeptFile] {
        paths.filter { !$0.isEmpty && identity($0).hasPrefix("inode ") }.map { KeptFile(path: $0, role: role) }
    }

    /// What `path` names: the device and inode of an existing file, so every spelling of it and every hard or
    /// symbolic link to it compares equal; else its absolute path with the folder's links resolved.
    static func identity(_ path: String) -> String {
        var info = stat()
        if stat(path, &info) == 0 { return "inode \(info.st_dev) \(info.st_ino)" }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        return "path "
            + url.deletingLastPathComponent().resolvingSymlinksInPath()
            .appendingPathComponent(url.lastPathComponent).path
    }
}
