// Git facts about a workflow file: the commit and dirty flag recorded with a run, and the file's
// text at a named revision for `NAME@REV`. Runs `git` as a short-lived child process.

package import Foundation

/// The git repository holding a file, queried through the `git` command.
package struct GitRepository: Sendable {
    /// The repository's top-level folder.
    package var root: URL

    /// The repository holding `file`, or `nil` when it is not in one (or git is missing).
    package static func containing(_ file: URL) -> GitRepository? {
        let folder = file.deletingLastPathComponent()
        guard let result = try? Self.git(["rev-parse", "--show-toplevel"], in: folder), result.status == 0 else {
            return nil
        }
        let path = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : GitRepository(root: URL(fileURLWithPath: path))
    }

    /// `git rev-parse HEAD`, or `nil` in a repository without commits.
    package func headCommit() -> String? {
        commit(of: "HEAD")
    }

    /// The full commit id `revision` names, or `nil`.
    package func commit(of revision: String) -> String? {
        guard let result = try? Self.git(["rev-parse", "--verify", "--quiet", revision + "^{commit}"], in: root),
            result.status == 0
        else { return nil }
        let commit = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }

    /// Whether `file` has uncommitted changes (or is untracked).
    package func isDirty(_ file: URL) -> Bool {
        guard let result = try? Self.git(["status", "--porcelain", "--", relativePath(of: file)], in: root),
            result.status == 0
        else { return false }
        return !result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// The bytes of `file` at `revision` (`git show REV:PATH`).
    package func contents(of file: URL, at revision: String) throws -> Data {
        let path = relativePath(of: file)
        let result = try Self.git(["show", "\(revision):\(path)"], in: root)
        guard result.status == 0 else {
            throw InputError(
                code: .git,
                message: "Cannot read \(path) at revision \(revision): "
                    + result.error.trimmingCharacters(in: .whitespacesAndNewlines)
                    + ". Check the revision with `git log -- \(path)`.")
        }
        return result.data
    }

    /// `file`'s path relative to the repository root.
    package func relativePath(of file: URL) -> String {
        let rootPath = root.resolvingSymlinksInPath().standardizedFileURL.path
        let filePath = file.resolvingSymlinksInPath().standardizedFileURL.path
        guard filePath.hasPrefix(rootPath + "/") else { return file.lastPathComponent }
        return String(filePath.dropFirst(rootPath.count + 1))
    }

    private struct Result {
        var status: Int32
        var data: Data
        var error: String
        var output: String { String(decoding: data, as: UTF8.self) }
    }

    private static func git(_ arguments: [String], in folder: URL) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["LC_ALL"] = "C"
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain stdout before waiting so a large `git show` cannot fill the pipe and block git.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, data: data, error: String(decoding: errorData, as: UTF8.self))
    }
}
