// The PostgreSQL server the fault tests restart and stop (`REFINERY_TEST_POSTGRES_FAULTS` and its
// commands, which `.ci/postgres.sh` exports): a cluster of its own, so that an outage one test causes never
// reaches the tests that share `REFINERY_TEST_POSTGRES` beside it. The fault tests themselves take turns on
// it (`FaultServer.exclusively`): one test's stop must not meet another's restart.

import Foundation

/// The fault tests' PostgreSQL server and the commands that restart, stop and start it.
package enum FaultServer {
    private static let environment = ProcessInfo.processInfo.environment

    /// Its URL (with the password), or `nil` when no fault server is named.
    package static let url: String? = value("REFINERY_TEST_POSTGRES_FAULTS")
    /// `pg_ctl ... restart`, `stop` and `start` for it.
    package static let restart: String? = value("REFINERY_TEST_POSTGRES_RESTART")
    package static let stop: String? = value("REFINERY_TEST_POSTGRES_STOP")
    package static let start: String? = value("REFINERY_TEST_POSTGRES_START")

    /// Whether the fault tests run: the server and its commands are named, or CI requires them (and they fail
    /// when something is missing).
    package static let enabled =
        environment["CI"] == "true" || (url != nil && restart != nil && stop != nil && start != nil)

    /// Why the fault tests are skipped.
    package static let skipReason =
        "REFINERY_TEST_POSTGRES_FAULTS and REFINERY_TEST_POSTGRES_RESTART, _STOP and _START do not name a "
        + "PostgreSQL server the tests may restart and how; `source .ci/postgres.sh && postgres_start` starts one"

    private static func value(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    private static let turns = Turns()

    /// Runs `body` while no other fault test runs (they restart and stop one server).
    package static func exclusively<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await turns.acquire()
        do {
            let result = try await body()
            await turns.release()
            return result
        } catch {
            await turns.release()
            throw error
        }
    }
}

/// One holder at a time, the others waiting in order.
private actor Turns {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            held = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}

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
