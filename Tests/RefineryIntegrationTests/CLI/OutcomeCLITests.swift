import Foundation
import Testing

extension CLIEndToEnd {
    /// What every output of the `refinery` binary says produced the answer: a single model's run, a
    /// lone member that ran out of rounds, a run below quorum, an arbiter replaced by its fallback.
    @Suite struct OutcomeCLITests {
        private func withSandbox(
            _ handler: @escaping @Sendable (RecordedRequest) -> FakeReply,
            _ body: @Sendable (RefineryBinary, Sandbox, [String: String]) async throws -> Void
        ) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, handler: handler)
                try await body(binary, sandbox, CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL))
            }
        }

        private static let answer = FakeOpenAI.completion(CLIHarness.universalReply())

        /// `model` is refused for good (404); every other model answers.
        private static func failing(_ model: String) -> @Sendable (RecordedRequest) -> FakeReply {
            { request in
                request.json?["model"] as? String == model
                    ? FakeOpenAI.error("no such model", type: "invalid_request_error", status: 404) : answer
            }
        }

        @Test func aSingleModelRunPrintsItsAnswerInEveryFormat() async throws {
            try await withSandbox({ _ in Self.answer }) { binary, sandbox, environment in
                let models = ["--models", "openai/gpt-4o"]
                let text = try await binary.run(["q"] + models, environment: environment, directory: sandbox.root)
                #expect(text.exitCode == 0, "\(text.stderr)")
                #expect(text.stdout.hasPrefix(#"{"answer":"Four."#), "\(text.stdout)")
                #expect(text.stdout.contains("status: single_model"))
                let markdown = try await binary.run(
                    ["q"] + models + ["--output-format", "markdown"], environment: environment,
                    directory: sandbox.root)
                #expect(markdown.stdout.contains("## Answer ("), "\(markdown.stdout)")
                #expect(markdown.stdout.contains(#"{"answer":"Four."#))
                let json = try await binary.run(
                    ["q"] + models + ["--output-format", "json"], environment: environment, directory: sandbox.root)
                let report = try CLIHarness.json(json.stdout)
                #expect(report["status"] as? String == "single_model")
                let winner = try #require(report["winner"] as? [String: Any])
                #expect(winner["model_id"] as? String == "openai/gpt-4o")
                #expect(winner["degraded"] as? Bool == false)
                if let errors = try await CLIHarness.schemaErrors(json.stdout) { #expect(errors == []) }

                // Asked once in a workflow whose members revise from each other's reviews too: the lone member
                // was asked to revise its answer from "(No reviews were received.)", a second call paid for nothing.
                let classic = try await binary.run(
                    ["run", "consensus-classic", "q"] + models + ["--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                let classicReport = try CLIHarness.json(classic.stdout)
                #expect(classicReport["status"] as? String == "single_model", "\(classic.stdout)")
                #expect((classicReport["metadata"] as? [String: Any])?["total_calls"] as? Int == 1, "\(classic.stdout)")
                let estimate = try await binary.run(
                    ["estimate", "consensus-classic"] + models + ["--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect((try CLIHarness.json(estimate.stdout)["calls"] as? [String: Any])?["max"] as? Int == 1)
            }
        }

        /// A server that reports no usage (llama.cpp's streams): the counts are estimates, and the text and
        /// markdown summaries and `runs show` say so, as JSON's `tokens.estimated` does. They printed the
        /// estimate as if the server had counted it.
        @Test func estimatedTokensAreMarkedInTextMarkdownAndRunsShow() async throws {
            try await withSandbox({ _ in FakeOpenAI.stream(["Four."], usage: false) }) {
                binary, sandbox, environment in
                let models = ["--models", "openai/gpt-4o"]
                let json = try await binary.run(
                    ["q"] + models + ["--output-format", "json"], environment: environment, directory: sandbox.root)
                let report = try CLIHarness.json(json.stdout)
                #expect((report["tokens"] as? [String: Any])?["estimated"] as? Bool == true, "\(report)")
                let text = try await binary.run(["q"] + models, environment: environment, directory: sandbox.root)
                #expect(text.stdout.contains(/tokens: \d+ in \/ \d+ out \(estimated\)/), "\(text.stdout)")
                let markdown = try await binary.run(
                    ["q"] + models + ["--output-format", "markdown"], environment: environment,
                    directory: sandbox.root)
                #expect(markdown.stdout.contains(/tokens: \d+ in \/ \d+ out \(estimated\)/), "\(markdown.stdout)")
                let runID = try #require(report["run_id"] as? String)
                let show = try await binary.run(
                    ["runs", "show", runID], environment: environment, directory: sandbox.root)
                #expect(show.stdout.contains(/out tokens \(estimated\)/), "\(show.stdout)")
            }
        }

        @Test func aLoneMemberThatNeverConvergedIsMaxRoundsAndExitsTwo() async throws {
            try await withSandbox({ _ in Self.answer }) { binary, sandbox, environment in
                try sandbox.write(
                    "solo.yaml",
                    Data(
                        """
                        refinery: 1
                        name: solo
                        models: [openai/gpt-4o]
                        iterations: { min: 2, max: 2 }
                        convergence: { strategy: none }
                        stages:
                          - repeat:
                              - propose
                              - close
                        output: winner

                        """.utf8))
                let result = try await binary.run(
                    ["run", "solo.yaml", "q", "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(result.exitCode == 2, "\(result.stderr)")
                let report = try CLIHarness.json(result.stdout)
                #expect(report["status"] as? String == "max_rounds")
                #expect((report["winner"] as? [String: Any])?["model_id"] as? String == "openai/gpt-4o")
            }
        }

        @Test func belowQuorumTheBestAnswerSoFarIsPrintedAndMarkedDegraded() async throws {
            try await withSandbox(Self.failing("o3")) { binary, sandbox, environment in
                let models = ["--models", "openai/gpt-4o,openai/o3"]
                let json = try await binary.run(
                    ["q"] + models + ["--output-format", "json"], environment: environment, directory: sandbox.root)
                #expect(json.exitCode == 3, "\(json.stderr)")
                let report = try CLIHarness.json(json.stdout)
                #expect(report["status"] as? String == "insufficient_models")
                let winner = try #require(report["winner"] as? [String: Any], "\(json.stdout)")
                #expect(winner["model_id"] as? String == "openai/gpt-4o")
                #expect(winner["degraded"] as? Bool == true)
                let coverage = try #require(report["coverage"] as? [String: Any])
                #expect(coverage["degraded"] as? Bool == true)
                #expect((coverage["reasons"] as? [String])?.isEmpty == false)
                if let errors = try await CLIHarness.schemaErrors(json.stdout) { #expect(errors == []) }
                let text = try await binary.run(["q"] + models, environment: environment, directory: sandbox.root)
                #expect(text.exitCode == 3)
                #expect(text.stdout.hasPrefix(#"{"answer":"Four."#), "\(text.stdout)")
                #expect(text.stdout.contains("best so far"))
            }
        }

        /// A reply the provider says stopped at its output cap (`finish_reason: length`) is used, but every
        /// output says it may be cut short: it was presented as a whole, undegraded answer.
        @Test func aReplyCutAtItsOutputCapIsNamedInCoverage() async throws {
            let cut = FakeOpenAI.completion(CLIHarness.universalReply(), finish: "length")
            try await withSandbox({ _ in cut }) { binary, sandbox, environment in
                let models = ["--models", "openai/gpt-4o"]
                let json = try await binary.run(
                    ["q"] + models + ["--output-format", "json"], environment: environment, directory: sandbox.root)
                #expect(json.exitCode == 0, "\(json.stderr)")
                let report = try CLIHarness.json(json.stdout)
                let coverage = try #require(report["coverage"] as? [String: Any])
                #expect(coverage["degraded"] as? Bool == true, "\(json.stdout)")
                let reasons = coverage["reasons"] as? [String] ?? []
                #expect(
                    reasons.contains { $0.contains("output cap") && $0.contains("openai/gpt-4o round 1") }, "\(reasons)"
                )
                if let errors = try await CLIHarness.schemaErrors(json.stdout) { #expect(errors == []) }
                let text = try await binary.run(["q"] + models, environment: environment, directory: sandbox.root)
                #expect(text.stdout.contains("stopped at the output cap"), "\(text.stdout)")
            }
        }

        /// A reply the provider's safety filter stopped part-way (each provider's documented finish reason) is
        /// used like one cut at its output cap: every output names it. It was presented as a whole answer.
        @Test(arguments: [
            ("openai/gpt-4o", "content_filter"), ("anthropic/claude-sonnet-4-5", "refusal"),
            ("gemini/gemini-2.5-pro", "SAFETY"), ("gemini/gemini-2.5-pro", "RECITATION"),
        ])
        func aReplyStoppedByTheSafetyFilterIsNamedInCoverage(model: String, reason: String) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let partial = "The first half of an answer"
            try await FakeServer.run { server in
                server.routeAny { request in
                    if request.path == FakeAnthropic.path { return FakeAnthropic.message(partial, stop: reason) }
                    if request.path.hasPrefix("/v1beta/") {
                        return .sse([(nil, FakeGemini.response(partial, finish: reason))])
                    }
                    return FakeOpenAI.completion(partial, finish: reason)
                }
                var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                environment["ANTHROPIC_API_KEY"] = "sk-ant-test-abcdefghijklmnop"
                environment["GEMINI_API_KEY"] = "gemini-test-abcdefghijklmnop"
                let json = try await binary.run(
                    ["q", "--models", model, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(json.exitCode == 0, "\(json.stderr)")
                let report = try CLIHarness.json(json.stdout)
                let coverage = try #require(report["coverage"] as? [String: Any], "\(json.stdout)")
                #expect(coverage["degraded"] as? Bool == true, "\(json.stdout)")
                let reasons = coverage["reasons"] as? [String] ?? []
                #expect(
                    reasons.contains { $0.contains("safety filter") && $0.contains("\(model) round 1") }, "\(reasons)")
                let text = try await binary.run(
                    ["q", "--models", model], environment: environment, directory: sandbox.root)
                #expect(text.stdout.contains("safety filter"), "\(text.stdout)")
            }
        }

        @Test func anArbiterFallbackIsNamedInJSONTextAndRunsShow() async throws {
            try await withSandbox(Self.failing("o3")) { binary, sandbox, environment in
                try sandbox.write(
                    "merge.yaml",
                    Data(
                        """
                        refinery: 1
                        name: merge
                        models: [openai/gpt-4o, openai/gpt-4o-mini]
                        arbiter: { model: openai/o3, fallback: [openai/gpt-4o] }
                        stages:
                          - propose
                          - synthesize
                        output: synthesis

                        """.utf8))
                let json = try await binary.run(
                    ["run", "merge.yaml", "q", "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(json.exitCode == 0, "\(json.stderr)")
                let report = try CLIHarness.json(json.stdout)
                let winner = try #require(report["winner"] as? [String: Any])
                #expect(winner["member_id"] as? String == "arbiter")
                #expect(winner["model_id"] as? String == "openai/gpt-4o")
                #expect(winner["fallback_from"] as? String == "openai/o3")
                if let errors = try await CLIHarness.schemaErrors(json.stdout) { #expect(errors == []) }

                let text = try await binary.run(
                    ["run", "merge.yaml", "q"], environment: environment, directory: sandbox.root)
                #expect(
                    text.stdout.contains("answer: arbiter (openai/gpt-4o, fallback for openai/o3"), "\(text.stdout)")

                let runID = try #require(report["run_id"] as? String)
                let show = try await binary.run(
                    ["runs", "show", runID], environment: environment, directory: sandbox.root)
                #expect(show.exitCode == 0, "\(show.stderr)")
                #expect(show.stdout.contains("arbiter (openai/gpt-4o, fallback for openai/o3"), "\(show.stdout)")
            }
        }

        /// An arbiter whose every model fails for good (here one with no fallback, 404) fails the same way every
        /// round: the run stops below quorum (exit 3, resumable) naming it, instead of paying for the members'
        /// calls of every round to come and ending `max_rounds` with only a count of failed calls.
        @Test func anArbiterThatFailsForGoodStopsTheRunNamingIt() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, handler: Self.failing("o3"))
                let result = try await binary.run(
                    [
                        "run", "consortium", "q", "--models", "openai/gpt-4o,openai/gpt-4o-mini", "--arbiter",
                        "openai/o3", "--output-format", "json",
                    ], environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                #expect(result.exitCode == 3, "\(result.stderr)")
                let report = try CLIHarness.json(result.stdout)
                #expect(report["status"] as? String == "insufficient_models")
                let stoppedBy = try #require(report["stopped_by"] as? String)
                #expect(stoppedBy.hasPrefix("arbiter: openai/o3 failed for good"), "\(stoppedBy)")
                #expect(stoppedBy.contains("no such model"), "\(stoppedBy)")
                let coverage = try #require(report["coverage"] as? [String: Any])
                let reasons = try #require(coverage["reasons"] as? [String])
                #expect(reasons.contains { $0.hasPrefix("arbiter (openai/o3), round 1: ") }, "\(reasons)")
                // Round 1 only: two answers and the arbiter's one call; no member is paid for round 2.
                #expect(server.requests.count == 3, "\(server.requests.count) requests")
                if let errors = try await CLIHarness.schemaErrors(result.stdout) { #expect(errors == []) }
            }
        }

        /// A plan that lists no question (`{"questions": []}`) finds nothing to verify: the draft stands, no
        /// call failed and nothing is degraded. It was re-asked, then counted as a failed call.
        @Test func aVerificationPlanWithNoQuestionsLeavesTheDraftAsItIs() async throws {
            let handler: @Sendable (RecordedRequest) -> FakeReply = { request in
                let format = request.json?["response_format"] as? [String: Any]
                let schema = format?["json_schema"] as? [String: Any]
                return schema?["name"] as? String == "verification_questions"
                    ? FakeOpenAI.completion(#"{"questions": []}"#) : Self.answer
            }
            try await withSandbox(handler) { binary, sandbox, environment in
                let result = try await binary.run(
                    ["run", "verify", "q", "--models", "openai/gpt-4o", "--output-format", "jsonl"],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                let lines = try result.stdout.split(separator: "\n").map { try CLIHarness.json(String($0)) }
                #expect(!lines.contains { $0["type"] as? String == "call_failed" }, "\(result.stdout)")
                let outcome = try #require(lines.last)
                #expect((outcome["metadata"] as? [String: Any])?["total_calls"] as? Int == 2, "\(outcome)")
                let coverage = try #require(outcome["coverage"] as? [String: Any])
                #expect(coverage["degraded"] as? Bool == false, "\(coverage)")
                let winner = try #require(outcome["winner"] as? [String: Any])
                #expect(winner["answer"] as? String == CLIHarness.universalReply(), "\(winner)")
            }
        }

        @Test func anUnreadableVerificationPlanIsReportedInEventsAndCoverage() async throws {
            // The universal reply lists no questions: the planner's reply stays unreadable after the reminder.
            try await withSandbox({ _ in Self.answer }) { binary, sandbox, environment in
                let result = try await binary.run(
                    ["run", "verify", "q", "--models", "openai/gpt-4o", "--output-format", "jsonl"],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                let lines = try result.stdout.split(separator: "\n").map { try CLIHarness.json(String($0)) }
                let failed = lines.filter { $0["type"] as? String == "call_failed" }
                #expect(failed.count == 1, "\(result.stdout)")
                let code = failed.first?["error_code"]
                #expect(code as? String == "invalid_response")
                let coverage = try #require(lines.last?["coverage"] as? [String: Any])
                #expect(coverage["degraded"] as? Bool == true)
                let reasons = coverage["reasons"] as? [String] ?? []
                #expect(reasons.contains { $0.contains("unreadable verification plan") }, "\(reasons)")
            }
        }
    }
}
