import Foundation

/// Runs a shell command that starts or restarts a server for a test (the test PostgreSQL server's
/// `REFINERY_TEST_POSTGRES_RESTART`, `_STOP`, `_START`).
public enum ServerCommand {
    /// Runs `command` through python3's subprocess, which closes inherited descriptors: a server the
    /// command starts must not inherit the pipe by which Foundation learns that its child exited, or the
    /// wait would last as long as the server. Polls without blocking a thread; returns the exit status.
    public static func run(_ command: String) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1] + ' >/dev/null 2>&1', shell=True))",
            command,
        ]
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }
}
