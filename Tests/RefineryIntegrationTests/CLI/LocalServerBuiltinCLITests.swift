// Every built-in workflow run through the `refinery` binary against a real local model server:
// llama-cpp-python's OpenAI-compatible server with Gemma 3 270M, which .ci/run starts on loopback
// (.ci/local-model-server.sh) and names in REFINERY_LOCAL_BASE_URL. The server is what users meet:
// it refuses `json_schema` with HTTP 500, serves one request at a time, sends no usage. The model
// is a tiny base model, so answers are poor: the suite checks the path, not the quality. Each run
// must end with exit 0 or 2, no call may time out at default settings, structured stages end
// scored or recorded unscored with the reason, and the JSON validates against the published schema.
//
// Outside CI the runs skip unless REFINERY_LOCAL_BASE_URL is set; with CI=true they never skip.
// By hand, with a server started as in .ci/local-model-server.sh:
//   REFINERY_LOCAL_BASE_URL=http://127.0.0.1:PORT swift test --filter LocalServerBuiltinCLITests

import Foundation
import Testing

extension CLIEndToEnd {
    @Suite struct LocalServerBuiltinCLITests {
        static let environment = ProcessInfo.processInfo.environment
        static let baseURL = environment["REFINERY_LOCAL_BASE_URL"]
        static let inCI = environment["CI"] == "true"

        /// One built-in and the flags that keep its run small (never below the workflow's minimums):
        /// two members where the quorum is 2, one round where rounds may stop early.
        struct Builtin: Sendable, CustomTestStringConvertible {
            var name: String
            var flags: [String]
            var testDescription: String { name }
        }

        static let members = "local/a,local/b"

        /// Every built-in (`theTableListsEveryBuiltin` keeps it complete).
        static let builtins: [Builtin] = [
            Builtin(name: "consensus", flags: ["--models", members, "--max-rounds", "1"]),
            Builtin(name: "consensus-classic", flags: ["--models", members, "--max-rounds", "1"]),
            Builtin(
                name: "consortium", flags: ["--models", members, "--arbiter", "local/arbiter", "--max-rounds", "1"]),
            Builtin(name: "debate", flags: ["--models", members]),
            Builtin(name: "moa", flags: ["--models", members, "--arbiter", "local/arbiter"]),
            Builtin(name: "self-consistency", flags: ["--models", "local/s:3", "--max-rounds", "1"]),
            Builtin(name: "self-refine", flags: ["--models", "local/r", "--max-rounds", "1"]),
            Builtin(name: "verify", flags: ["--models", "local/v"]),
            Builtin(name: "vote", flags: ["--models", members]),
        ]

        /// The server as an endpoint: served one call at a time, with a small output cap so the
        /// suite stays within minutes on two cores (the model's answers are no better when longer).
        static func providers(_ baseURL: String) -> String {
            "providers:\n  - { name: local, base_url: \"\(baseURL)\", max_concurrent: 1, max_tokens: 96 }\n"
        }

        /// A failure here means a built-in was added without a line in ``builtins``.
        @Test func theTableListsEveryBuiltin() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let list = try await binary.run(
                ["list", "--output-format", "json"], environment: RefineryBinary.environment(home: sandbox.root),
                directory: sandbox.root)
            let entries = try #require(
                try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list.stderr)")
            let listed = entries.filter { $0["origin"] as? String == "builtin" }.compactMap { $0["name"] as? String }
            #expect(Set(listed) == Set(Self.builtins.map(\.name)))
        }

        @Test(
            .enabled(
                if: baseURL != nil || inCI,
                "no local model server: REFINERY_LOCAL_BASE_URL is not set (.ci/run starts one)"),
            arguments: builtins)
        func builtinRunsAgainstTheRealServer(_ builtin: Builtin) async throws {
            let baseURL = try #require(
                Self.baseURL, "CI=true but REFINERY_LOCAL_BASE_URL is not set: .ci/run starts the local model server")
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("config/refinery/providers.yaml", Data(Self.providers(baseURL).utf8))
            let environment = RefineryBinary.environment(home: sandbox.root)
            let store = sandbox.root.appendingPathComponent("runs.db").path

            let clock = ContinuousClock()
            let started = clock.now
            let result = try await binary.run(
                ["run", builtin.name, "What is 2+2? Answer with the number on the last line."] + builtin.flags
                    + ["--store", store, "--output-format", "json", "--seed", "1"],
                environment: environment, directory: sandbox.root)
            let elapsed = clock.now - started
            #expect([0, 2].contains(result.exitCode), "exit \(result.exitCode)\n\(result.stderr)\n\(result.stdout)")
            let document = try CLIHarness.json(result.stdout)
            if let errors = try await CLIHarness.schemaErrors(result.stdout) {
                #expect(errors.isEmpty, "\(errors)")
            } else {
                #expect(!Self.inCI, "python3's jsonschema is missing (.ci/run installs it)")
            }

            let id = try #require(document["run_id"] as? String)
            let export = try await binary.run(
                ["runs", "export", id, "--store", store], environment: environment, directory: sandbox.root)
            let calls = try CLIHarness.json(export.stdout)["calls"] as? [[String: Any]] ?? []
            #expect(!calls.isEmpty, "\(export.stderr)")
            let coverage = try #require(document["coverage"] as? [String: Any])
            let reasons = coverage["reasons"] as? [String] ?? []
            if coverage["degraded"] as? Bool == true { #expect(!reasons.isEmpty, "\(coverage)") }

            // No call timed out: with `max_concurrent: 1` a call's timeout starts when it is sent.
            let timeout = "timeout|timed out|no reply within|did not answer within|stalled"
            let timedOut = calls.compactMap { $0["error"] as? String }.filter {
                $0.lowercased().range(of: timeout, options: .regularExpression) != nil
            }
            #expect(timedOut.isEmpty, "\(timedOut)")
            #expect(!reasons.contains { $0.lowercased().range(of: timeout, options: .regularExpression) != nil })

            // Structured stages: each call records the mode it was sent in (the server refuses
            // json_schema with HTTP 500, so json_object), and each stage either produced its result
            // or the run says why not (an unreadable review is unscored, never a silent score).
            let structured = calls.filter { (($0["request"] as? [String: Any])?["response_format"]) != nil }
            let modes = structured.map { ($0["reply"] as? [String: Any])?["structured_mode"] as? String }
            #expect(modes.allSatisfy { $0 == "json_object" || $0 == "prompt" }, "\(modes)")
            func format(_ call: [String: Any]) -> String? {
                ((call["request"] as? [String: Any])?["response_format"] as? [String: Any])?["name"] as? String
            }
            let formats = Set(structured.compactMap(format))
            if formats.contains("evaluation") {
                let reviews = coverage["reviews_received"] as? Int ?? 0
                #expect(reviews > 0 || reasons.contains { $0.contains("unscored") }, "\(coverage)")
            }
            if formats.contains("synthesis") {
                let winner = (document["winner"] as? [String: Any])?["member_id"] as? String
                #expect(winner == "arbiter" || reasons.contains { $0.contains("synthesis") }, "\(document)")
            }
            if formats.contains("verification_questions") {
                let checked = calls.contains {
                    let node = $0["node"] as? String ?? ""
                    return node.contains(".verify.") && !node.contains(".verify.plan")
                }
                #expect(checked || reasons.contains { $0.contains("verification plan") }, "\(coverage)")
            }

            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "real server: \(builtin.name): exit \(result.exitCode), status \(document["status"] ?? "?"), "
                    + "\(calls.count) calls, \(String(format: "%.1f", seconds)) s, structured \(Set(modes.compactMap { $0 }).sorted()), "
                    + "reasons \(reasons)")
        }
    }
}
