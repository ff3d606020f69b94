// What `refinery models` shows: aliases, prices and credential presence (never values).

import Foundation
import RefineryCompiler
import RefineryProviders

/// The model catalog and which providers can authenticate.
public struct ModelsReport: Sendable, Hashable, Codable {
    /// An alias and what it resolves to.
    public struct Alias: Sendable, Hashable, Codable {
        /// Alias name.
        public var name: String
        /// `provider/model`.
        public var target: String
        /// Implied parameters, e.g. `reasoning_effort=high`.
        public var params: String
    }

    /// A price entry.
    public struct Price: Sendable, Hashable, Codable {
        /// `provider/model` or `provider/*`.
        public var model: String
        /// USD per million input tokens.
        public var input: Double
        /// USD per million output tokens.
        public var output: Double
        /// USD per million input tokens read from the provider's prompt cache, as charged (the input price when
        /// the entry gives none).
        public var cachedInput: Double
        /// USD per million input tokens written to the prompt cache (Anthropic's 5-minute writes), as charged.
        public var cacheWrite: Double
        /// USD per million input tokens written to the prompt cache with the 1-hour lifetime, as charged.
        public var cacheWrite1h: Double

        /// The prices of every token of a call whose prompt is over `above` tokens, as charged; absent when the
        /// model has one price whatever the prompt's length.
        public var longContext: LongContext?

        /// The catalog file's names for the same prices (`cache_write_1h`, which the output's snake_case
        /// conversion would spell `cache_write1h`).
        enum CodingKeys: String, CodingKey {
            case model, input, output
            case cachedInput = "cached_input"
            case cacheWrite = "cache_write"
            case cacheWrite1h = "cache_write_1h"
            case longContext = "long_context"
        }
    }

    /// A price entry's long-prompt tier.
    public struct LongContext: Sendable, Hashable, Codable {
        /// The prompt length in tokens past which these prices apply.
        public var above: Int
        /// USD per million input tokens.
        public var input: Double
        /// USD per million output tokens.
        public var output: Double
        /// USD per million input tokens read from the provider's cache, as charged.
        public var cachedInput: Double

        enum CodingKeys: String, CodingKey {
            case above, input, output
            case cachedInput = "cached_input"
        }
    }

    /// A provider's credential variables and which are set.
    public struct Credentials: Sendable, Hashable, Codable {
        /// Provider key.
        public var provider: String
        /// Variables it reads a key from (empty: none needed).
        public var variables: [String]
        /// The ones that are set.
        public var present: [String]
    }

    /// Aliases, sorted.
    public var aliases: [Alias]
    /// Prices, sorted by model.
    public var prices: [Price]
    /// Credential status per provider.
    public var credentials: [Credentials]
}

extension RunService {
    /// `refinery models`.
    public func models() async throws -> ModelsReport {
        let catalog = try catalog()
        let aliases = catalog.aliases.keys.sorted().compactMap { name -> ModelsReport.Alias? in
            guard let alias = catalog.aliases[name] else { return nil }
            var params: [String] = []
            if let effort = alias.params.reasoningEffort { params.append("reasoning_effort=\(effort)") }
            if let temperature = alias.params.temperature { params.append("temperature=\(temperature)") }
            if let maxTokens = alias.params.maxTokens { params.append("max_tokens=\(maxTokens)") }
            return ModelsReport.Alias(
                name: name, target: alias.target.description, params: params.joined(separator: ", "))
        }
        let prices = catalog.prices.keys.sorted().compactMap { key -> ModelsReport.Price? in
            catalog.prices[key].map { price in
                ModelsReport.Price(
                    model: key, input: price.inputPerMillion, output: price.outputPerMillion,
                    cachedInput: price.effectiveCachedInputPerMillion, cacheWrite: price.effectiveCacheWritePerMillion,
                    cacheWrite1h: price.effectiveCacheWrite1hPerMillion,
                    longContext: price.longContext.map { long in
                        let tier = price.tier(forInputTokens: long.aboveInputTokens + 1)
                        return ModelsReport.LongContext(
                            above: long.aboveInputTokens, input: tier.inputPerMillion, output: tier.outputPerMillion,
                            cachedInput: tier.effectiveCachedInputPerMillion)
                    })
            }
        }
        let environment = ProviderEnvironment.load(environment: environment, dotEnvDirectory: workingDirectory.path)
        let configuration = try providersConfiguration()
        let credentials = try await ProviderRegistry.withRegistry(
            environment: environment, configuration: configuration, logger: Self.logger(debug: false)
        ) { registry in
            registry.credentialStatus().map {
                ModelsReport.Credentials(provider: $0.provider, variables: $0.variables, present: $0.present)
            }
        }
        return ModelsReport(aliases: aliases, prices: prices, credentials: credentials)
    }
}
