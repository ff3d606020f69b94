// Model aliases, provider prefixes and list prices. The built-in table can be overridden
// per user with a YAML file (see ``ModelCatalog/merging(_:)``); the estimator and the
// engine's cost accounting both read prices from here.

import RefinerySyntax

/// Price and limits of one model.
public struct ModelPricing: Sendable, Hashable, Codable {
    /// US dollars per million input tokens.
    public var inputPerMillion: Double
    /// US dollars per million output tokens.
    public var outputPerMillion: Double
    /// US dollars per million input tokens read from the provider's prompt cache; `nil`: the input price.
    public var cachedInputPerMillion: Double?
    /// US dollars per million input tokens written to the prompt cache (Anthropic's 5-minute cache writes);
    /// `nil`: the input price.
    public var cacheWritePerMillion: Double?
    /// US dollars per million input tokens written to the prompt cache with the 1-hour lifetime (Anthropic's
    /// 1-hour cache writes); `nil`: the 5-minute write price.
    public var cacheWrite1hPerMillion: Double?
    /// Context window in tokens, when known.
    public var contextWindow: Int?
    /// The prices of a call whose prompt is longer than a threshold (Gemini's Pro models charge more for every
    /// input and output token of a prompt over 200k tokens); `nil`: one price whatever the prompt's length.
    public var longContext: LongContextPricing?

    /// Creates a price entry.
    public init(
        inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double? = nil,
        cacheWritePerMillion: Double? = nil, cacheWrite1hPerMillion: Double? = nil, contextWindow: Int? = nil,
        longContext: LongContextPricing? = nil
    ) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion
        self.cacheWritePerMillion = cacheWritePerMillion
        self.cacheWrite1hPerMillion = cacheWrite1hPerMillion
        self.contextWindow = contextWindow
        self.longContext = longContext
    }

    /// An Anthropic model's prices: a cache read costs 0.1 times the input price, a 5-minute cache write 1.25
    /// times and a 1-hour write 2 times (Anthropic's pricing page, "Prompt caching"; the same multipliers for
    /// every current model). A catalog file's `anthropic/...` price without cache prices gets these too. A
    /// tenth is `input / 10`, the nearest number to the price a user reads (`3 * 0.1` is 0.30000000000000004).
    package static func anthropic(
        input: Double, output: Double, cachedInput: Double? = nil, cacheWrite: Double? = nil,
        cacheWrite1h: Double? = nil, contextWindow: Int?
    ) -> ModelPricing {
        ModelPricing(
            inputPerMillion: input, outputPerMillion: output, cachedInputPerMillion: cachedInput ?? input / 10,
            cacheWritePerMillion: cacheWrite ?? input * 1.25, cacheWrite1hPerMillion: cacheWrite1h ?? input * 2,
            contextWindow: contextWindow)
    }

    /// The price charged per million cache-read tokens: ``cachedInputPerMillion``, else the input price.
    public var effectiveCachedInputPerMillion: Double { cachedInputPerMillion ?? inputPerMillion }
    /// The price charged per million 5-minute cache-write tokens: ``cacheWritePerMillion``, else the input price.
    public var effectiveCacheWritePerMillion: Double { cacheWritePerMillion ?? inputPerMillion }
    /// The price charged per million 1-hour cache-write tokens: ``cacheWrite1hPerMillion``, else the 5-minute
    /// write price.
    public var effectiveCacheWrite1hPerMillion: Double { cacheWrite1hPerMillion ?? effectiveCacheWritePerMillion }

    /// The prices charged for a call whose prompt is `inputTokens` long (cached tokens included): the
    /// ``longContext`` tier's past its threshold, else this entry's.
    public func tier(forInputTokens inputTokens: Int) -> ModelPricing {
        guard let long = longContext, inputTokens > long.aboveInputTokens else { return self }
        return ModelPricing(
            inputPerMillion: long.inputPerMillion, outputPerMillion: long.outputPerMillion,
            cachedInputPerMillion: long.cachedInputPerMillion, cacheWritePerMillion: cacheWritePerMillion,
            cacheWrite1hPerMillion: cacheWrite1hPerMillion, contextWindow: contextWindow)
    }

    /// Dollars for the given token counts: `cachedInputTokens` and `cacheWriteTokens` are part of `inputTokens`,
    /// `cacheWrite1hTokens` part of `cacheWriteTokens`, each billed at its own price, the rest of the input at
    /// the input price; all at the ``longContext`` prices when the prompt is past their threshold. Every cost
    /// the engine books, every budget reservation and every estimate comes from here.
    public func cost(
        inputTokens: Int, outputTokens: Int, cachedInputTokens: Int = 0, cacheWriteTokens: Int = 0,
        cacheWrite1hTokens: Int = 0
    ) -> Double {
        let price = tier(forInputTokens: inputTokens)
        return price.flatCost(
            inputTokens: inputTokens, outputTokens: outputTokens, cachedInputTokens: cachedInputTokens,
            cacheWriteTokens: cacheWriteTokens, cacheWrite1hTokens: cacheWrite1hTokens)
    }

    private func flatCost(
        inputTokens: Int, outputTokens: Int, cachedInputTokens: Int, cacheWriteTokens: Int, cacheWrite1hTokens: Int
    ) -> Double {
        let cached = min(max(cachedInputTokens, 0), max(inputTokens, 0))
        let written = min(max(cacheWriteTokens, 0), max(inputTokens, 0) - cached)
        let written1h = min(max(cacheWrite1hTokens, 0), written)
        let uncached = Double(inputTokens - cached - written) * inputPerMillion
        let cache =
            Double(cached) * effectiveCachedInputPerMillion + Double(written - written1h)
            * effectiveCacheWritePerMillion + Double(written1h) * effectiveCacheWrite1hPerMillion
        return (uncached + cache + Double(outputTokens) * outputPerMillion) / 1_000_000
    }
}

/// The higher prices some providers charge for every token of a call whose prompt is long: Gemini 2.5 Pro and
/// 3.x Pro bill input, cached input and output at a higher price when the prompt (cached tokens included) is
/// over 200k tokens.
public struct LongContextPricing: Sendable, Hashable, Codable {
    /// The prompt length in tokens past which these prices apply (a prompt of exactly this many is not).
    public var aboveInputTokens: Int
    /// US dollars per million input tokens.
    public var inputPerMillion: Double
    /// US dollars per million output tokens.
    public var outputPerMillion: Double
    /// US dollars per million input tokens read from the provider's cache; `nil`: this tier's input price.
    public var cachedInputPerMillion: Double?

    /// Creates a long-prompt tier.
    public init(
        aboveInputTokens: Int, inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double? = nil
    ) {
        self.aboveInputTokens = aboveInputTokens
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion
    }
}

/// A short name that stands for a provider model with default parameters.
public struct ModelAlias: Sendable, Hashable, Codable {
    /// What the alias resolves to.
    public var target: ModelRef
    /// Parameters the alias implies (e.g. reasoning effort), overridable by the workflow.
    public var params: ModelParams

    /// Creates an alias.
    public init(target: ModelRef, params: ModelParams = ModelParams()) {
        self.target = target
        self.params = params
    }
}

/// Aliases, known providers and prices.
public struct ModelCatalog: Sendable, Hashable, Codable {
    /// Alias name → target.
    public var aliases: [String: ModelAlias]
    /// `provider/model` → price. A key `provider/*` prices every model of a provider.
    public var prices: [String: ModelPricing]
    /// Provider keys that can prefix a model string (`openai/gpt-4o`).
    public var providers: Set<String>

    /// Creates a catalog.
    public init(aliases: [String: ModelAlias], prices: [String: ModelPricing], providers: Set<String>) {
        self.aliases = aliases
        self.prices = prices
        self.providers = providers
    }

    /// The catalog shipped with Refinery (list prices as of 2026-11; override them in
    /// `$XDG_CONFIG_HOME/refinery/catalog.yaml`).
    public static let builtin = ModelCatalog(
        aliases: [
            "claude": ModelAlias(
                target: ModelRef(provider: "anthropic", model: "claude-opus-4-6", alias: "claude"),
                params: ModelParams(reasoningEffort: "high")),
            "codex": ModelAlias(
                target: ModelRef(provider: "openai", model: "gpt-5.4", alias: "codex"),
                params: ModelParams(reasoningEffort: "xhigh")),
            "gemini": ModelAlias(
                target: ModelRef(provider: "gemini", model: "gemini-3.1-pro-preview", alias: "gemini")),
        ],
        prices: [
            // Cached input prices: Anthropic's multipliers (``ModelPricing/anthropic(input:output:contextWindow:)``);
            // OpenAI's and Gemini's "cached input" and "context caching" rows of their pricing pages (Gemini's at
            // prompts up to 200k tokens). No provider but Anthropic bills cache writes apart.
            // Opus 4.7 and 4.8 (adaptive thinking only, 1M context) and Sonnet 4.6: Anthropic's pricing page.
            "anthropic/claude-opus-4-8": .anthropic(input: 5, output: 25, contextWindow: 1_000_000),
            "anthropic/claude-opus-4-7": .anthropic(input: 5, output: 25, contextWindow: 1_000_000),
            "anthropic/claude-opus-4-6": .anthropic(input: 5, output: 25, contextWindow: 200_000),
            "anthropic/claude-sonnet-4-6": .anthropic(input: 3, output: 15, contextWindow: 200_000),
            "anthropic/claude-opus-4-5": .anthropic(input: 5, output: 25, contextWindow: 200_000),
            "anthropic/claude-sonnet-4-5": .anthropic(input: 3, output: 15, contextWindow: 200_000),
            "anthropic/claude-haiku-4-5": .anthropic(input: 1, output: 5, contextWindow: 200_000),
            "openai/gpt-5.4": ModelPricing(
                inputPerMillion: 2.5, outputPerMillion: 15, cachedInputPerMillion: 0.25, contextWindow: 400_000),
            "openai/gpt-5": ModelPricing(
                inputPerMillion: 1.25, outputPerMillion: 10, cachedInputPerMillion: 0.125, contextWindow: 400_000),
            "openai/gpt-5-mini": ModelPricing(
                inputPerMillion: 0.25, outputPerMillion: 2, cachedInputPerMillion: 0.025, contextWindow: 400_000),
            "openai/gpt-4.1": ModelPricing(
                inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: 0.5, contextWindow: 1_047_576),
            "openai/gpt-4o": ModelPricing(
                inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25, contextWindow: 128_000),
            "openai/gpt-4o-mini": ModelPricing(
                inputPerMillion: 0.15, outputPerMillion: 0.6, cachedInputPerMillion: 0.075, contextWindow: 128_000),
            "openai/o3": ModelPricing(
                inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: 0.5, contextWindow: 200_000),
            "openai/o4-mini": ModelPricing(
                inputPerMillion: 1.1, outputPerMillion: 4.4, cachedInputPerMillion: 0.275, contextWindow: 200_000),
            // Embedding models bill input tokens only: OpenAI's list prices (its pricing page and model pages,
            // standard tier, $0.01 and $0.065 in its Batch API) $0.02 and $0.13 per million; Gemini's pricing
            // page lists gemini-embedding-001 at $0.15 per million. The semantic strategy's requests are priced here.
            "openai/text-embedding-3-small": ModelPricing(inputPerMillion: 0.02, outputPerMillion: 0),
            "openai/text-embedding-3-large": ModelPricing(inputPerMillion: 0.13, outputPerMillion: 0),
            // Gemini's Pro models bill a prompt over 200k tokens at their "prompts > 200k tokens" prices, input,
            // cached input and output alike (ai.google.dev/gemini-api/docs/pricing); Flash has one price.
            "gemini/gemini-3.1-pro-preview": ModelPricing(
                inputPerMillion: 2, outputPerMillion: 12, cachedInputPerMillion: 0.2, contextWindow: 1_048_576,
                longContext: LongContextPricing(
                    aboveInputTokens: 200_000, inputPerMillion: 4, outputPerMillion: 18, cachedInputPerMillion: 0.4)),
            "gemini/gemini-2.5-pro": ModelPricing(
                inputPerMillion: 1.25, outputPerMillion: 10, cachedInputPerMillion: 0.125, contextWindow: 1_048_576,
                longContext: LongContextPricing(
                    aboveInputTokens: 200_000, inputPerMillion: 2.5, outputPerMillion: 15, cachedInputPerMillion: 0.25)),
            "gemini/gemini-2.5-flash": ModelPricing(
                inputPerMillion: 0.3, outputPerMillion: 2.5, cachedInputPerMillion: 0.03, contextWindow: 1_048_576),
            "gemini/gemini-embedding-001": ModelPricing(inputPerMillion: 0.15, outputPerMillion: 0),
            "ollama/*": ModelPricing(inputPerMillion: 0, outputPerMillion: 0),
            "command/*": ModelPricing(inputPerMillion: 0, outputPerMillion: 0),
        ],
        providers: ["anthropic", "openai", "gemini", "ollama", "openrouter", "command"]
    )

    /// The price of `model`: an exact `provider/model` entry, else the provider's `provider/*` entry.
    public func pricing(for model: ModelRef) -> ModelPricing? {
        prices[model.description] ?? prices["\(model.provider)/*"]
    }

    /// This catalog with `overrides`' aliases, prices and providers added or replacing its own.
    public func merging(_ overrides: ModelCatalog) -> ModelCatalog {
        ModelCatalog(
            aliases: aliases.merging(overrides.aliases) { _, new in new },
            prices: prices.merging(overrides.prices) { _, new in new },
            providers: providers.union(overrides.providers)
        )
    }

    /// How to fix a model string ``resolve(_:)`` does not know: the closest known name, else the
    /// aliases and every provider (declared endpoints included) a `provider/model` string may start with.
    public func unknownModelHint(_ string: String) -> String {
        let providerList = providers.sorted().joined(separator: ", ")
        let endpointHint = "; a server of your own is an endpoint in `providers.yaml`"
        if let slash = string.firstIndex(of: "/"), !providers.contains(String(string[..<slash])) {
            let provider = String(string[..<slash])
            let closest = Suggestions.closest(to: provider, in: Array(providers)).map { "did you mean `\($0)`? " } ?? ""
            return "\(closest)`\(provider)` is not a provider; the providers are: \(providerList)\(endpointHint)"
        }
        let known = Array(aliases.keys) + prices.keys.filter { !$0.hasSuffix("*") }
        if let suggestion = Suggestions.closest(to: string, in: known) { return "did you mean `\(suggestion)`?" }
        return "use an alias (\(aliases.keys.sorted().joined(separator: ", "))) or `provider/model` with a provider "
            + "of: \(providerList)\(endpointHint)"
    }

    /// Resolves a model string without its `:COUNT` suffix: `claude`, `claude-sonnet-4-5`,
    /// `openai/gpt-4o`, `openrouter/google/gemini-2.5-pro`, `ollama/llama3.2`.
    ///
    /// Rules: an alias wins; `claude-*` goes to Anthropic; `codex-X` is OpenAI model `X`;
    /// `gpt-*`, `o1*`, `o3*`, `o4*`, `text-embedding-*` go to OpenAI; `gemini-*` to Gemini; a
    /// known provider prefix (first path component) selects that provider and the rest is
    /// the model. Anything else is `nil` (an unknown model).
    public func resolve(_ string: String) -> ModelAlias? {
        if let alias = aliases[string] { return alias }
        if let slash = string.firstIndex(of: "/") {
            let provider = String(string[..<slash])
            let model = String(string[string.index(after: slash)...])
            guard providers.contains(provider), !model.isEmpty else { return nil }
            return ModelAlias(target: ModelRef(provider: provider, model: model, alias: string))
        }
        if string.hasPrefix("claude-") {
            return ModelAlias(target: ModelRef(provider: "anthropic", model: string, alias: string))
        }
        if string.hasPrefix("codex-"), string.count > 6 {
            return ModelAlias(target: ModelRef(provider: "openai", model: String(string.dropFirst(6)), alias: string))
        }
        if ["gpt-", "o1", "o3", "o4", "text-embedding-", "chatgpt-"].contains(where: string.hasPrefix) {
            return ModelAlias(target: ModelRef(provider: "openai", model: string, alias: string))
        }
        if string.hasPrefix("gemini-") {
            return ModelAlias(target: ModelRef(provider: "gemini", model: string, alias: string))
        }
        return nil
    }
}
