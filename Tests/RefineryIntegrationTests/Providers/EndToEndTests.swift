// A built-in workflow run end to end through the real HTTP clients: the shipped `consensus`
// (claude, codex, gemini) against one fake server speaking the Anthropic, OpenAI and Gemini
// wire formats. Proves that engine, prompts, providers and reply parsing fit together.

import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

@Suite struct EndToEndTests {
    /// Whether a request asks for a JSON reply in any of the three wire formats.
    static func wantsJSON(_ body: String) -> Bool {
        body.contains("response_format") || body.contains("Reply with a single JSON object")
            || body.contains("responseMimeType")
    }

    /// Every reviewer scores Claude's answer 9 and the others 5.
    static func review(_ body: String) -> String {
        let score = body.contains("ANSWER-FROM-CLAUDE") ? 9 : 5
        return #"{"strengths":["clear"],"weaknesses":[],"suggestions":["cite"],"rationale":"ok","score":\#(score)}"#
    }

    @Test func consensusRunsThroughTheRealClients() async throws {
        let workflow = try #require(
            try WorkflowLibrary(folders: [], currentDirectory: "/").compile("consensus").workflow)
        try await FakeServer.run { server in
            server.route(FakeAnthropic.path) { request in
                FakeAnthropic.message(Self.wantsJSON(request.body) ? Self.review(request.body) : "ANSWER-FROM-CLAUDE")
            }
            server.route(FakeOpenAI.path) { request in
                FakeOpenAI.completion(Self.wantsJSON(request.body) ? Self.review(request.body) : "ANSWER-FROM-CODEX")
            }
            server.route(FakeGemini.path("gemini-3.1-pro-preview", "generateContent")) { request in
                FakeGemini.reply(Self.wantsJSON(request.body) ? Self.review(request.body) : "ANSWER-FROM-GEMINI")
            }
            let outcome = try await RegistryHarness.with(server) { registry in
                try await Engine(workflow: workflow, providers: registry, configuration: EngineConfiguration(seed: 7))
                    .run("Name the best answer.")
            }
            #expect(outcome.status == .converged)
            #expect(outcome.winner?.model.provider == "anthropic")
            #expect(outcome.winner?.model.model == "claude-opus-4-6")
            #expect(outcome.winner?.answer == "ANSWER-FROM-CLAUDE")
            #expect(outcome.winner?.meanScore == 9)
            // Vote threshold with stability 2: two rounds of N² = 9 calls.
            #expect(outcome.finalRound == 2)
            #expect(outcome.totalCalls == 18)
            #expect(server.requests.count == 18)
            #expect(server.requests.filter { Self.wantsJSON($0.body) }.count == 12)
            #expect(outcome.coverage.membersAnswered == 3)
            #expect(outcome.usage.inputTokens > 0 && outcome.usage.outputTokens > 0)
            #expect(outcome.costUSD > 0)
            let keys = [RegistryHarness.anthropicKey, RegistryHarness.openAIKey, RegistryHarness.geminiKey]
            #expect(!keys.contains { "\(outcome)".contains($0) })
        }
    }
}
