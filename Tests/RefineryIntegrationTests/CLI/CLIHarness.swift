import Foundation
import Testing

/// Shared pieces of the end-to-end tests: the fake model replies, the models, the schema check.
enum CLIHarness {
    /// One reply that every stage can use: as an answer it is text; as an evaluation it carries a
    /// score; as a synthesis it carries the synthesis fields.
    static func universalReply(score: Int = 9, confidence: Double = 0.95) -> String {
        """
        {"answer":"Four.","strengths":["correct"],"weaknesses":[],"suggestions":[],"rationale":"It is right.",\
        "score":\(score),"synthesis":"Four.","confidence":\(confidence),"dissent":"","refinement_areas":[],\
        "needs_iteration":false,"ranking":[]}
        """
    }

    /// Three real OpenAI model names (priced in the catalog).
    static let threeModels = "openai/gpt-4o,openai/gpt-4o-mini,openai/o3"

    static let openAIKey = "sk-test-PLANTED-abcdefghijkl"

    /// The sandbox environment pointed at `baseURL` with a fake OpenAI key.
    static func environment(home: URL, baseURL: String, key: Bool = true) -> [String: String] {
        var extra = ["OPENAI_BASE_URL": baseURL, "ANTHROPIC_BASE_URL": baseURL, "GEMINI_BASE_URL": baseURL]
        if key { extra["OPENAI_API_KEY"] = openAIKey }
        return RefineryBinary.environment(home: home, extra: extra)
    }

    /// What `binary ARGUMENTS` wrote on a pseudo-terminal made by util-linux `script` (so the binary's own
    /// `isatty` decides, as it does for a user), after the shell command `setup` (e.g. `stty cols 20; `).
    static func onTerminal(
        _ binary: RefineryBinary, _ arguments: [String], setup: String = "", environment: [String: String],
        directory: URL
    ) async throws -> RefineryBinary.Result {
        let script = URL(fileURLWithPath: "/usr/bin/script")
        try #require(
            FileManager.default.isExecutableFile(atPath: script.path), "util-linux `script` is not installed")
        let command = ([binary.url.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try await RefineryBinary(url: script).run(
            ["-qefc", setup + command, "/dev/null"], environment: environment, directory: directory)
    }

    static func json(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(text.prefix(200))")
    }

    /// Runs `binary` with stdout and stderr on a pseudo-terminal (python3's pty module); what it wrote
    /// comes back as `stdout` (with the terminal's `\r\n` line ends).
    static func onTerminal(
        _ binary: RefineryBinary, _ arguments: [String], environment: [String: String], directory: URL
    ) async throws -> RefineryBinary.Result {
        let script = """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            out = b""
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            _, status = os.waitpid(pid, 0)
            sys.stdout.buffer.write(out)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let python = RefineryBinary(url: URL(fileURLWithPath: "/usr/bin/env"))
        return try await python.run(
            ["python3", "-c", script, binary.url.path] + arguments, environment: environment, directory: directory)
    }

    /// Errors of `document` against `schemas/SCHEMA` (the run output by default), or `nil` when python3's
    /// jsonschema is not installed (the caller records a skip reason).
    static func schemaErrors(_ document: String, schema: String = "run-output.schema.json") async throws -> [String]? {
        try await offloaded { try schemaErrorsBlocking(document, schema: schema) }
    }

    private static func schemaErrorsBlocking(_ document: String, schema name: String) throws -> [String]? {
        let schema = packageRoot.appendingPathComponent("schemas/" + name)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "refinery-doc-\(UUID().uuidString).json")
        try Data(document.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import json, sys
            try:
                import jsonschema
            except ImportError:
                sys.exit(3)
            schema = json.load(open(sys.argv[1]))
            doc = json.load(open(sys.argv[2]))
            errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
            print("\\n".join(errors))
            sys.exit(1 if errors else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, schema.path, file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 3 || process.terminationStatus == 127 { return nil }
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? [] : text.components(separatedBy: "\n")
    }

    /// Whether python3 with the jsonschema package is installed (the schema tests need it).
    static let jsonSchemaAvailable = pythonImports("jsonschema")

    /// Whether python3 is installed and can import `module`.
    static func pythonImports(_ module: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import \(module)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// The package root (the folder holding Package.swift), found from this source file.
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()
}

/// Every test that runs the real binary, one at a time: each starts processes and servers, and
/// running them side by side would load the machine enough to trip other suites' short timeouts.
@Suite(.serialized) enum CLIEndToEnd {}

/// Runs blocking work (waiting for a child process) on a thread of its own. Not on the
/// cooperative pool, and not on a dispatch queue either: on Linux a blocked dispatch thread is
/// one the cooperative pool, and so every other suite's async code, no longer gets.
func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
