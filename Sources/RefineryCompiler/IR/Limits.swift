// Run limits and convergence settings of the checked IR, with the defaults the compiler applies.

/// Run limits. Defaults: 120 s per call, 8 concurrent calls, 3 retries, no budget, quorum 2
/// (or the member count when there is a single member).
public struct Limits: Sendable, Hashable, Codable {
    /// Per-call timeout, in seconds.
    public var timeoutSeconds: Double
    /// Maximum calls in flight across the run.
    public var maxConcurrent: Int
    /// Maximum calls in flight per provider key; providers not listed use `maxConcurrent`.
    public var perProvider: [String: Int]
    /// Retries after the first attempt for a transient failure.
    public var retries: Int
    /// Budget in US dollars; `nil` means no cap.
    public var budgetUSD: Double?
    /// Minimum number of members that must answer for a round to count.
    public var quorum: Int

    /// Creates limits.
    public init(
        timeoutSeconds: Double = 120, maxConcurrent: Int = 8, perProvider: [String: Int] = [:],
        retries: Int = 3, budgetUSD: Double? = nil, quorum: Int = 2
    ) {
        self.timeoutSeconds = timeoutSeconds
        self.maxConcurrent = maxConcurrent
        self.perProvider = perProvider
        self.retries = retries
        self.budgetUSD = budgetUSD
        self.quorum = quorum
    }
}

/// The convergence rule applied by `close` stages.
public struct Convergence: Sendable, Hashable, Codable {
    /// The strategy and its options.
    public var strategy: ConvergenceStrategy

    /// Creates a rule. Default: `vote-threshold` with threshold 8.0 and stability 2.
    public init(strategy: ConvergenceStrategy = .voteThreshold(threshold: 8.0, stability: 2)) {
        self.strategy = strategy
    }
}

/// A convergence strategy (DESIGN §2).
public enum ConvergenceStrategy: Sendable, Hashable, Codable {
    /// Top mean score ≥ `threshold` and the same leader for `stability` consecutive rounds.
    case voteThreshold(threshold: Double, stability: Int)
    /// Arbiter confidence (0–1) ≥ `threshold` and the synthesis does not ask for another iteration.
    case confidence(threshold: Double)
    /// Successive drafts compared by the char → Jaccard → embedding cascade.
    case semantic(SemanticOptions)
    /// Every answer's mean score ≥ `threshold`.
    case unanimous(threshold: Double)
    /// The latest vote's winning share (0–1) ≥ `threshold`: adaptive self-consistency.
    case agreement(threshold: Double)
    /// Run to `iterations.max`.
    case none

    /// The name used in workflow files and output: `vote-threshold`, `confidence`, ...
    public var name: String {
        switch self {
        case .voteThreshold: "vote-threshold"
        case .confidence: "confidence"
        case .semantic: "semantic"
        case .unanimous: "unanimous"
        case .agreement: "agreement"
        case .none: "none"
        }
    }
}

/// Options of the semantic cascade (ChatCLI's self-refine defaults).
public struct SemanticOptions: Sendable, Hashable, Codable {
    /// Char similarity at or above this converges at once.
    public var charHigh: Double
    /// Char similarity below this diverges at once.
    public var charLow: Double
    /// Jaccard similarity at or above this converges (when the token sets are large enough).
    public var jaccardHigh: Double
    /// Embedding cosine similarity needed to converge.
    public var threshold: Double
    /// Embedding model; `nil` disables the embedding scorer (cascade stops at Jaccard).
    public var embeddingModel: ModelRef?
    /// What to do when the embedder is unavailable.
    public var mode: Mode
    /// LRU cache entries for embeddings.
    public var cacheSize: Int
    /// Cache time-to-live, in seconds.
    public var cacheTTLSeconds: Double
    /// Consecutive embedder failures before the breaker opens.
    public var breakerFailures: Int
    /// How long the breaker stays open, in seconds.
    public var breakerCooldownSeconds: Double
    /// Roll back to the best draft when similarity to the original starts dropping.
    public var regressionGuard: Bool

    /// Embedder-down behaviour.
    public enum Mode: String, Sendable, Hashable, Codable {
        /// Degrade to Jaccard and continue.
        case permissive
        /// Refuse to converge without the embedder.
        case strict
    }

    /// Creates options with the seed's defaults.
    public init(
        charHigh: Double = 0.99, charLow: Double = 0.3, jaccardHigh: Double = 0.95, threshold: Double = 0.92,
        embeddingModel: ModelRef? = nil, mode: Mode = .permissive, cacheSize: Int = 256,
        cacheTTLSeconds: Double = 300, breakerFailures: Int = 3, breakerCooldownSeconds: Double = 30,
        regressionGuard: Bool = true
    ) {
        self.charHigh = charHigh
        self.charLow = charLow
        self.jaccardHigh = jaccardHigh
        self.threshold = threshold
        self.embeddingModel = embeddingModel
        self.mode = mode
        self.cacheSize = cacheSize
        self.cacheTTLSeconds = cacheTTLSeconds
        self.breakerFailures = breakerFailures
        self.breakerCooldownSeconds = breakerCooldownSeconds
        self.regressionGuard = regressionGuard
    }
}
