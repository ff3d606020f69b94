import Foundation
import Testing

@testable import Refinery

/// A throwaway git repository in a temporary folder.
struct TemporaryGitRepository {
    let root: URL

    init() async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try await git("init", "-q", "-b", "main")
        try await git("config", "user.email", "test@example.com")
        try await git("config", "user.name", "Test")
        try await git("config", "commit.gpgsign", "false")
    }

    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    @discardableResult
    func git(_ arguments: String...) async throws -> String {
        let root = root
        return try await offloaded { try Self.runGit(arguments, in: root) }
    }

    private static func runGit(_ arguments: [String], in root: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", root.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InputError(code: .git, message: "git \(arguments.joined(separator: " ")) failed")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func commitAll(_ message: String) async throws -> String {
        try await git("add", "-A")
        try await git("commit", "-q", "-m", message)
        return try await git("rev-parse", "HEAD")
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: root)
    }
}

@Suite struct GitRepositoryTests {
    @Test func reportsHeadDirtyFlagAndOldContents() async throws {
        let repository = try await TemporaryGitRepository()
        defer { repository.cleanup() }
        try repository.write("workflows/review.yaml", "version: 1\n")
        let first = try await repository.commitAll("v1")
        try await repository.git("tag", "v1")
        try repository.write("workflows/review.yaml", "version: 2\n")
        let second = try await repository.commitAll("v2")
        let file = repository.root.appendingPathComponent("workflows/review.yaml")

        let git = try #require(await GitRepository.containing(file))
        #expect(git.relativePath(of: file) == "workflows/review.yaml")
        #expect(await git.headCommit() == second)
        #expect(await git.commit(of: "v1") == first)
        #expect(await git.isDirty(file) == false)
        #expect(
            String(decoding: try await git.contents(of: file, at: "v1"), as: UTF8.self)
                == "version: 1\n")

        try repository.write("workflows/review.yaml", "version: 3\n")
        #expect(await git.isDirty(file) == true)
    }

    /// `provenance(of:)` (one git process) says what `containing`, `headCommit` and `isDirty` (three) say:
    /// clean, changed, untracked, before the first commit, outside a repository.
    @Test func provenanceIsWhatTheThreeQueriesSay() async throws {
        let repository = try await TemporaryGitRepository()
        defer { repository.cleanup() }
        let file = repository.root.appendingPathComponent("workflows/review.yaml")
        try repository.write("workflows/review.yaml", "version: 1\n")
        let initial = try #require(await GitRepository.provenance(of: file))
        #expect(initial.commit == nil && initial.dirty)
        #expect(await GitRepository.containing(file)?.headCommit() == nil)
        let commit = try await repository.commitAll("v1")
        let clean = try #require(await GitRepository.provenance(of: file))
        #expect(clean.commit == commit && !clean.dirty)
        try repository.write("workflows/review.yaml", "version: 2\n")
        let changed = try #require(await GitRepository.provenance(of: file))
        #expect(changed.commit == commit && changed.dirty)
        let untracked = repository.root.appendingPathComponent("workflows/new.yaml")
        try repository.write("workflows/new.yaml", "version: 1\n")
        #expect(await GitRepository.provenance(of: untracked)?.dirty == true)
        #expect(await GitRepository.containing(untracked)?.isDirty(untracked) == true)
        #expect(await GitRepository.provenance(of: URL(fileURLWithPath: "/proc/version")) == nil)
    }

    @Test func unknownRevisionIsAGitInputError() async throws {
        let repository = try await TemporaryGitRepository()
        defer { repository.cleanup() }
        try repository.write("a.yaml", "x\n")
        _ = try await repository.commitAll("one")
        let file = repository.root.appendingPathComponent("a.yaml")
        let git = try #require(await GitRepository.containing(file))
        do {
            _ = try await git.contents(of: file, at: "no-such-tag")
            Issue.record("expected a git error")
        } catch let error as InputError {
            #expect(error.code == .git)
            #expect(error.message.hasPrefix("Cannot read a.yaml at revision no-such-tag"))
            // git's sentence ends with a period, and ours must not add a second one after it.
            #expect(!error.message.contains(".."), "\(error.message)")
        }
        #expect(await git.commit(of: "no-such-tag") == nil)
    }

    @Test func fileOutsideARepositoryHasNoRepository() async throws {
        let file = URL(fileURLWithPath: "/proc/version")
        #expect(await GitRepository.containing(file) == nil)
    }

    @Test func aHungGitIsStoppedAtTheTimeout() async throws {
        let repository = try await TemporaryGitRepository()
        defer { repository.cleanup() }
        // An alias that never ends stands in for a hung git (a lock, a dead network mount).
        let started = ContinuousClock.now
        do {
            _ = try await GitRepository.git(
                ["-c", "alias.hang=!sleep 30", "hang"], in: repository.root, timeout: .milliseconds(300))
            Issue.record("expected a timeout")
        } catch let error as InputError {
            #expect(error.code == .git)
            #expect(error.message.hasPrefix("`git -c alias.hang=!sleep 30 hang` did not finish within"))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func argumentsAreAnArgvNotAShellLine() async throws {
        let repository = try await TemporaryGitRepository()
        defer { repository.cleanup() }
        try repository.write("a b; echo pwned.yaml", "x\n")
        _ = try await repository.commitAll("one")
        let git = try #require(await GitRepository.containing(repository.root.appendingPathComponent("a.yaml")))
        let file = repository.root.appendingPathComponent("a b; echo pwned.yaml")
        #expect(String(decoding: try await git.contents(of: file, at: "HEAD"), as: UTF8.self) == "x\n")
        #expect(await git.isDirty(file) == false)
    }
}
