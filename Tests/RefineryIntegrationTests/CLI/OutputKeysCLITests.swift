import Foundation
import Refinery
import Testing

/// The output encoder converts the keys a type names and leaves the keys that are data: a dictionary's keys
/// are model ids, member ids and `--var` names, which a script looks up as they were written.
@Suite struct OutputJSONTests {
    private struct Sample: Encodable {
        var runID = "r"
        var costUSD = 0.5
        var contentSHA256 = "ab"
        var finishReason = "stop"
        var perModel: [String: Int] = ["openai/GPT-4o": 1, "vote:myModel:5": 2, "userName": 3]
    }

    @Test func typeKeysAreSnakeCaseAndDictionaryKeysAreKeptAsTheyAre() throws {
        let text = try OutputJSON.text(Sample())
        #expect(
            text == #"{"content_sha256":"ab","cost_usd":0.5,"finish_reason":"stop","per_model":"#
                + #"{"openai/GPT-4o":1,"userName":3,"vote:myModel:5":2},"run_id":"r"}"#)
    }
}

extension CLIEndToEnd {
    /// Every JSON document `refinery` prints names its keys in snake_case, as the run JSON does (DESIGN.md
    /// section 4): the jsonl events, `runs show|export` and the checked workflow of `show` used the Swift
    /// property names (`runID`, `costUSD`, `finishReason`, `maxConcurrent`, `contentSHA256`, ...).
    @Suite struct OutputKeysCLITests {
        /// Keys with a capital letter anywhere in `value`, with their paths; the values of `variables` and
        /// `anonymization` are skipped: their keys are the user's `--var` names, member ids and labels.
        private static func capitalizedKeys(_ value: Any, path: String = "") -> [String] {
            if let object = value as? [String: Any] {
                return object.sorted { $0.key < $1.key }.flatMap { key, child -> [String] in
                    let here = path + "." + key
                    let own = key.contains(where: \.isUppercase) ? [here] : []
                    return own + (["variables", "anonymization"].contains(key) ? [] : capitalizedKeys(child, path: here))
                }
            }
            if let array = value as? [Any] { return array.flatMap { capitalizedKeys($0, path: path + "[]") } }
            return []
        }

        @Test func runsShowExportEventsAndTheCheckedWorkflowUseSnakeCaseKeys() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let workflow = """
                refinery: 1
                name: w
                models:
                  - { model: openai/gpt-4o, params: { max_tokens: 512, top_p: 0.9 } }
                  - openai/gpt-4o-mini
                limits: { max_concurrent: 4 }
                stages:
                  - propose:
                      prompt: { user: "For {{userName}}: {{{prompt}}}" }
                  - evaluate

                """
            try sandbox.write("w.yaml", Data(workflow.utf8))
            // `show` takes no `--var`: the same workflow without the variable.
            try sandbox.write("plain.yaml", Data(workflow.replacingOccurrences(of: "For {{userName}}: ", with: "").utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                func run(_ arguments: [String]) async throws -> String {
                    let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
                    #expect(result.exitCode == 0, "\(arguments): \(result.stderr)")
                    return result.stdout
                }
                let events = try await run(
                    ["run", "w.yaml", "What is 2+2?", "--var", "userName=Ada", "--output-format", "jsonl"])
                let lines = try events.split(separator: "\n").map { try CLIHarness.json(String($0)) }
                #expect(lines.count > 4)
                #expect(lines.flatMap { Self.capitalizedKeys($0) } == [])
                let started = try #require(lines.first)
                let runID = try #require(started["run_id"] as? String, "\(started)")
                #expect(started["max_rounds"] is Int, "\(started)")
                let finished = try #require(lines.first { $0["type"] as? String == "call_finished" })
                #expect(finished["cost_usd"] != nil && finished["latency_ms"] != nil, "\(finished)")

                let shown = try CLIHarness.json(try await run(["runs", "show", runID, "--output-format", "json"]))
                #expect(Self.capitalizedKeys(shown) == [])
                #expect(shown["variables"] as? [String: String] == ["userName": "Ada"])
                let labels = (shown["anonymization"] as? [String: [String: String]])?.values.flatMap(\.keys)
                #expect(labels?.contains("A") == true, "\(shown["anonymization"] ?? "-")")
                let workflow = try #require(shown["workflow"] as? [String: Any])
                #expect((workflow["limits"] as? [String: Any])?["max_concurrent"] as? Int == 4)
                #expect((workflow["provenance"] as? [String: Any])?["content_sha256"] is String)
                #expect(workflow["variables"] as? [String: String] == ["userName": "Ada"])
                let members = try #require(workflow["members"] as? [[String: Any]])
                let params = try #require(members.first?["params"] as? [String: Any])
                #expect(params["max_tokens"] as? Int == 512 && params["top_p"] as? Double == 0.9, "\(params)")

                let export = try CLIHarness.json(try await run(["runs", "export", runID]))
                #expect(Self.capitalizedKeys(export) == [])
                let call = try #require((export["calls"] as? [[String: Any]])?.first)
                #expect(call["run_id"] as? String == runID && call["request_hash"] is String, "\(call)")
                #expect((call["reply"] as? [String: Any])?["finish_reason"] as? String == "stop", "\(call)")
                #expect((call["request"] as? [String: Any])?["timeout_seconds"] != nil, "\(call)")

                let checked = try CLIHarness.json(try await run(["show", "plain.yaml", "--output-format", "json"]))
                #expect(Self.capitalizedKeys(checked) == [])
                #expect((checked["limits"] as? [String: Any])?["max_concurrent"] as? Int == 4)
            }
        }
    }
}
