import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `refinery` executable, run as a child process by the end-to-end tests.
struct RefineryBinary {
    struct Result {
        var exitCode: Int32
        var stdout: String
        var stderr: String
    }

    let url: URL

    /// `.build/<triple>/debug/refinery`, next to the test bundle; `nil` when it was not built.
    static func locate() -> RefineryBinary? {
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.appendingPathComponent("refinery"))
            folder = folder.deletingLastPathComponent()
        }
        for bundle in Bundle.allBundles {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("refinery"))
        }
        let found = candidates.first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: url.path)
        }
        return found.map(RefineryBinary.init(url:))
    }

    /// A sandbox environment: temporary XDG folders, no real credentials, no colour.
    static func environment(home: URL, extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home.path,
            "XDG_DATA_HOME": home.appendingPathComponent("data").path,
            "XDG_CONFIG_HOME": home.appendingPathComponent("config").path,
            "NO_COLOR": "1",
        ]
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// A started binary whose output goes to temporary files.
    ///
    /// Files, not pipes: reading a pipe blocks a thread for the child's whole life, and on Linux a
    /// blocked dispatch thread is one the cooperative pool (and every other suite's async code)
    /// no longer gets.
    struct Running {
        let process: Process
        let stdoutFile: URL
        let stderrFile: URL

        /// Sends SIGKILL once `ready()` holds (or after 30 s, or when the process ended by itself) and
        /// waits until the process is gone.
        func kill(when ready: () -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while !ready() && process.isRunning && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            Glibc.kill(process.processIdentifier, SIGKILL)
            try await wait()
        }

        /// Waits (without blocking a thread) until the process has exited.
        func wait() async throws {
            while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        }

        /// Everything the process wrote, once it has exited; the files are removed.
        func result() throws -> Result {
            defer {
                try? FileManager.default.removeItem(at: stdoutFile)
                try? FileManager.default.removeItem(at: stderrFile)
            }
            return Result(
                exitCode: process.terminationStatus,
                stdout: String(
                    decoding: FileManager.default.contents(atPath: stdoutFile.path) ?? Data(), as: UTF8.self),
                stderr: String(decoding: FileManager.default.contents(atPath: stderrFile.path) ?? Data(), as: UTF8.self)
            )
        }
    }

    /// Starts the binary; the caller waits or kills it.
    func start(
        _ arguments: [String], environment: [String: String], directory: URL, stdin: Data? = nil
    ) throws -> Running {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-out-\(UUID().uuidString)")
        let stdoutFile = base.appendingPathExtension("stdout")
        let stderrFile = base.appendingPathExtension("stderr")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: stdoutFile)
        let error = try FileHandle(forWritingTo: stderrFile)
        defer {
            try? output.close()
            try? error.close()
        }
        process.standardOutput = output
        process.standardError = error
        let input = Pipe()
        process.standardInput = input
        try process.run()
        // Small inputs only: they fit the pipe's buffer, so this write does not block.
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        return Running(process: process, stdoutFile: stdoutFile, stderrFile: stderrFile)
    }

    /// Runs the binary to completion.
    func run(
        _ arguments: [String], environment: [String: String], directory: URL, stdin: Data? = nil
    ) async throws -> Result {
        let running = try start(arguments, environment: environment, directory: directory, stdin: stdin)
        try await running.wait()
        return try running.result()
    }
}

/// A temporary folder used as HOME and working directory of one test.
struct Sandbox {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func write(_ path: String, _ data: Data) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: root)
    }
}

extension RefineryBinary {
    /// `refinery runs list --store STORE --output-format json`, parsed: newest run first.
    func listRuns(store: String, environment: [String: String], directory: URL) async throws -> [[String: Any]] {
        let list = try await run(
            ["runs", "list", "--store", store, "--output-format", "json"], environment: environment,
            directory: directory)
        return try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    }
}
