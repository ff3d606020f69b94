// Git facts about a workflow file: the commit and dirty flag recorded with a run, and the file's
// text at a named revision for `NAME@REV`. Runs `git` as a short-lived child process through
// swift-subprocess: asynchronously, with an argv array (no shell), stdin closed, and a timeout
// after which git is killed, so a hung repository (a lock, a slow network file system) cannot
// hang a command.

package import Foundation
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// The git repository holding a file, queried through the `git` command.
package struct GitRepository: Sendable {
    /// The repository's top-level folder.
    package var root: URL
    /// How long one git command may take before it is killed.
    package var timeout: Duration

    /// A repository at `root`.
    package init(root: URL, timeout: Duration = .seconds(30)) {
        self.root = root
        self.timeout = timeout
    }

    /// The repository holding `file`, or `nil` when it is not in one (or git is missing).
    package static func containing(_ file: URL, timeout: Duration = .seconds(30)) async -> GitRepository? {
        let folder = file.deletingLastPathComponent()
        guard let result = try? await git(["rev-parse", "--show-toplevel"], in: folder, timeout: timeout),
            result.status == 0
        else { return nil }
        let path = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : GitRepository(root: URL(fileURLWithPath: path), timeout: timeout)
    }

    /// `git rev-parse HEAD`, or `nil` in a repository without commits.
    package func headCommit() async -> String? {
        await commit(of: "HEAD")
    }

    /// The full commit id `revision` names, or `nil`.
    package func commit(of revision: String) async -> String? {
        guard
            let result = try? await Self.git(
                ["rev-parse", "--verify", "--quiet", revision + "^{commit}"], in: root, timeout: timeout),
            result.status == 0
        else { return nil }
        let commit = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }

    /// Whether `file` has uncommitted changes (or is untracked).
    package func isDirty(_ file: URL) async -> Bool {
        guard
            let result = try? await Self.git(
                ["status", "--porcelain", "--", relativePath(of: file)], in: root, timeout: timeout),
            result.status == 0
        else { return false }
        return !result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// What a run records of a workflow file: the commit checked out (`nil` in a repository without
    /// commits) and whether the file has uncommitted changes (or is untracked); `nil` when the file is not
    /// in a repository (or git is missing). One git process (`git status --porcelain=v2 --branch`), where
    /// ``containing(_:timeout:)``, ``headCommit()`` and ``isDirty(_:)`` take three, one after the other.
    ///
    /// `others` are the files the workflow is made of besides `file` (the bases it extends, its prompt files):
    /// a change to one of them in the same repository changes what runs, so it makes the workflow dirty too.
    /// Those of another repository (or of none) are not part of the commit recorded and are left out.
    package static func provenance(
        of file: URL, covering others: [URL] = [], timeout: Duration = .seconds(30)
    ) async -> (commit: String?, dirty: Bool)? {
        // The real file, as `isDirty` reports it: a symbolic link's target is what the run reads.
        let real = file.resolvingSymlinksInPath()
        let folder = real.deletingLastPathComponent()
        let arguments = ["status", "--porcelain=v2", "--branch", "--no-ahead-behind", "--", real.lastPathComponent]
        let covered = Set(others.map { $0.resolvingSymlinksInPath().path }).subtracting([real.path]).sorted()
        var result = try? await git(arguments + covered, in: folder, timeout: timeout)
        if !covered.isEmpty, result?.status != 0 {
            // One of them is outside this repository (git refuses the whole pathspec): ask about those inside.
            guard let root = await containing(real, timeout: timeout)?.root else { return nil }
            let repository = GitRepository(root: root, timeout: timeout)
            let inside = covered.filter { repository.holds(URL(fileURLWithPath: $0)) }
            result = try? await git(arguments + inside, in: folder, timeout: timeout)
        }
        guard let result, result.status == 0 else { return nil }
        var commit: String?
        var dirty = false
        for line in result.output.split(separator: "\n") {
            if line.hasPrefix("# branch.oid ") {
                let oid = line.dropFirst("# branch.oid ".count)
                // `(initial)` before the first commit.
                if oid.allSatisfy(\.isHexDigit) && !oid.isEmpty { commit = String(oid) }
            } else if !line.hasPrefix("#") {
                dirty = true
            }
        }
        return (commit, dirty)
    }

    /// The bytes of `file` at `revision` (`git show REV:PATH`).
    package func contents(of file: URL, at revision: String) async throws -> Data {
        let path = relativePath(of: file)
        let result = try await Self.git(["show", "\(revision):\(path)"], in: root, timeout: timeout)
        guard result.status == 0 else {
            // git's own sentence ends with a period; ours follows it.
            let reason = result.error.trimmingCharacters(in: .whitespacesAndNewlines)
            throw InputError(
                code: .git,
                message: "Cannot read \(path) at revision \(revision): "
                    + (reason.hasSuffix(".") ? String(reason.dropLast()) : reason)
                    + ". Check the revision with `git log -- \(path)`.")
        }
        return result.data
    }

    /// Whether `file` lies inside the repository's folder.
    package func holds(_ file: URL) -> Bool {
        let rootPath = root.resolvingSymlinksInPath().standardizedFileURL.path
        return file.resolvingSymlinksInPath().standardizedFileURL.path.hasPrefix(rootPath + "/")
    }

    /// `file`'s path relative to the repository root.
    package func relativePath(of file: URL) -> String {
        guard holds(file) else { return file.lastPathComponent }
        let rootPath = root.resolvingSymlinksInPath().standardizedFileURL.path
        return String(file.resolvingSymlinksInPath().standardizedFileURL.path.dropFirst(rootPath.count + 1))
    }

    struct Result: Sendable {
        var status: Int32
        var data: Data
        var error: String
        var output: String { String(decoding: data, as: UTF8.self) }
    }

    /// Workflow and prompt files are capped at 1 MB of input; anything far larger is not ours.
    private static let outputLimit = 16 << 20

    /// Runs `git -C folder arguments...`; throws an ``InputError`` (`.git`) when git cannot start,
    /// its output is too large, or it outlives `timeout` (it is then killed).
    static func git(_ arguments: [String], in folder: URL, timeout: Duration) async throws -> Result {
        let environment = Environment.inherit.updating(["GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"])
        let command = "git " + arguments.joined(separator: " ")
        let outcome: Result?
        do {
            outcome = try await run(arguments, in: folder, environment: environment, timeout: timeout)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw InputError(
                code: .git, message: "Cannot run `\(command)`: \(error). Check that git is installed and on PATH.")
        }
        guard let outcome else {
            throw InputError(
                code: .git,
                message: "`\(command)` did not finish within \(timeout); it was stopped. "
                    + "Check the repository (a stale lock file?) and retry.")
        }
        return outcome
    }

    /// `git`, located once per process by looking for the file on `PATH` (`.name("git")` made
    /// swift-subprocess try to spawn it in every `PATH` entry in turn: 8 forks a git call on a
    /// typical PATH, 3 git calls a recorded run); `.name` only when it is not found, for its error.
    private static let gitExecutable: Executable = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = folder.hasSuffix("/") ? "\(folder)git" : "\(folder)/git"
            if FileManager.default.isExecutableFile(atPath: candidate) { return .path(FilePath(candidate)) }
        }
        return .name("git")
    }()

    private static func run(
        _ arguments: [String], in folder: URL, environment: Environment, timeout: Duration
    ) async throws -> Result? {
        // git in its own process group, so a timeout also stops what it started (hooks, aliases, ssh).
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .milliseconds(200))
        ]
        let platformOptions = options
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                let result = try await Subprocess.run(
                    gitExecutable, arguments: Arguments(["-C", folder.path] + arguments), environment: environment,
                    platformOptions: platformOptions, input: .none, output: .bytes(limit: outputLimit),
                    error: .string(limit: 64 << 10))
                let status: Int32 =
                    switch result.terminationStatus {
                    case .exited(let code): code
                    case .signaled(let signal): 128 + signal
                    }
                return Result(status: status, data: Data(result.standardOutput), error: result.standardError)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            // The first to finish wins; cancelling the other kills git if it is the one still running.
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
