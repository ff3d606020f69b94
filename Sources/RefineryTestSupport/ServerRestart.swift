// Restarting the test PostgreSQL server from a test (`REFINERY_TEST_POSTGRES_RESTART`, which
// `.ci/postgres.sh` exports): the fault tests of the store and of the workers.

import Foundation

/// Runs a command that restarts a server, and waits for it without blocking a thread.
package enum ServerRestart {
    /// Runs `command` through the shell and returns its exit status. Through python3's subprocess, which
    /// closes inherited descriptors: the restarted server must not inherit the pipe by which Foundation
    /// learns that its child exited (it would then never learn it).
    package static func run(_ command: String) async throws -> Int32 {
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
