// One live owner per run and per batch, through the real binary: a `resume` (or `batch resume`) of a run or
// batch another process is running is refused at once (exit 4, naming it and that process) without a call;
// once that process is killed with SIGKILL, the same resume finishes it at once, and no call is paid twice.

import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension CLIEndToEnd {
    @Suite struct LiveOwnerCLITests {
        /// Three members, one call each, one at a time: every request differs (its model).
        private static let run = """
            refinery: 1
            name: three
            models: [openai/gpt-4o, openai/gpt-4o-mini, openai/o3]
            limits: { max_concurrent: 1 }
            stages: [propose]

            """

        /// One call per item; the prompt names the item, so every request differs.
        private static let batch = """
            refinery: 1
            name: one
            models: [openai/gpt-4o]
            stages: [propose]

            """

        /// A fake OpenAI server that answers the first `answering` requests, then holds every later one
        /// (the process that sent it stays live, waiting) until ``open()``; it keeps the bodies it answered:
        /// the calls paid for.
        private final class Gate: Sendable {
            private let state: Mutex<(answering: Int, answered: [String])>

            init(answering: Int) { state = Mutex((answering, [])) }

            func reply(to request: RecordedRequest) -> FakeReply {
                state.withLock { state in
                    guard state.answered.count < state.answering else { return .hold(limit: .seconds(60)) }
                    state.answered.append(request.body)
                    return FakeOpenAI.completion(CLIHarness.universalReply())
                }
            }

            func open() { state.withLock { $0.answering = .max } }

            var answered: [String] { state.withLock { $0.answered } }
        }

        /// Runs `arguments` to its end, or until the server sees a request beyond `requests` (a call made: the
        /// process is then killed). Returns the result and whether it made a call.
        private static func runWithoutCalls(
            _ binary: RefineryBinary, _ arguments: [String], environment: [String: String], sandbox: Sandbox,
            server: FakeServer, requests: Int
        ) async throws -> (RefineryBinary.Result, calledOut: Bool) {
            let running = try binary.start(arguments, environment: environment, directory: sandbox.root)
            let deadline = ContinuousClock.now + .seconds(60)
            while running.process.isRunning, server.requests.count == requests, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let calledOut = server.requests.count > requests
            if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) }
            try await running.wait()
            return (try running.result(), calledOut)
        }

        /// What a test works with: the binary, its sandbox (the files written), the gated server, the
        /// sandbox's environment pointed at it and the ledger file.
        private struct Setup {
            let binary: RefineryBinary
            let sandbox: Sandbox
            let server: FakeServer
            let gate: Gate
            let environment: [String: String]
            let store: String
        }

        private static func withSetup(
            files: [String: String], _ body: @Sendable (Setup) async throws -> Void
        ) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            for (path, text) in files { try sandbox.write(path, Data(text.utf8)) }
            let gate = Gate(answering: 1)
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { gate.reply(to: $0) }
                try await body(
                    Setup(
                        binary: binary, sandbox: sandbox, server: server, gate: gate,
                        environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                        store: sandbox.root.appendingPathComponent("runs.db").path))
            }
        }

        @Test(.timeLimit(.minutes(2))) func aLiveRunIsNotResumedElsewhereAndAKilledOneResumesAtOnce() async throws {
            try await Self.withSetup(files: ["three.yaml": Self.run]) { setup in
                let (binary, sandbox, server, gate) = (setup.binary, setup.sandbox, setup.server, setup.gate)
                let (environment, store) = (setup.environment, setup.store)
                let first = try binary.start(
                    ["run", "three.yaml", "What is 2+2?", "--store", store], environment: environment,
                    directory: sandbox.root)
                // One call answered and recorded, the second held: the run is live, waiting for it.
                #expect(try await server.waitForRequests(2, within: .seconds(30)))
                let id = try #require(
                    try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                        .first?["id"] as? String)

                let (refused, calledOut) = try await Self.runWithoutCalls(
                    binary, ["resume", String(id.prefix(8)), "--store", store], environment: environment,
                    sandbox: sandbox, server: server, requests: 2)
                #expect(!calledOut, "a resume of a live run called the model")
                #expect(refused.exitCode == 4, "\(refused.stderr)")
                #expect(refused.stderr.contains("Run \(id) is live in another process"), "\(refused.stderr)")
                #expect(refused.stderr.contains("pid \(first.process.processIdentifier)"), "\(refused.stderr)")
                #expect(refused.stderr.contains("refinery resume \(id)"), "\(refused.stderr)")

                try await first.kill { true }
                gate.open()
                let resumed = try await binary.run(
                    ["resume", id, "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect((try CLIHarness.json(resumed.stdout)["all_answers"] as? [Any])?.count == 3)
                // Each of the three calls answered once: the recorded one served from the ledger, the one
                // held at the kill (never answered) and the last made by the resume.
                #expect(gate.answered.count == 3)
                #expect(Set(gate.answered).count == 3, "a call was paid twice")
            }
        }

        @Test(.timeLimit(.minutes(2))) func aLiveBatchIsNotResumedElsewhereAndAKilledOneResumesAtOnce() async throws {
            let items = ["a", "b", "c"].map { #"{"id":"\#($0)","question":"Item \#($0)?"}"# }
            let files = ["one.yaml": Self.batch, "in.jsonl": items.joined(separator: "\n") + "\n"]
            try await Self.withSetup(files: files) { setup in
                let (binary, sandbox, server, gate) = (setup.binary, setup.sandbox, setup.server, setup.gate)
                let (environment, store) = (setup.environment, setup.store)
                let first = try binary.start(
                    ["batch", "one.yaml", "--input", "in.jsonl", "--concurrency", "1", "--store", store],
                    environment: environment, directory: sandbox.root)
                #expect(try await server.waitForRequests(2, within: .seconds(30)))
                let batches = try await BatchCLITests.list(
                    binary, store: store, environment: environment, directory: sandbox.root)
                let id = try #require(batches.first?["id"] as? String)
                // Its process owns it: `running`, not interrupted (asking does not disturb it).
                #expect(batches.first?["status"] as? String == "running")

                let (refused, calledOut) = try await Self.runWithoutCalls(
                    binary, ["batch", "resume", id, "--store", store], environment: environment, sandbox: sandbox,
                    server: server, requests: 2)
                #expect(!calledOut, "a resume of a live batch called the model")
                #expect(refused.exitCode == 4, "\(refused.stderr)")
                #expect(refused.stderr.contains("Batch \(id) is live in another process"), "\(refused.stderr)")
                #expect(refused.stderr.contains("refinery batch resume \(id)"), "\(refused.stderr)")
                // The item's run in flight is the batch's: resuming it alone is refused too.
                let live = try #require(
                    try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                        .first { $0["status"] as? String == "running" }?["id"] as? String)
                let (refusedRun, runCalledOut) = try await Self.runWithoutCalls(
                    binary, ["resume", live, "--store", store], environment: environment, sandbox: sandbox,
                    server: server, requests: 2)
                #expect(!runCalledOut, "a resume of a live batch's run called the model")
                #expect(refusedRun.exitCode == 4, "\(refusedRun.stderr)")

                try await first.kill { true }
                gate.open()
                let resumed = try await binary.run(
                    ["batch", "resume", id, "--store", store], environment: environment, directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(gate.answered.count == 3)
                #expect(Set(gate.answered).count == 3, "an item's call was paid twice")
            }
        }

        /// A ledger whose folder cannot hold the run's lock file (here `refinery.db-owners` is a file, as a
        /// read-only folder would refuse it) cannot record a run: refused before any call with exit 4, as a
        /// store file that cannot be opened is, naming the lock file. It was exit 1.
        @Test func aLedgerThatCannotHoldTheRunsLockIsAConfigurationError() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let store = sandbox.root.appendingPathComponent("runs.db").path
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let first = try await binary.run(
                    ["run", "vote", "What is 2+2?", "--models", "openai/gpt-4o", "--store", store],
                    environment: environment, directory: sandbox.root)
                #expect(first.exitCode == 0, "\(first.stderr)")
                let owners = store + "-owners"
                try? FileManager.default.removeItem(atPath: owners)
                #expect(FileManager.default.createFile(atPath: owners, contents: Data("not a folder".utf8)))
                let before = server.requests.count
                let refused = try await binary.run(
                    ["run", "vote", "What is 3+3?", "--models", "openai/gpt-4o", "--store", store],
                    environment: environment, directory: sandbox.root)
                #expect(refused.exitCode == 4, "\(refused.stderr)")
                #expect(refused.stderr.contains("Cannot take the lock file"), "\(refused.stderr)")
                #expect(server.requests.count == before)
            }
        }
    }
}
