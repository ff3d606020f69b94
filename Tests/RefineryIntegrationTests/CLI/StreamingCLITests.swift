import Foundation
import Testing

extension CLIEndToEnd {
    /// A run through the real binary streams its calls: usage a server did not report is estimated and
    /// marked in the JSON output, and `stream: false` in providers.yaml asks for whole replies.
    @Suite struct StreamingCLITests {
        private func run(
            providersYAML: String?, reply: FakeReply
        ) async throws -> (result: RefineryBinary.Result, requests: [RecordedRequest]) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            if let providersYAML {
                let folder = sandbox.root.appendingPathComponent("config/refinery")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Data(providersYAML.utf8).write(to: folder.appendingPathComponent("providers.yaml"))
            }
            return try await FakeServer.run { server in
                server.route(FakeOpenAI.path, reply)
                let result = try await binary.run(
                    ["What is 2+2?", "--models", "openai/gpt-4o", "--output-format", "json"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                return (result, server.requests)
            }
        }

        @Test func callsStreamAndUsageWithoutAServerCountIsMarkedEstimated() async throws {
            // llama.cpp's server: a stream with no usage chunk.
            let (result, requests) = try await run(providersYAML: nil, reply: FakeOpenAI.stream(["4"], usage: false))
            // One member: exit 0 (single model) or 2 (one round without convergence), never a failure.
            #expect([0, 2].contains(result.exitCode), "\(result.stderr)")
            #expect(requests.count == 1)
            #expect(requests.allSatisfy { $0.json?["stream"] as? Bool == true })
            let tokens = try #require(try CLIHarness.json(result.stdout)["tokens"] as? [String: Any])
            #expect(tokens["estimated"] as? Bool == true)
            #expect(tokens["output"] as? Int == 1)
            if let errors = try await CLIHarness.schemaErrors(result.stdout) { #expect(errors == []) }
        }

        @Test func streamFalseInProvidersYAMLAsksForWholeReplies() async throws {
            let (result, requests) = try await run(
                providersYAML: "providers:\n  - { name: openai, stream: false }\n", reply: FakeOpenAI.completion("4"))
            // One member: exit 0 (single model) or 2 (one round without convergence), never a failure.
            #expect([0, 2].contains(result.exitCode), "\(result.stderr)")
            #expect(requests.count == 1)
            #expect(requests.allSatisfy { $0.json?["stream"] == nil && $0.header("accept") == "application/json" })
            let tokens = try #require(try CLIHarness.json(result.stdout)["tokens"] as? [String: Any])
            #expect(tokens["estimated"] == nil)
            #expect(tokens["output"] as? Int == 5)
        }

        /// llama-cpp-python's server answers a streamed request whose prompt passes its context with an empty
        /// event stream (HTTP 200, no byte) and says why only to a whole request (HTTP 400,
        /// `context_length_exceeded`): the call is asked again whole, and the run names that reason, at once,
        /// as a request the server refuses (it said "local sent an empty stream", after seconds of retries).
        @Test func anEmptyStreamIsAskedAgainWholeForTheServersReason() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let reason =
                "This model's maximum context length is 2048 tokens. However, you requested 3026 tokens (3010 in the "
                + "messages, 16 in the completion). Please reduce the length of the messages or completion."
            let (result, requests) = try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    request.json?["stream"] as? Bool == true
                        ? .body(status: 200, contentType: "text/event-stream", text: "")
                        : .json(
                            #"{"error":{"message":"\#(reason)","type":"invalid_request_error","param":"messages","#
                                + #""code":"context_length_exceeded"}}"#, status: 400)
                }
                let result = try await binary.run(
                    ["What is 2+2?", "--models", "openai/gpt-4o", "--output-format", "json"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                return (result, server.requests)
            }
            #expect(result.exitCode == 3, "\(result.stderr)")
            let stoppedBy = try #require(try CLIHarness.json(result.stdout)["stopped_by"] as? String)
            #expect(stoppedBy.contains("bad_request"), "\(stoppedBy)")
            #expect(stoppedBy.contains("maximum context length is 2048 tokens"), "\(stoppedBy)")
            // One streamed request, one whole; not retried (the server would say the same).
            #expect(requests.map { $0.json?["stream"] as? Bool ?? false } == [true, false])
        }
    }
}
