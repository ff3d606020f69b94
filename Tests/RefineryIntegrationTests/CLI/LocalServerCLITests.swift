// A local server as llama-cpp-python's behaves (one request at a time, json_schema refused with
// HTTP 500), driven through the `refinery` binary: the run adapts its structured output without
// spending retries, and calls queued behind the endpoint's `max_concurrent: 1` do not time out.

import Foundation
import Synchronization
import Testing

extension CLIEndToEnd {
    @Suite struct LocalServerCLITests {
        private static func setUp(_ server: FakeServer, workflow: String) throws -> (
            RefineryBinary, Sandbox, [String: String]
        ) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            try sandbox.write(
                "config/refinery/providers.yaml",
                Data(
                    ("providers:\n  - { name: local, base_url: \"\(server.baseURL)\", "
                        + "max_concurrent: 1, stream: false }\n").utf8))
            try sandbox.write("flow.yaml", Data(workflow.utf8))
            return (binary, sandbox, RefineryBinary.environment(home: sandbox.root))
        }

        /// consensus over three members of the serial endpoint `local`.
        private static let consensus = """
            refinery: 1
            name: flow
            extends: consensus
            models: [local/a, local/b, local/c]
            limits: { retries: 3 }

            """

        private static func events(_ stdout: String) throws -> [[String: Any]] {
            try stdout.split(separator: "\n").map { try CLIHarness.json(String($0)) }
        }

        /// Fourteen calls of 0.25 s each behind `max_concurrent: 1` with a 3 s timeout and no retries:
        /// the last waits at least 3.25 s for its turn, which is not its time (it used to time out, and
        /// the run lost a member). The wait passes the timeout whatever the load (the server's replies
        /// can only come later); each call's own time is a twelfth of the timeout, so only a server held
        /// back 2.75 s (not a loaded machine's pause) could time one out. Three calls of 0.45 s against
        /// 1 s left a pause of 0.55 s in the test process's pool, where the fake server runs, to lose it.
        @Test func callsQueuedBehindASerialEndpointDoNotTimeOut() async throws {
            let members = (1...14).map { "local/m\($0)" }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { _ in
                    .delayed(.milliseconds(250), FakeOpenAI.completion("Four."))
                }
                let (binary, sandbox, environment) = try Self.setUp(
                    server,
                    workflow: """
                        refinery: 1
                        name: serial
                        models: [\(members.joined(separator: ", "))]
                        stages: [propose]
                        limits: { timeout: 3s, retries: 0, quorum: \(members.count) }

                        """)
                defer { sandbox.cleanup() }
                let result = try await binary.run(
                    ["run", "flow.yaml", "What is 2+2?", "--output-format", "jsonl"], environment: environment,
                    directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)\n\(result.stdout)")
                let events = try Self.events(result.stdout)
                #expect(events.filter { $0["type"] as? String == "call_failed" }.isEmpty, "\(result.stdout)")
                #expect(events.filter { $0["type"] as? String == "call_finished" }.count == members.count)
                #expect(server.maxInFlight == 1)
            }
        }

        /// consensus against a server that refuses json_schema with HTTP 500 (llama-cpp-python): the
        /// first refusal switches the endpoint to json_object for the run; no call is retried or lost.
        @Test func aRefusedJsonSchemaSwitchesTheEndpointToJsonObjectWithoutRetries() async throws {
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    let format = (request.json?["response_format"] as? [String: Any])?["type"] as? String
                    if format == "json_schema" {
                        return .json(
                            #"{"error":{"message":"response_format.type: Input should be 'text' or "#
                                + #"'json_object'","type":"internal_server_error"}}"#,
                            status: 500)
                    }
                    return FakeOpenAI.completion(CLIHarness.universalReply())
                }
                let (binary, sandbox, environment) = try Self.setUp(
                    server,
                    workflow: Self.consensus)
                defer { sandbox.cleanup() }
                let result = try await binary.run(
                    ["run", "flow.yaml", "What is 2+2?", "--output-format", "jsonl"], environment: environment,
                    directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)\n\(result.stdout)")
                let events = try Self.events(result.stdout)
                #expect(events.filter { $0["type"] as? String == "call_retried" }.isEmpty, "\(result.stdout)")
                #expect(events.filter { $0["type"] as? String == "call_failed" }.isEmpty)
                let modes = events.compactMap { $0["structured_mode"] as? String }
                #expect(!modes.isEmpty)
                #expect(modes.allSatisfy { $0 == "json_object" }, "\(modes)")
                let refused = server.requests.filter {
                    ($0.json?["response_format"] as? [String: Any])?["type"] as? String == "json_schema"
                }
                #expect(refused.count == 1)
            }
        }

        /// consensus whose reviews all fail (the server refuses them with 401): the text output says
        /// what the JSON says (three members answered, none remain) and why (the provider's error);
        /// once the server is back, `refinery resume` finishes the run from the ledger (the answers
        /// are not asked again) instead of refusing it as "already finished".
        @Test func aRunShortOfQuorumSaysWhyAndResumesOnceTheServerIsBack() async throws {
            let refusing = Switch()
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    if request.json?["response_format"] != nil, refusing.on {
                        return .json(
                            #"{"error":{"message":"the reviewer key was revoked","type":"authentication_error"}}"#,
                            status: 401)
                    }
                    return FakeOpenAI.completion(CLIHarness.universalReply())
                }
                let (binary, sandbox, environment) = try Self.setUp(
                    server,
                    workflow: Self.consensus)
                defer { sandbox.cleanup() }
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let failed = try await binary.run(
                    ["run", "flow.yaml", "What is 2+2?", "--store", store, "--output-format", "text"],
                    environment: environment, directory: sandbox.root)
                #expect(failed.exitCode == 3, "\(failed.stderr)\n\(failed.stdout)")
                let output = failed.stdout + failed.stderr
                #expect(output.contains("3 members answered in round 1 but only 0 remain"), "\(output)")
                #expect(output.contains("a: authentication:"), "\(output)")
                #expect(output.contains("the reviewer key was revoked"), "\(output)")

                let list = try await binary.run(
                    ["runs", "list", "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                let runs = try #require(
                    try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
                let id = try #require(runs.first?["id"] as? String)
                #expect(runs.first?["status"] as? String == "insufficient_models")

                refusing.turnOff()
                let resumed = try await binary.run(
                    ["resume", id, "--store", store, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(try CLIHarness.json(resumed.stdout)["status"] as? String == "converged")
                // The three answers of round 1 came from the ledger.
                let export = try await binary.run(
                    ["runs", "export", id, "--store", store], environment: environment, directory: sandbox.root)
                let calls = try CLIHarness.json(export.stdout)["calls"] as? [[String: Any]] ?? []
                #expect(calls.filter { $0["status"] as? String == "replayed" }.count == 3, "\(export.stdout)")
            }
        }
    }
}

/// A flag a fake server's handler reads while the test flips it.
private final class Switch: Sendable {
    private let state = Mutex(true)
    var on: Bool { state.withLock { $0 } }
    func turnOff() { state.withLock { $0 = false } }
}
