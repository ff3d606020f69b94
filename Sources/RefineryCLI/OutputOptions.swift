// How a run's result and progress are shown.

import ArgumentParser
import Foundation
import Refinery

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
    func validate() throws {
        guard let output else { return }
        if let problem = Self.unwritable(output) { throw ValidationError("--output \(output): \(problem)") }
    }

    /// `--output` onto the run store (or its `-wal`, `-shm`, `-checked` companions) would replace the ledger,
    /// every recorded run with it, by the result of this one: refused before the run (exit 4).
    func checkNotStore(_ service: RunService) throws {
        guard let output else { return }
        let store = service.resolvedStorePath
        let base = URL(fileURLWithPath: service.workingDirectory.path)
        func real(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.resolvingSymlinksInPath().path
        }
        let target = real(output)
        guard ["", "-wal", "-shm", "-checked", "-journal"].contains(where: { real(store + $0) == target }) else {
            return
        }
        throw InputError(
            code: .invalidOption,
            message: "--output \(output) is the run store (\(store)); writing the result there would destroy every "
                + "recorded run. Give another file.")
    }

    /// Why `path` cannot be written as a file, or `nil` when it can.
    static func unwritable(_ path: String) -> String? {
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
