import Foundation
import Testing

extension CLIEndToEnd {
    /// `--budget` against calls that think: three Claude members at `reasoning_effort: high` against a fake
    /// Anthropic server that reports the thinking as output, as the API does. The budget check reserves each
    /// call in flight at the most it can be billed (its output cap, thinking included), so a wave of calls
    /// cannot pass the budget together; a call the run cannot afford at its estimate is not made, and one that
    /// does not fit beside the calls in flight waits for them.
    @Suite struct BudgetCLITests {
        /// claude-opus-4-6 in the catalog: $5 in, $25 out per million tokens.
        private static let inputPrice = 5e-6
        private static let outputPrice = 25e-6

        private func run(
            params: String, budget: String, outputTokens: Int, format: String = "json"
        ) async throws -> (RefineryBinary.Result, requests: Int) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let workflow = """
                refinery: 1
                name: think
                models:
                  - model: anthropic/claude-opus-4-6
                    instances: 3
                    params: \(params)
                stages:
                  - propose
                  - repeat: [evaluate, close]
                iterations: { min: 1, max: 2 }
                """
            try sandbox.write("think.yaml", Data(workflow.utf8))
            return try await FakeServer.run { server in
                server.route(FakeAnthropic.path) { _ in
                    .sse(FakeAnthropic.events([CLIHarness.universalReply()], input: 50, output: outputTokens))
                }
                var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                environment["ANTHROPIC_API_KEY"] = "sk-ant-test-abcdefghijklmnop"
                let result = try await binary.run(
                    ["run", "think.yaml", "What is 2+2?", "--budget", budget, "--output-format", format],
                    environment: environment, directory: sandbox.root)
                return (result, server.requests.count)
            }
        }

        /// A budget too small for the first call: no call is made and no member answers. The JSON keeps the seed's
        /// `winner` key, as `null` (it was left out, so `result["winner"]` failed in a script), and coverage says
        /// the run is not whole (it read `degraded: false` with no reason, as if every member had answered).
        @Test func aBudgetStopBeforeAnyAnswerPrintsANullWinnerAndADegradedCoverage() async throws {
            let (result, requests) = try await run(
                params: "{ max_tokens: 1000 }", budget: "0", outputTokens: 100)
            #expect(result.exitCode == 1, "\(result.stderr)")
            #expect(requests == 0)
            let report = try CLIHarness.json(result.stdout)
            #expect(report["status"] as? String == "budget_exhausted")
            #expect(report.keys.contains("winner"), "\(result.stdout)")
            #expect(report["winner"] is NSNull, "\(result.stdout)")
            let coverage = try #require(report["coverage"] as? [String: Any])
            #expect(coverage["degraded"] as? Bool == true, "\(coverage)")
            let reasons = coverage["reasons"] as? [String] ?? []
            #expect(reasons.contains("the budget stopped the run before any answer"), "\(reasons)")
            if let errors = try await CLIHarness.schemaErrors(result.stdout) { #expect(errors == []) }
        }

        /// Capped calls: `max_tokens` 1,000 plus the 16,384-token thinking budget of `high` is 17,384 output
        /// tokens a call, ~$0.4346 with its input. Each call's reservation is then its worst case, and the fake
        /// reports less input than estimated, so the spend never passes the budget (bound: $0). Two calls fit
        /// in $1 together; the third waits for them and is not made (it would pass $1 after them). The old
        /// check priced each call at max_tokens alone (~$0.026) and let the whole first wave start: 3 calls at
        /// 17,000 output tokens spent $1.28.
        @Test func callsInFlightTogetherStayUnderTheBudget() async throws {
            let (result, requests) = try await run(
                params: "{ reasoning_effort: high, max_tokens: 1000 }", budget: "1.00", outputTokens: 17_000)
            #expect(result.exitCode == 1, "\(result.stderr)")
            let report = try CLIHarness.json(result.stdout)
            #expect(report["status"] as? String == "budget_exhausted")
            let cost = try #require(report["cost_usd"] as? Double)
            #expect(cost <= 1.00, "spent $\(cost) under --budget 1.00")
            #expect(requests == 2)
            #expect(abs(cost - 2 * (50 * Self.inputPrice + 17_000 * Self.outputPrice)) < 1e-9)
            let stoppedBy = report["stopped_by"] as? String ?? ""
            #expect(stoppedBy.hasPrefix("budget: next call ~$0.43"), "\(stoppedBy)")
            #expect(stoppedBy.contains("would pass $1.00 (spent $0.8505)"), "\(stoppedBy)")
        }

        /// The session-14 repro: no `max_tokens`, `--budget 0.05`. An uncapped call is estimated at the answer the
        /// estimate assumes (800 tokens, ~$0.02) but may be billed up to the cap its provider sends (Anthropic's
        /// default 8,192 plus the 16,384-token thinking budget: ~$0.61). The first call fits at its estimate and
        /// starts alone; the others wait for it, and after it (billed 20,000 output tokens, $0.50) none fits. The
        /// bound: one lone call's cap beyond its estimate, (24,576 − 800) × $25/M ≈ $0.594; the run says it passed
        /// the budget. The old check let two calls start together ($1.00) and named only "(spent $0, ...)".
        @Test func anUncappedThinkingCallRunsAloneAndThePassedBudgetIsSaid() async throws {
            let (json, requests) = try await run(
                params: "{ reasoning_effort: high }", budget: "0.05", outputTokens: 20_000)
            #expect(json.exitCode == 1, "\(json.stderr)")
            let report = try CLIHarness.json(json.stdout)
            #expect(report["status"] as? String == "budget_exhausted")
            let cost = try #require(report["cost_usd"] as? Double)
            #expect(cost <= 0.05 + Double(24_576 - 800) * Self.outputPrice)
            #expect(requests == 1)
            let reasons = (report["coverage"] as? [String: Any])?["reasons"] as? [String] ?? []
            #expect(
                reasons.contains { $0.hasPrefix("the run spent $0.500") && $0.contains(", past its $0.05 budget") },
                "\(reasons)")
            let (text, _) = try await run(
                params: "{ reasoning_effort: high }", budget: "0.05", outputTokens: 20_000, format: "text")
            #expect(text.exitCode == 1)
            #expect(text.stdout.contains("status: budget_exhausted (budget: next call"), "\(text.stdout)")
            #expect(text.stdout.contains(", past its $0.05 budget"), "\(text.stdout)")
        }
    }
}
