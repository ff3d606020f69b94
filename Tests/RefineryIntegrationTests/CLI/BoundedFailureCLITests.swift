import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension CLIEndToEnd {
    /// Failures that must end fast: a dead endpoint, a server asking to wait for ever, a provider's
    /// pause, absurd usage figures and a ledger holding them. Each run is bounded: a run past its
    /// limit is killed and reported, so the old behaviour fails the test instead of hanging it.
    @Suite struct BoundedFailureCLITests {
        /// A port nothing listens on: connecting to it on loopback is refused at once.
        private static let deadURL = "http://127.0.0.1:1"

        /// Runs the binary, killing it after `limit`; returns the result and the time it took.
        private func run(
            _ binary: RefineryBinary, _ arguments: [String], environment: [String: String], sandbox: Sandbox,
            limit: Duration
        ) async throws -> (RefineryBinary.Result, Duration) {
            let clock = ContinuousClock()
            let start = clock.now
            let running = try binary.start(arguments, environment: environment, directory: sandbox.root)
            while running.process.isRunning, clock.now - start < limit {
                try await Task.sleep(for: .milliseconds(20))
            }
            if running.process.isRunning {
                kill(running.process.processIdentifier, SIGKILL)
                try await running.wait()
                Issue.record("`refinery \(arguments.joined(separator: " "))` was still running after \(limit)")
            }
            return (try running.result(), clock.now - start)
        }

        /// Runs `body` with the binary, a sandbox holding `file` (when given) and a fake server.
        private func withSandbox(
            file: String? = nil, _ yaml: String = "",
            _ body: @Sendable (RefineryBinary, Sandbox, FakeServer) async throws -> Void
        ) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            if let file { try sandbox.write(file, Data(yaml.utf8)) }
            try await FakeServer.run { server in try await body(binary, sandbox, server) }
        }

        private func environment(_ sandbox: Sandbox, server: FakeServer, openAI: String? = nil) -> [String: String] {
            var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
            environment["ANTHROPIC_API_KEY"] = "sk-ant-test-PLANTED-abcdefgh"
            if let openAI { environment["OPENAI_BASE_URL"] = openAI }
            return environment
        }

        private func lines(_ stdout: String) throws -> [[String: Any]] {
            try stdout.split(separator: "\n").map { try CLIHarness.json(String($0)) }
        }

        /// A member whose endpoint refuses connections is retried with backoff, then served by its
        /// fallback within seconds (not after the per-call timeout of every attempt), and the
        /// failure is reported as its own class, `unreachable`.
        @Test func aDeadEndpointFallsBackWithinSeconds() async throws {
            try await withSandbox(
                file: "dead.yaml",
                """
                refinery: 1
                name: dead
                models:
                  - model: openai/gpt-4o
                    fallback: [anthropic/claude-haiku-4-5]
                stages: [propose]
                limits: { timeout: 60s, retries: 2, quorum: 1 }

                """
            ) { binary, sandbox, server in
                server.route(FakeAnthropic.path, FakeAnthropic.message("Four, from the fallback."))
                let (result, elapsed) = try await run(
                    binary, ["run", "dead.yaml", "What is 2+2?", "--output-format", "jsonl"],
                    environment: environment(sandbox, server: server, openAI: Self.deadURL), sandbox: sandbox,
                    limit: .seconds(30))
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(elapsed < .seconds(15))
                let events = try lines(result.stdout)
                let retried = events.filter { $0["type"] as? String == "call_retried" }
                #expect(retried.count == 2)
                #expect(result.stdout.contains("unreachable"))
                let failed = events.filter { $0["type"] as? String == "call_failed" }
                #expect(failed.count == 1)
                #expect(failed.allSatisfy { "\($0)".contains("unreachable") })
                #expect(server.requests.filter { $0.path == FakeAnthropic.path }.count == 1)
                #expect((events.last?["all_answers"] as? [Any])?.count == 1)
            }
        }

        /// Gemini says how long to wait in its 429's body (a `google.rpc.RetryInfo` detail), not in a header.
        /// A wait of 40 s against `--timeout 2` is not taken: the member fails over to its fallback at once,
        /// naming the wait asked for. It was ignored, and the call retried twice within seconds into the same
        /// quota.
        @Test func geminisRetryDelayInItsErrorBodyIsHonoured() async throws {
            try await withSandbox(
                file: "quota.yaml",
                """
                refinery: 1
                name: quota
                models:
                  - model: gemini/gemini-2.5-flash
                    fallback: [anthropic/claude-haiku-4-5]
                stages: [propose]
                limits: { retries: 2, quorum: 1 }

                """
            ) { binary, sandbox, server in
                let path = FakeGemini.path("gemini-2.5-flash", "streamGenerateContent")
                server.route(
                    path,
                    .json(
                        #"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"40s"}]}}"#,
                        status: 429))
                server.route(FakeAnthropic.path, FakeAnthropic.message("Four."))
                var environment = environment(sandbox, server: server)
                environment["GEMINI_API_KEY"] = "AIza-test-PLANTED-abcdefghijklmnop"
                let (result, _) = try await run(
                    binary, ["run", "quota.yaml", "What is 2+2?", "--timeout", "2", "--output-format", "jsonl"],
                    environment: environment, sandbox: sandbox, limit: .seconds(40))
                #expect(result.exitCode == 0, "\(result.stderr)")
                let events = try lines(result.stdout)
                #expect(events.filter { $0["type"] as? String == "call_retried" }.isEmpty)
                let failed = events.filter { $0["type"] as? String == "call_failed" }
                #expect(
                    (failed.first?["error"] as? String)?.contains(
                        "gemini asked to wait 40 s, longer than the call's timeout (2 s): not retried") == true,
                    "\(failed)")
                #expect(server.requests.filter { $0.path == path }.count == 1)
            }
        }

        /// A command agent that answers without reading its prompt: a prompt longer than the pipe's buffer
        /// (200 KB, from `-f`) cannot all be written to it. That write fails and the agent's answer is the
        /// reply; the process died of SIGPIPE (exit 141, no output), its run left `running`.
        @Test func anAgentThatDoesNotReadItsPromptDoesNotKillTheProcess() async throws {
            try await withSandbox { binary, sandbox, server in
                // It closes its standard input, the pipe's only reader, while the prompt is being written.
                try sandbox.write("agent.sh", Data("#!/bin/sh\nexec 0<&-\nsleep 0.5\necho 'Four.'\n".utf8))
                let agent = sandbox.root.appendingPathComponent("agent.sh").path
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: agent)
                try sandbox.write(
                    "config/refinery/providers.yaml", Data("commands:\n  - { name: deaf, argv: [\"\(agent)\"] }\n".utf8)
                )
                try sandbox.write("notes.txt", Data(String(repeating: "a long note ", count: 17_000).utf8))
                // Started with SIGPIPE's default action, as from a shell: this test process ignores the signal,
                // and a child inherits that.
                let (result, _) = try await run(
                    RefineryBinary(url: URL(fileURLWithPath: "/usr/bin/env")),
                    [
                        "--default-signal=PIPE", binary.url.path, "run", "vote", "What is 2+2?", "-f", "notes.txt",
                        "--models", "command/deaf", "--output-format", "json",
                    ],
                    environment: environment(sandbox, server: server), sandbox: sandbox, limit: .seconds(60))
                #expect(result.exitCode == 0, "\(result.exitCode): \(result.stderr)")
                let report = try CLIHarness.json(result.stdout)
                #expect((report["winner"] as? [String: Any])?["answer"] as? String == "Four.", "\(report)")
            }
        }

        /// `Retry-After: 99999999999999999999` (or the same in `retry-after-ms`, an HTTP-date or a reset
        /// header) with `--timeout 2`: a wait longer than the call's timeout is not taken, so the member
        /// fails over to its fallback at once, and the report names the provider and the wait it asked for
        /// (it used to wait 10 minutes per retry, then the whole timeout per retry).
        @Test(arguments: [
            ["Retry-After": "99999999999999999999"], ["retry-after-ms": "1e30"],
            ["Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"], ["x-ratelimit-reset-requests": "99999h"],
        ])
        func aHugeRetryAfterIsBoundedByTheCallTimeout(headers: [String: String]) async throws {
            try await withSandbox(
                file: "slow.yaml",
                """
                refinery: 1
                name: slow
                models:
                  - model: openai/gpt-4o
                    fallback: [anthropic/claude-haiku-4-5]
                stages: [propose]
                limits: { retries: 2, quorum: 1 }

                """
            ) { binary, sandbox, server in
                server.route(
                    FakeOpenAI.path,
                    FakeOpenAI.error(
                        "slow down", type: "rate_limit_exceeded", status: 429,
                        headers: headers))
                server.route(FakeAnthropic.path, FakeAnthropic.message("Four."))
                let (result, elapsed) = try await run(
                    binary, ["run", "slow.yaml", "What is 2+2?", "--timeout", "2", "--output-format", "jsonl"],
                    environment: environment(sandbox, server: server), sandbox: sandbox, limit: .seconds(40))
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(elapsed < .seconds(20))
                let events = try lines(result.stdout)
                #expect(events.filter { $0["type"] as? String == "call_retried" }.isEmpty)
                let failed = events.filter { $0["type"] as? String == "call_failed" }
                #expect(failed.count == 1)
                #expect(failed.first?["error_code"] as? String == "rate_limited")
                // What the server asked, not a cap of it (it said "86400 s" for any longer wait).
                let asked =
                    headers["Retry-After"] == "99999999999999999999"
                    ? "1e+20 s"
                    : headers["retry-after-ms"] != nil
                        ? "1e+27 s"
                        : headers["Retry-After"] != nil
                            ? "years)" : "359996400 s (11.4 years)"
                let error = failed.first?["error"] as? String ?? ""
                #expect(error.contains("openai asked to wait "), "\(failed)")
                #expect(!error.contains("86400"), "\(failed)")
                #expect(
                    error.contains("\(asked), longer than the call's timeout (2 s): not retried"),
                    "\(failed)")
                #expect(server.requests.filter { $0.path == FakeOpenAI.path }.count == 1)
                #expect(server.requests.filter { $0.path == FakeAnthropic.path }.count == 1)
            }
        }

        /// A call the provider's pause refused before it was sent reports the wait the provider asked for (a day),
        /// not the pause the gate holds calls back for (its 5-minute cap of it), and that it was not retried.
        @Test func aCallRefusedUnderAPauseSaysTheWaitTheProviderAskedFor() async throws {
            try await withSandbox(
                file: "paused.yaml",
                """
                refinery: 1
                name: paused
                models:
                  - model: openai/gpt-4o
                    fallback: [anthropic/claude-haiku-4-5]
                  - model: openai/gpt-4o-mini
                    fallback: [anthropic/claude-haiku-4-5]
                stages: [propose]
                limits: { max_concurrent: 1, retries: 2, quorum: 1 }

                """
            ) { binary, sandbox, server in
                server.route(
                    FakeOpenAI.path,
                    FakeOpenAI.error(
                        "slow down", type: "rate_limit_exceeded", status: 429, headers: ["Retry-After": "86400"]))
                server.route(FakeAnthropic.path, FakeAnthropic.message("Four."))
                let (result, _) = try await run(
                    binary, ["run", "paused.yaml", "What is 2+2?", "--timeout", "2", "--output-format", "jsonl"],
                    environment: environment(sandbox, server: server), sandbox: sandbox, limit: .seconds(40))
                #expect(result.exitCode == 0, "\(result.stderr)")
                // One call reached the server; the other was refused under the pause it set.
                #expect(server.requests.filter { $0.path == FakeOpenAI.path }.count == 1)
                let failed = try lines(result.stdout).filter { $0["type"] as? String == "call_failed" }
                #expect(failed.count == 2, "\(failed)")
                let refused = try #require(
                    failed.first { ($0["error"] as? String ?? "").contains("asked to pause calls") }, "\(failed)")
                let error = refused["error"] as? String ?? ""
                #expect(error.contains("asked to wait 86400 s (1 day), longer than"), "\(error)")
                #expect(error.contains("not retried"), "\(error)")
                #expect(!error.contains("300 s"), "\(error)")
            }
        }

        /// A provider that asked for a pause holds back only its own calls: with one call in flight at
        /// a time, the other provider's member is called at once instead of after the pause.
        @Test func aProvidersPauseDoesNotBlockOtherProviders() async throws {
            try await withSandbox(
                file: "paused.yaml",
                """
                refinery: 1
                name: paused
                models: [openai/gpt-4o, openai/gpt-4o-mini, anthropic/claude-haiku-4-5]
                stages: [propose]
                limits: { max_concurrent: 1, retries: 1, quorum: 1 }

                """
            ) { binary, sandbox, server in
                server.route(
                    FakeOpenAI.path,
                    FakeOpenAI.error(
                        "slow down", type: "rate_limit_exceeded", status: 429, headers: ["Retry-After": "120"]))
                server.route(FakeAnthropic.path, FakeAnthropic.message("Four."))
                let (result, elapsed) = try await run(
                    binary, ["run", "paused.yaml", "What is 2+2?", "--timeout", "3", "--output-format", "json"],
                    environment: environment(sandbox, server: server), sandbox: sandbox, limit: .seconds(40))
                #expect(elapsed < .seconds(25))
                #expect(server.requests.filter { $0.path == FakeAnthropic.path }.count == 1)
                let json = try CLIHarness.json(result.stdout)
                #expect((json["all_answers"] as? [Any])?.count == 1, "\(result.stderr)")
            }
        }

        /// A server reporting absurd usage (`completion_tokens` near `Int.max`, negative prompt tokens)
        /// does not crash the run: the figures are not believed, and the totals stay finite.
        @Test func absurdUsageIsNotBelieved() async throws {
            try await withSandbox { binary, sandbox, server in
                server.route(
                    FakeOpenAI.path,
                    .json(
                        """
                        {"id":"c","object":"chat.completion","created":1,"model":"gpt-test","choices":[{"index":0,\
                        "message":{"role":"assistant","content":\(quoted(CLIHarness.universalReply()))},\
                        "finish_reason":"stop"}],"usage":{"prompt_tokens":-7,"completion_tokens":5e18}}
                        """))
                let (result, _) = try await run(
                    binary, ["What is 2+2?", "--models", CLIHarness.threeModels, "--output-format", "json"],
                    environment: environment(sandbox, server: server), sandbox: sandbox, limit: .seconds(60))
                #expect(result.exitCode == 0, "\(result.stderr)")
                let json = try CLIHarness.json(result.stdout)
                let tokens = try #require(json["tokens"] as? [String: Any])
                let output = try #require(tokens["output"] as? Int)
                let input = try #require(tokens["input"] as? Int)
                #expect(output > 0 && output < 1_000_000)
                #expect(input > 0 && input < 1_000_000)
                #expect((json["cost_usd"] as? Double).map { $0 < 1 } == true)
            }
        }

        /// Counts a number can hold but this call cannot have: 1e12 output tokens against a cap of 4,096
        /// and 1e12 input tokens for a prompt of a few hundred bytes. They were believed: the run cost
        /// $15 million and a budget stopped it.
        @Test func usageBeyondTheCallsCapIsNotBelieved() async throws {
            try await withSandbox { binary, sandbox, server in
                server.route(
                    FakeOpenAI.path,
                    FakeOpenAI.completion(
                        CLIHarness.universalReply(), prompt: 1_000_000_000_000, completion: 1_000_000_000_000))
                let (result, _) = try await run(
                    binary, ["What is 2+2?", "--models", "openai/gpt-4o", "--budget", "1", "--output-format", "json"],
                    environment: environment(sandbox, server: server), sandbox: sandbox, limit: .seconds(60))
                #expect(result.exitCode == 0, "\(result.stderr)")
                let json = try CLIHarness.json(result.stdout)
                #expect(json["status"] as? String == "single_model", "\(result.stdout)")
                let tokens = try #require(json["tokens"] as? [String: Any])
                #expect(tokens["estimated"] as? Bool == true, "\(tokens)")
                #expect((tokens["output"] as? Int).map { $0 <= 4096 } == true, "\(tokens)")
                #expect((tokens["input"] as? Int).map { $0 < 100_000 } == true, "\(tokens)")
                #expect((json["cost_usd"] as? Double).map { $0 < 0.1 } == true, "\(result.stdout)")
            }
        }

        /// A reply with no text is no answer, but the provider bills it: a reasoning model that spends its whole
        /// cap thinking writes nothing and is charged every token. Such a reply was retried and counted as $0
        /// (its usage dropped with the error), so the run's cost, its budget and the ledger left it out: $0.0035
        /// for a run that cost $0.046. A reply that is only a placeholder (`...`) was charged, but recorded as the
        /// call's one succeeded reply, so the answer of its retry (same request) was left out of the ledger: its
        /// calls said $0.0425 and held no answer. Both are failed attempts now, charged, and the ledger's calls
        /// add up to the run's cost.
        @Test(arguments: [[], ["..."]])
        func aReplyWithoutAnAnswerIsChargedAndTheAnswerRecorded(first: [String]) async throws {
            try await withSandbox { binary, sandbox, server in
                server.route(
                    FakeOpenAI.path, .sse(FakeOpenAI.chunks(first, prompt: 1000, completion: 4000)),
                    .sse(FakeOpenAI.chunks([CLIHarness.universalReply()], prompt: 1000, completion: 100)))
                let environment = environment(sandbox, server: server)
                let (result, _) = try await run(
                    binary, ["What is 2+2?", "--models", "openai/gpt-4o", "--output-format", "json"],
                    environment: environment, sandbox: sandbox, limit: .seconds(60))
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(server.requests.count == 2)
                let json = try CLIHarness.json(result.stdout)
                // gpt-4o at $2.50 / $10 per million: (1,000 + 1,000) in, (4,000 + 100) out.
                #expect(json["cost_usd"] as? Double == 0.046, "\(result.stdout)")
                let tokens = try #require(json["tokens"] as? [String: Any])
                #expect(tokens["output"] as? Int == 4100, "\(tokens)")
                let id = try #require(json["run_id"] as? String)
                let export = try await binary.run(
                    ["runs", "export", id], environment: environment, directory: sandbox.root)
                let calls = try #require(try CLIHarness.json(export.stdout)["calls"] as? [[String: Any]])
                let ledger = calls.reduce(0.0) { $0 + ($1["cost_usd"] as? Double ?? 0) }
                #expect(abs(ledger - 0.046) < 1e-12, "\(calls.map { $0["cost_usd"] ?? "-" })")
                #expect(calls.map { $0["status"] as? String } == ["retried", "succeeded"], "\(calls)")
            }
        }

        /// A ledger already holding absurd usage (written by an older build, or damaged) resumes: the
        /// counts are clamped as they are read, so `resume` no longer crashes on every attempt.
        @Test func resumeSurvivesALedgerWithAbsurdUsage() async throws {
            let sqlite = try #require(
                ["/usr/bin/sqlite3", "/bin/sqlite3", "/usr/local/bin/sqlite3"].first {
                    FileManager.default.isExecutableFile(atPath: $0)
                }, "the sqlite3 shell is needed to plant the rows")
            try await withSandbox { binary, sandbox, server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                let environment = environment(sandbox, server: server)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let (first, _) = try await run(
                    binary,
                    [
                        "What is 2+2?", "--models", CLIHarness.threeModels, "--store", store, "--output-format",
                        "json",
                    ], environment: environment, sandbox: sandbox, limit: .seconds(60))
                #expect(first.exitCode == 0, "\(first.stderr)")
                let id = try #require(try CLIHarness.json(first.stdout)["run_id"] as? String)

                // Plant absurd usage in every recorded reply, and make the run resumable again.
                let plant = Process()
                plant.executableURL = URL(fileURLWithPath: sqlite)
                plant.arguments = [
                    store,
                    """
                    UPDATE calls SET response = json_set(response, '$.usage.outputTokens', 9223372036854775807,
                        '$.usage.inputTokens', -5) WHERE id % 3 = 0;
                    UPDATE calls SET response = json_set(response, '$.usage.outputTokens', 1e30) WHERE id % 3 = 1;
                    UPDATE calls SET response = json_set(response, '$.usage.outputTokens', 5000000000000000000)
                        WHERE id % 3 = 2;
                    UPDATE runs SET status = 'running';
                    """,
                ]
                try plant.run()
                while plant.isRunning { try await Task.sleep(for: .milliseconds(5)) }
                #expect(plant.terminationStatus == 0)

                let before = server.requests.count
                let (resumed, _) = try await run(
                    binary, ["resume", id, "--store", store, "--output-format", "json"], environment: environment,
                    sandbox: sandbox, limit: .seconds(60))
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                // Every call is served from the ledger: none is paid twice.
                #expect(server.requests.count == before)
                let json = try CLIHarness.json(resumed.stdout)
                #expect(json["status"] as? String == "converged")
                let tokens = try #require(json["tokens"] as? [String: Any])
                #expect((tokens["output"] as? Int).map { $0 > 0 } == true)
                #expect((tokens["input"] as? Int).map { $0 >= 0 } == true)
            }
        }

        /// A server's error body quoted in a `--debug` log line reaches a terminal with its control
        /// characters escaped, like the answer and the summary (the log wrote them raw: a server could
        /// retitle and clear the terminal).
        @Test func aServersControlCharactersInTheDebugLogAreEscapedOnATerminal() async throws {
            try await withSandbox { binary, sandbox, server in
                server.route(
                    FakeOpenAI.path,
                    .body(status: 500, contentType: "text/plain", text: "oops \u{1B}]0;pwned\u{07}\u{1B}[2J boom"))
                let result = try await CLIHarness.onTerminal(
                    binary, ["hi", "--models", "openai/gpt-4o", "--timeout", "2", "--debug"],
                    environment: environment(sandbox, server: server), directory: sandbox.root)
                #expect(result.stdout.contains(#"oops \x1B]0;pwned\x07\x1B[2J boom"#), "\(result.stdout.suffix(2000))")
                #expect(!result.stdout.contains("\u{1B}]0;"), "\(result.stdout.suffix(2000))")
                #expect(!result.stdout.contains("\u{1B}[2J"))
            }
        }
    }
}
