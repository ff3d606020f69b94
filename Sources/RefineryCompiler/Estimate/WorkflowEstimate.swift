// The dry-run cost estimate of a workflow: calls, tokens and dollars for the fewest and the
// most rounds. Computed from the execution graph without touching the network.

/// A `min`/`max` pair: the value of the cheapest and of the dearest run (see ``WorkflowEstimate``).
public struct EstimateRange<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    /// The value of the cheapest run: fewest rounds, every skippable call skipped.
    public var min: Value
    /// The value of the dearest run: `iterations.max` rounds, every call made.
    public var max: Value

    /// Creates a range.
    public init(min: Value, max: Value) {
        self.min = min
        self.max = max
    }

    private enum CodingKeys: String, CodingKey { case min, max }

    /// Encodes `min` and `max`; dollars (a `Double` range) rounded as ``Dollars/rounded(_:)``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        func shown(_ value: Value) -> Value { (value as? Double).flatMap { Dollars.rounded($0) as? Value } ?? value }
        try container.encode(shown(min), forKey: .min)
        try container.encode(shown(max), forKey: .max)
    }
}

/// What a workflow run is expected to cost, before running it.
///
/// ## What the bracket covers
/// Every run in which each call ends with a readable reply makes between ``calls``.min and
/// ``calls``.max calls (counted as the run's `total_calls`: a call that succeeds after retries counts
/// once), and both ends are reachable:
/// - `min` is the cheapest such run: the repeat block stops at the first round its strategy can
///   stop it (`iterations.min`, but never before round `stability` for `vote-threshold`, round 2
///   for `semantic` without a draft before the block, and always `iterations.max` for `none`),
///   every `refine` that `min_bytes` can skip is skipped, every verification plan lists no question (nothing
///   to verify);
/// - `max` is the dearest: `iterations.max` rounds, every call made, `questions` per plan.
///
/// Outside the bracket: a format-reminder re-ask adds a call, and so does a call that failed for
/// good and was made again on a fallback model; a dropped member, or a run stopped by its budget,
/// deadline or quorum, makes fewer.
///
/// Dollars: `min` prices each call at its own model, `max` at the dearest of its model and the fallbacks it
/// can move to (``maxPricedAtFallback`` names those that raised it).
///
/// JSON (`--output-format json`) has the keys `workflow`, `rounds`, `calls`, `tokens`
/// (`input`, `output`), `cost_usd`, `unpriced_models`, `unpriced_calls`, `max_priced_at_fallback`,
/// `prompt_tokens`, `per_round` and `stages`; every range is `{min, max}`.
public struct WorkflowEstimate: Sendable, Hashable, Codable {
    /// The workflow's name.
    public var workflow: String
    /// Rounds of the repeat block (`0...0` without one): the fewest a run can take, `iterations.max`.
    public var rounds: EstimateRange<Int>
    /// Model calls of the whole run: prelude + rounds × round + epilogue.
    public var calls: EstimateRange<Int>
    /// Input and output tokens of the whole run.
    public var tokens: TokenTotals
    /// US dollars of the priced calls.
    public var costUSD: EstimateRange<Double>
    /// Models without a catalog price (`provider/model`), sorted: those the estimate counts calls of, and the
    /// fallback models a run may call (``Workflow/fallbackModels``), whose calls it does not count.
    public var unpricedModels: [String]
    /// Calls made to unpriced models.
    public var unpricedCalls: EstimateRange<Int>
    /// The fallbacks dearer than the model they stand in for, as `model → fallback`, sorted: `max` prices each
    /// call at the dearest model it can fall back to (a run's budget check holds a call that moved to a fallback
    /// at the fallback's price), `min` at its own model.
    public var maxPricedAtFallback: [String]
    /// The user prompt's size the estimate assumed.
    public var promptTokens: Int
    /// Each round of the longest run (1...`rounds.max`).
    public var perRound: [RoundEstimate]
    /// Each stage of the chain, in order.
    public var stages: [StageEstimate]

    /// Input and output token totals.
    public struct TokenTotals: Sendable, Hashable, Codable {
        /// Input (prompt) tokens.
        public var input: EstimateRange<Int>
        /// Output (completion) tokens.
        public var output: EstimateRange<Int>

        /// Creates totals.
        public init(input: EstimateRange<Int>, output: EstimateRange<Int>) {
            self.input = input
            self.output = output
        }
    }

    /// One round of the repeat block.
    public struct RoundEstimate: Sendable, Hashable, Codable {
        /// Round number, from 1.
        public var round: Int
        /// Model calls in the round.
        public var calls: Int
        /// Input tokens of the round (grows when contexts carry history).
        public var inputTokens: Int
        /// Output tokens of the round.
        public var outputTokens: Int
        /// US dollars of the round's priced calls.
        @Dollars public var costUSD: Double

        /// Creates a round estimate.
        public init(round: Int, calls: Int, inputTokens: Int, outputTokens: Int, costUSD: Double) {
            self.round = round
            self.calls = calls
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.costUSD = costUSD
        }

        enum CodingKeys: String, CodingKey {
            case round, calls
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case costUSD = "cost_usd"
        }
    }

    /// One stage of the chain, over all its passes.
    public struct StageEstimate: Sendable, Hashable, Codable {
        /// The stage's index in the flattened chain.
        public var index: Int
        /// The stage keyword (`propose`, `evaluate`, ...).
        public var stage: String
        /// The section holding the stage.
        public var section: ExecutionGraph.SectionKind
        /// Model calls per pass.
        public var callsPerPass: Int
        /// Model calls over the run.
        public var calls: EstimateRange<Int>
        /// Input tokens over the run.
        public var inputTokens: EstimateRange<Int>
        /// Output tokens over the run.
        public var outputTokens: EstimateRange<Int>
        /// US dollars of the stage's priced calls over the run.
        public var costUSD: EstimateRange<Double>

        /// Creates a stage estimate.
        public init(
            index: Int, stage: String, section: ExecutionGraph.SectionKind, callsPerPass: Int,
            calls: EstimateRange<Int>, inputTokens: EstimateRange<Int>, outputTokens: EstimateRange<Int>,
            costUSD: EstimateRange<Double>
        ) {
            self.index = index
            self.stage = stage
            self.section = section
            self.callsPerPass = callsPerPass
            self.calls = calls
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.costUSD = costUSD
        }

        enum CodingKeys: String, CodingKey {
            case index, stage, section, calls
            case callsPerPass = "calls_per_pass"
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case costUSD = "cost_usd"
        }
    }

    /// Creates an estimate from its parts.
    public init(
        workflow: String, rounds: EstimateRange<Int>, calls: EstimateRange<Int>, tokens: TokenTotals,
        costUSD: EstimateRange<Double>, unpricedModels: [String], unpricedCalls: EstimateRange<Int>,
        promptTokens: Int, perRound: [RoundEstimate], stages: [StageEstimate], maxPricedAtFallback: [String] = []
    ) {
        self.workflow = workflow
        self.rounds = rounds
        self.calls = calls
        self.tokens = tokens
        self.costUSD = costUSD
        self.unpricedModels = unpricedModels
        self.unpricedCalls = unpricedCalls
        self.promptTokens = promptTokens
        self.perRound = perRound
        self.stages = stages
        self.maxPricedAtFallback = maxPricedAtFallback
    }

    enum CodingKeys: String, CodingKey {
        case workflow, rounds, calls, tokens, stages
        case maxPricedAtFallback = "max_priced_at_fallback"
        case costUSD = "cost_usd"
        case unpricedModels = "unpriced_models"
        case unpricedCalls = "unpriced_calls"
        case promptTokens = "prompt_tokens"
        case perRound = "per_round"
    }
}
