// The `command` provider against shell-script fake agents: prompt on stdin, whitelisted
// environment, exit statuses, and the whole process group killed on timeout and on cancel.

import Foundation
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct CommandProviderTests {
    /// Writes an executable script in a fresh directory and returns its path and directory.
    private func script(_ body: String) throws -> (path: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "refinery-agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("agent.sh").path
        try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return (path, directory)
    }

    private func run(
        _ agent: CommandAgent, variables: [String: String] = [:], timeout: Double = 10, prompt: String = "say hi"
    ) async throws -> ModelReply {
        let environment = ["PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"].merging(variables) { _, new in
            new
        }
        return try await ProviderRegistry.withRegistry(
            environment: ProviderEnvironment(environment: environment),
            configuration: ProvidersConfig(commands: [agent]),
            logger: quietLogger
        ) { registry in
            try await registry.provider(for: ModelRef(provider: "command", model: agent.name)).complete(
                ModelRequest(
                    model: ModelRef(provider: "command", model: agent.name), system: "SYSTEM",
                    messages: [ChatMessage(role: .user, content: prompt)], timeoutSeconds: timeout))
        }
    }

    @Test func promptGoesToStdinAndEnvironmentIsWhitelisted() async throws {
        let (path, directory) = try script(
            """
            printf 'model=%s\\n' "$1"
            tr a-z A-Z
            key=$(printf '%s' "${OPENAI_API_KEY:-unset}" | tr a-z A-Z)
            printf 'key=%s other=%s home=%s\\n' "$key" "${UNRELATED_SECRET:-unset}" "$HOME"
            printf 'echoed=%s\\n' "$OPENAI_API_KEY"
            """)
        defer { try? FileManager.default.removeItem(at: directory) }
        let reply = try await run(
            CommandAgent(name: "fake", argv: [path, "{model}"], environment: ["OPENAI_API_KEY"]),
            variables: ["OPENAI_API_KEY": "sk-agent-key-123", "UNRELATED_SECRET": "nope-nope-nope"])
        // The key reached the agent (upper-cased by the script); the agent echoing it gets it hidden.
        #expect(
            reply.text == "model=fake\nSYSTEM\n\nSAY HI\nkey=SK-AGENT-KEY-123 other=unset home=/tmp\nechoed=[REDACTED]")
        #expect(reply.usage.isEstimated)
        #expect(reply.model == "fake")
    }

    @Test func failingAgentReportsStatusAndStderr() async throws {
        let (path, directory) = try script("cat >/dev/null\necho 'quota gone' >&2\nexit 3\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = await providerError { _ = try await run(CommandAgent(name: "fake", argv: [path])) }
        #expect(error?.code == .server)
        #expect(error?.message == "`\(path)` exited with status 3: quota gone")
    }

    /// An agent that exits 0 with nothing on stdout (logged in elsewhere, wrong subcommand) is said to have
    /// printed nothing, with its stderr, and the hint is its command: it was "returned no text; retry or raise
    /// max_tokens", which no max_tokens cures.
    @Test(arguments: [
        (
            "cat >/dev/null\necho 'not logged in: run agent login' >&2\n",
            "; its stderr ends: not logged in: run agent login"
        ),
        ("cat >/dev/null\nprintf '  \\n'\n", " and nothing on stderr"),
    ])
    func agentThatPrintsNothingIsToldSo(body: String, stderr: String) async throws {
        let (path, directory) = try script(body)
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = await providerError { _ = try await run(CommandAgent(name: "fake", argv: [path])) }
        #expect(error?.code == .emptyResponse)
        #expect(
            error?.message
                == "`\(path)` exited with status 0 but printed nothing on stdout\(stderr); check the agent's argv "
                + "in providers.yaml (it must print its answer on stdout)")
        #expect(error?.message.contains("max_tokens") == false)
    }

    /// The error keeps the last 500 characters of stderr; a key cut by that excerpt must still
    /// be hidden, so the whole text is redacted before it is cut.
    @Test func keyCutByTheStderrExcerptIsStillHidden() async throws {
        let key = "sk-PLANTED-agent-0123456789"
        let (path, directory) = try script(
            "cat >/dev/null\nprintf 'bad key %s' \"$OPENAI_API_KEY\" >&2\nprintf '%0490d' 0 >&2\nexit 1\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = await providerError {
            _ = try await run(
                CommandAgent(name: "fake", argv: [path], environment: ["OPENAI_API_KEY"]),
                variables: ["OPENAI_API_KEY": key])
        }
        let message = try #require(error?.message)
        #expect(message.contains("[REDACTED]"))
        #expect(!message.contains("123456789"), "\(message)")
    }

    @Test func missingProgramIsUnsupported() async throws {
        let error = await providerError { _ = try await run(CommandAgent(name: "fake", argv: ["no-such-agent-xyz"])) }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("`no-such-agent-xyz` was not found on PATH") == true)
    }

    @Test func runawayOutputIsCutAtSixteenMebibytesAndTheAgentKilled() async throws {
        // Endless output: without the cap this would fill memory, then stall on a full pipe until the timeout.
        let (path, directory) = try script("cat >/dev/null\nyes 'an endless answer'\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = ContinuousClock()
        let started = clock.now
        let error = await providerError { _ = try await run(CommandAgent(name: "fake", argv: [path]), timeout: 60) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.message == "the command agent wrote more than 16 MiB to its standard output; it was killed")
        #expect(started.duration(to: clock.now) < .seconds(30))
    }

    /// The call's timeout kills the agent and the children it started. The timeout is the provider's own,
    /// on the wall clock: a loaded machine may pass it before the agent has started its child and written
    /// its pid, and such a call proves nothing about children. It is made again, with twice the timeout,
    /// until the agent wrote the pid of a child before the timeout killed it; every call must time out,
    /// and that child must be gone.
    @Test func timeoutKillsTheAgentAndItsChildren() async throws {
        let (path, directory) = try script("sleep 30 &\necho $! > \"$1\"\nwait\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("child.pid").path
        var timeout = 1.0
        var pid: pid_t?
        while pid == nil, timeout <= 32 {
            let error = await providerError {
                _ = try await run(CommandAgent(name: "fake", argv: [path, pidFile]), timeout: timeout)
            }
            #expect(error?.code == .timeout, "\(String(describing: error))")
            pid = childPID(pidFile)
            timeout *= 2
        }
        let child = try #require(pid)
        #expect(await isGone(child))
    }

    @Test func cancellationKillsTheAgentAndItsChildren() async throws {
        let (path, directory) = try script("sleep 30 &\necho $! > \"$1\"\nwait\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("child.pid").path
        let agent = CommandAgent(name: "fake", argv: [path, pidFile])
        let task = Task { try await run(agent, timeout: 60) }
        // Cancelled once its child is running: waits for the pid file, however long a loaded machine takes to
        // start the agent (the 30 s bound is only for an agent that never writes it).
        var pid: pid_t?
        let deadline = ContinuousClock.now + .seconds(30)
        while pid == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            pid = childPID(pidFile)
        }
        let child = try #require(pid)
        task.cancel()
        let error = await providerError { _ = try await task.value }
        #expect(error?.code == .cancelled)
        #expect(await isGone(child))
    }

    private func childPID(_ file: String) -> pid_t? {
        (try? String(contentsOfFile: file, encoding: .utf8)).flatMap {
            pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Whether `pid` has exited (gone, or a zombie awaiting its reaper), polling for up to 30 s: only a
    /// process that survives fails it, not a loaded machine slow to let a killed one go.
    private func isGone(_ pid: pid_t) async -> Bool {
        for _ in 0..<600 {
            if kill(pid, 0) != 0 { return true }
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if let close = stat.lastIndex(of: ")"), stat[close...].dropFirst(2).first == "Z" { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
