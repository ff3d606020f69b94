import Foundation
import Testing

@testable import Refinery

/// A throwaway git repository in a temporary folder.
struct TemporaryGitRepository {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main")
        try git("config", "user.email", "test@example.com")
        try git("config", "user.name", "Test")
        try git("config", "commit.gpgsign", "false")
    }

    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    @discardableResult
    func git(_ arguments: String...) throws -> String {
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

    func commitAll(_ message: String) throws -> String {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
        return try git("rev-parse", "HEAD")
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: root)
    }
}

@Suite struct GitRepositoryTests {
    @Test func reportsHeadDirtyFlagAndOldContents() throws {
        let repository = try TemporaryGitRepository()
        defer { repository.cleanup() }
        try repository.write("workflows/review.yaml", "version: 1\n")
        let first = try repository.commitAll("v1")
        try repository.git("tag", "v1")
        try repository.write("workflows/review.yaml", "version: 2\n")
        let second = try repository.commitAll("v2")
        let file = repository.root.appendingPathComponent("workflows/review.yaml")

        let git = try #require(GitRepository.containing(file))
        #expect(git.relativePath(of: file) == "workflows/review.yaml")
        #expect(git.headCommit() == second)
        #expect(git.commit(of: "v1") == first)
        #expect(git.isDirty(file) == false)
        #expect(String(decoding: try git.contents(of: file, at: "v1"), as: UTF8.self) == "version: 1\n")

        try repository.write("workflows/review.yaml", "version: 3\n")
        #expect(git.isDirty(file) == true)
    }

    @Test func unknownRevisionIsAGitInputError() throws {
        let repository = try TemporaryGitRepository()
        defer { repository.cleanup() }
        try repository.write("a.yaml", "x\n")
        _ = try repository.commitAll("one")
        let file = repository.root.appendingPathComponent("a.yaml")
        let git = try #require(GitRepository.containing(file))
        do {
            _ = try git.contents(of: file, at: "no-such-tag")
            Issue.record("expected a git error")
        } catch let error as InputError {
            #expect(error.code == .git)
            #expect(error.message.hasPrefix("Cannot read a.yaml at revision no-such-tag"))
        }
        #expect(git.commit(of: "no-such-tag") == nil)
    }

    @Test func fileOutsideARepositoryHasNoRepository() {
        let file = URL(fileURLWithPath: "/proc/version")
        #expect(GitRepository.containing(file) == nil)
    }
}
