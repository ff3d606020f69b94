package import RefineryCompiler
package import RefineryRuntime

/// Resolves models to scripted providers: one per model string, a default, or a resolution error.
package struct ScriptedResolver: ProviderResolver {
    private let providers: [String: any ModelProvider]
    private let fallback: (any ModelProvider)?
    private let failures: [String: ProviderError]

    /// Creates a resolver.
    ///
    /// - Parameters:
    ///   - default: serves every model not listed.
    ///   - providers: `provider/model` (or bare model name) → provider.
    ///   - failures: `provider/model` (or bare model name) → the error `provider(for:)` throws.
    package init(
        default fallback: (any ModelProvider)? = nil, providers: [String: any ModelProvider] = [:],
        failures: [String: ProviderError] = [:]
    ) {
        self.fallback = fallback
        self.providers = providers
        self.failures = failures
    }

    package func provider(for model: ModelRef) throws -> any ModelProvider {
        if let failure = failures[model.description] ?? failures[model.model] { throw failure }
        if let provider = providers[model.description] ?? providers[model.model] ?? fallback { return provider }
        throw ProviderError(
            code: .missingCredentials, message: "No scripted provider for \(model).", provider: model.provider)
    }
}
