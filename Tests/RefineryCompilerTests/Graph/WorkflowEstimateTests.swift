import Foundation
import Testing

@testable import RefineryCompiler

@Suite struct WorkflowEstimateTests {
    typealias F = GraphFixtures

    /// $1 per million input tokens, $2 per million output tokens, for the fixtures' model only.
    static let catalog = ModelCatalog(
        aliases: [:],
        prices: ["anthropic/claude-opus-4-6": ModelPricing(inputPerMillion: 1, outputPerMillion: 2)],
        providers: ["anthropic"])

    static func estimate(_ workflow: Workflow, prompt: Int = 100) -> WorkflowEstimate {
        WorkflowEstimate.estimate(workflow: workflow, catalog: catalog, promptTokens: prompt)
    }

    @Test(arguments: [
        ("consensus-classic", 12), ("consensus", 9),
    ])
    func oneRoundCallsForThreeMembers(name: String, calls: Int) {
        var workflow = name == "consensus" ? F.consensus : F.consensusClassic
        workflow.iterations = Iterations(min: 1, max: 1)
        let estimate = Self.estimate(workflow)
        #expect(estimate.calls == EstimateRange(min: calls, max: calls))
        #expect(estimate.perRound.map(\.calls) == [calls])
    }

    /// An evaluate stage's `rubric` is read by every review call: the estimate (and the engine's budget check,
    /// which prices a call with the same ``EstimateAssumptions/inputTokens``) counts its tokens, with the
    /// default prompts and with a template of the stage's own. It was left out of both.
    @Test(arguments: [false, true])
    func aRubricIsCountedInEveryReview(ownTemplate: Bool) {
        var common = StageCommon()
        if ownTemplate { common.prompt = PromptTemplate(user: String(repeating: "t", count: 400)) }
        func workflow(rubric: String?) -> Workflow {
            var workflow = F.workflow([
                .repeat([F.propose, .evaluate(EvaluateStage(common: common, mode: .pairwise, rubric: rubric)), F.close])
            ])
            workflow.iterations = Iterations(min: 1, max: 1)
            return workflow
        }
        let plain = Self.estimate(workflow(rubric: nil))
        let rubric = String(repeating: "r", count: 4_000)  // 1,000 tokens
        let judged = Self.estimate(workflow(rubric: rubric))
        // Three members, six pairwise reviews, each reading the rubric.
        #expect(judged.tokens.input.max - plain.tokens.input.max == 6 * 1_000)
        #expect(judged.costUSD.max > plain.costUSD.max)
    }

    @Test func callsScaleWithRounds() {
        var workflow = F.consensusClassic
        workflow.iterations = Iterations(min: 2, max: 4)
        let estimate = Self.estimate(workflow)
        #expect(estimate.rounds == EstimateRange(min: 2, max: 4))
        #expect(estimate.calls == EstimateRange(min: 24, max: 48))
        #expect(estimate.stages.map(\.stage) == ["propose", "evaluate", "refine", "close"])
        #expect(estimate.stages.map(\.callsPerPass) == [3, 6, 3, 0])
        #expect(estimate.stages[1].calls == EstimateRange(min: 12, max: 24))
    }

    @Test func singleCallTokensAndDollars() {
        let workflow = F.workflow([F.propose], members: [F.member("solo")])
        let estimate = Self.estimate(workflow)
        #expect(estimate.rounds == EstimateRange(min: 0, max: 0))
        #expect(estimate.calls == EstimateRange(min: 1, max: 1))
        #expect(estimate.tokens.input == EstimateRange(min: 250, max: 250))  // 100 prompt + 150 template
        #expect(estimate.tokens.output == EstimateRange(min: 800, max: 800))
        #expect(abs(estimate.costUSD.max - 0.00185) < 1e-12)
        #expect(estimate.unpricedModels.isEmpty)
    }

    /// Round 1: propose 250 in / 800 out each; evaluate 100 + 400 + 800 = 1,300 in / 350 out each.
    /// Round 2: propose reads its own history (800 answer + 350 review): 1,400 in.
    @Test func ownHistoryContextGrowsWithRounds() {
        var workflow = F.consensus
        workflow.members = [F.member("a"), F.member("b")]
        workflow.iterations = Iterations(min: 1, max: 2)
        workflow.convergence = Convergence(strategy: .voteThreshold(threshold: 8, stability: 1))
        let estimate = Self.estimate(workflow)
        #expect(estimate.perRound.map(\.inputTokens) == [3_100, 5_400])
        #expect(estimate.perRound.map(\.outputTokens) == [2_300, 2_300])
        #expect(estimate.tokens.input == EstimateRange(min: 3_100, max: 8_500))
        #expect(abs(estimate.costUSD.min - 0.0077) < 1e-12)
        #expect(abs(estimate.costUSD.max - 0.0177) < 1e-12)
    }

    @Test func maxTokensAndSystemPromptChangeTheCall() {
        var member = F.member("solo")
        member.params = ModelParams(maxTokens: 100)
        member.system = String(repeating: "x", count: 40)  // 10 tokens
        let estimate = Self.estimate(F.workflow([F.propose], members: [member]))
        #expect(estimate.tokens.input.max == 260)
        #expect(estimate.tokens.output.max == 100)
    }

    /// `max_tokens` is the answer's allowance: Anthropic adds the thinking budget of the reasoning effort to the
    /// cap it sends, Gemini its thoughts (32,768 for a model that thinks by default), and both bill thinking as
    /// output. A capped call is priced at all of it; it was priced at `max_tokens` alone. OpenAI's cap already
    /// counts a reasoning model's thinking.
    @Test(arguments: [
        ("anthropic", "claude-opus-4-6", nil, 500), ("anthropic", "claude-opus-4-6", "high", 500 + 16_384),
        ("gemini", "gemini-2.5-pro", nil, 500 + 32_768), ("gemini", "gemini-2.5-pro", "low", 500 + 1_024),
        ("gemini", "gemini-2.0-flash", nil, 500), ("openai", "o3", "high", 500),
    ] as [(String, String, String?, Int)])
    func aCappedCallIsPricedWithTheThinkingItMayBeBilled(provider: String, model: String, effort: String?, output: Int)
    {
        var member = F.member("solo", model, provider: provider)
        member.params.maxTokens = 500
        member.params.reasoningEffort = effort
        let estimate = Self.estimate(F.workflow([F.propose], members: [member]))
        #expect(estimate.tokens.output.max == output)
    }

    /// A fallback model without a price is unpriced: a run may call it, and a budget counts it as $0.
    @Test func anUnpricedFallbackIsNamed() {
        var member = F.member("a")
        member.fallback = [ModelRef(provider: "vllm", model: "llama")]
        let estimate = Self.estimate(F.workflow([F.propose], members: [member]))
        #expect(estimate.unpricedModels == ["vllm/llama"])
        #expect(estimate.unpricedCalls == EstimateRange(min: 0, max: 0))
    }

    @Test func unknownPriceIsReportedNotZero() {
        let members = [F.member("a"), F.member("local", "llama", provider: "vllm")]
        let estimate = Self.estimate(F.workflow([F.propose], members: members))
        #expect(estimate.unpricedModels == ["vllm/llama"])
        #expect(estimate.unpricedCalls == EstimateRange(min: 1, max: 1))
        #expect(abs(estimate.costUSD.max - 0.00185) < 1e-12)
        #expect(estimate.text.contains("Unpriced (not in the catalog, not counted in cost): vllm/llama — 1 call."))
    }

    @Test func verifyIsKPlusTwoCalls() {
        let stages: [Stage] = [F.propose, .verify(VerifyStage(questions: 4))]
        let estimate = Self.estimate(F.workflow(stages, members: [F.member("solo")]))
        #expect(estimate.calls.max == 1 + 6)
        // Answers get neither prompt nor draft: 200 template + 50 question each.
        #expect(estimate.stages[1].inputTokens.max == (100 + 200 + 800) + 4 * 250 + (100 + 200 + 800 + 200 + 4 * 250))
    }

    @Test func jsonHasTheDocumentedTopLevelShape() throws {
        let data = try JSONEncoder().encode(Self.estimate(F.consensusClassic))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(
            Set(json.keys) == [
                "workflow", "rounds", "calls", "tokens", "cost_usd", "unpriced_models", "unpriced_calls",
                "prompt_tokens", "per_round", "stages", "max_priced_at_fallback",
            ])
        let calls = try #require(json["calls"] as? [String: Int])
        #expect(calls == ["min": 24, "max": 60])  // stability 2: at least 2 rounds
        let tokens = try #require(json["tokens"] as? [String: [String: Int]])
        #expect(Set(tokens.keys) == ["input", "output"])
        let cost = try #require(json["cost_usd"] as? [String: Double])
        #expect(Set(cost.keys) == ["min", "max"])
        let perRound = try #require(json["per_round"] as? [[String: Any]])
        #expect(perRound.count == 5)
        #expect(Set(perRound[0].keys) == ["round", "calls", "input_tokens", "output_tokens", "cost_usd"])
        let stage = try #require((json["stages"] as? [[String: Any]])?.first)
        #expect(stage["section"] as? String == "round")
        #expect(stage["calls_per_pass"] as? Int == 3)
    }

    @Test func textTable() {
        let estimate = Self.estimate(F.workflow([F.propose, F.synthesize], members: [F.member("a"), F.member("b")]))
        #expect(
            estimate.text == """
                Estimate for t: single pass, prompt ≈ 100 tokens

                stage          section  calls/pass  calls  input tokens  output tokens     cost
                s0 propose     prelude           2      2           500          1,600  $0.0037
                s1 synthesize  prelude           1      1         2,100          1,000  $0.0041
                total                                   3         2,600          2,600  $0.0078

                All models priced from the catalog.
                Tokens are estimates: prompt bytes ÷ 4 plus template overhead; outputs at max_tokens (and the thinking it allows) or defaults.
                Calls: min stops at the earliest round the strategy allows, skips refines under min_bytes and takes no
                verification question; max runs every round and call. Retries count once; a format re-ask or a fallback
                adds a call; a dropped member or a budget, deadline or quorum stop makes fewer.

                """)
    }
}
