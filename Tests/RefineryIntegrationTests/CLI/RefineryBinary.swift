import Foundation

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

    /// Starts the binary; the caller waits or kills it.
    func start(
        _ arguments: [String], environment: [String: String], directory: URL, stdin: Data? = nil
    ) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        return (process, output, error)
    }

    /// Runs the binary to completion.
    func run(
        _ arguments: [String], environment: [String: String], directory: URL, stdin: Data? = nil
    ) async throws -> Result {
        let (process, output, error) = try start(
            arguments, environment: environment, directory: directory, stdin: stdin)
        async let outData = Self.readAll(output)
        async let errData = Self.readAll(error)
        let (out, err) = await (outData, errData)
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return Result(
            exitCode: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }

    static func readAll(_ pipe: Pipe) async -> Data {
        let handle = pipe.fileHandleForReading
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: handle.readDataToEndOfFile())
            }
        }
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
