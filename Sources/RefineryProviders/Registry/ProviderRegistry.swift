// Hands the engine a provider per model: one shared HTTP client, clients created lazily per
// provider on first use (so only the providers a run uses need keys), limits from
// providers.yaml, and credentials from the environment merged with `.env`.

package import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
public import RefineryCompiler
public import RefineryRuntime
import Synchronization

/// Resolves models to real providers (Anthropic, OpenAI, Gemini, Ollama, OpenRouter, command
/// agents, endpoints from providers.yaml) and embedders.
///
/// Create one with ``withRegistry(environment:configuration:logger:_:)``, which owns the shared
/// HTTP client and shuts it down when the body returns, throws or is cancelled.
///
/// Credentials (the first variable set wins):
/// - `anthropic`: `ANTHROPIC_API_KEY` (`x-api-key`), else `CLAUDE_CODE_OAUTH_TOKEN` (Bearer + OAuth beta);
///   base URL `ANTHROPIC_BASE_URL`.
/// - `openai`: `OPENAI_API_KEY`, else `CODEX_API_KEY`; base URL `OPENAI_BASE_URL`.
/// - `gemini`: `GEMINI_API_KEY`, else `GOOGLE_API_KEY`; base URL `GEMINI_BASE_URL`.
/// - `openrouter`: `OPENROUTER_API_KEY`; base URL `OPENROUTER_BASE_URL`.
/// - `ollama`: no key; `OLLAMA_HOST` (default `http://127.0.0.1:11434`).
/// - `command`: no key; the agent gets `PATH`, `HOME`, `LANG`, `TERM` and its own key variables.
public final class ProviderRegistry: ProviderResolver, Embedder {
    private let http: HTTPClientPool
    private let environment: ProviderEnvironment
    private let configuration: ProvidersConfig
    private let logger: Logger
    private let clock: LimiterClock
    private let cache = Mutex<[String: any ModelProvider]>([:])
    private let gates = Mutex<[String: CallGate]>([:])

    /// Hides every credential this registry knows of. Pass error texts through it before printing.
    public let redactor: Redactor

    /// A registry over existing clients. They must not follow redirects
    /// (`redirectConfiguration = .disallow`), or a redirecting server could receive `x-api-key`.
    package init(
        http: HTTPClientPool, environment: ProviderEnvironment, configuration: ProvidersConfig, logger: Logger,
        clock: LimiterClock = .continuous
    ) {
        self.http = http
        self.environment = environment
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        redactor = Self.redactor(environment: environment, configuration: configuration)
    }

    /// A redactor for every credential a run with this environment and configuration can load:
    /// variables named like credentials, the built-in providers' key variables, each endpoint's
    /// `api_key_env`, the credentials of its `base_url` (``Redactor/urlCredentials(_:)``) and the values of
    /// its credential headers (`Authorization: Bearer …` written in providers.yaml, the value and the token
    /// after its scheme).
    /// What prints or stores error texts outside the registry (the run ledger) uses it.
    public static func redactor(environment: ProviderEnvironment, configuration: ProvidersConfig) -> Redactor {
        var secrets = environment.secretValues
        for endpoint in configuration.endpoints {
            if let name = endpoint.apiKeyEnv, let value = environment[name] { secrets.append(value) }
            secrets += Redactor.urlCredentials(endpoint.baseURL)
            for (name, value) in endpoint.headers where Redactor.isSensitiveHeader(name) {
                secrets.append(value)
                if let space = value.firstIndex(of: " ") { secrets.append(String(value[space...].dropFirst())) }
            }
        }
        for spec in ProviderRegistry.builtinCredentials.values {
            secrets += spec.keyVariables.compactMap { environment[$0] }
        }
        return Redactor(secrets: secrets)
    }

    /// Runs `body` with a registry whose HTTP client is shut down afterwards, even when `body`
    /// throws or the task is cancelled.
    ///
    /// - Parameters:
    ///   - environment: Variables to read credentials and base URLs from, usually
    ///     `ProviderEnvironment.load()` (the process environment over `.env`).
    ///   - configuration: providers.yaml, usually `ProvidersConfig.load(path:)`.
    ///   - logger: Requests and replies are logged at `debug`, stream events at `trace`, with
    ///     credentials redacted.
    public static func withRegistry<T>(
        environment: ProviderEnvironment = .load(), configuration: ProvidersConfig = ProvidersConfig(),
        logger: Logger = Logger(label: "refinery.providers"), isolation: isolated (any Actor)? = #isolation,
        _ body: (ProviderRegistry) async throws -> T
    ) async throws -> T {
        try await withRegistry(
            environment: environment, configuration: configuration, logger: logger, clock: .continuous, body)
    }

    /// ``withRegistry(environment:configuration:logger:isolation:_:)`` with the limiters' clock injected.
    package static func withRegistry<T>(
        environment: ProviderEnvironment, configuration: ProvidersConfig, logger: Logger, clock: LimiterClock,
        isolation: isolated (any Actor)? = #isolation, _ body: (ProviderRegistry) async throws -> T
    ) async throws -> T {
        try await HTTPClientPool.withPool(configuration: Self.httpConfiguration) { http in
            try await body(
                ProviderRegistry(
                    http: http, environment: environment, configuration: configuration, logger: logger, clock: clock))
        }
    }

    /// The HTTP client configuration of every registry (`RefineryHTTPFloor` measures the same one).
    package static var httpConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10))
        // Redirects are not followed: on a cross-origin redirect AsyncHTTPClient drops
        // `Authorization` but would forward `x-api-key` and `x-goog-api-key` to the new host.
        configuration.redirectConfiguration = .disallow
        // The engine's `max_concurrent` and each endpoint's `max_concurrent` are the concurrency limits;
        // AsyncHTTPClient's own default (8 HTTP/1.1 connections per host) would silently queue the rest of a
        // wide round sent to a local server, with their timeouts running, and any finite cap does the same
        // past it (1,024 sent N = 50's 2,450 reviews in three waves).
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Self.connectionsPerHost)
        // A refused or unreachable connection fails the request at once (`.unreachable`) instead of
        // AsyncHTTPClient retrying the connection until the call's deadline: the engine retries with
        // backoff and then falls back within seconds, not after the whole timeout of every attempt.
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// HTTP/1.1 connections per host: no cap of the client's own, so only the declared limits bound
    /// the calls in flight (the pool reserves room for at most 1,024 up front, whatever the cap).
    static let connectionsPerHost = Int.max

    // MARK: - Resolution

    /// The provider serving `model`, created on first use. Throws `.missingCredentials` (naming
    /// the variable to set) or `.unknownModel` for an unknown provider key.
    public func provider(for model: ModelRef) throws -> any ModelProvider {
        if let cached = cache.withLock({ $0[model.provider] }) { return cached }
        let created = try makeProvider(model.provider)
        return cache.withLock { cache in
            if let existing = cache[model.provider] { return existing }
            cache[model.provider] = created
            return created
        }
    }

    /// Embeds `texts` with `model` (OpenAI-compatible providers and Gemini).
    public func embed(_ texts: [String], model: ModelRef) async throws -> [[Double]] {
        try await makeEmbedder(model.provider).embed(texts, model: model)
    }

    /// Embeds `texts` with `model`, with the tokens the provider billed for them.
    public func embeddings(_ texts: [String], model: ModelRef) async throws -> Embeddings {
        try await makeEmbedder(model.provider).embeddings(texts, model: model)
    }

    /// The problems that would stop the providers `models` use before their first call: one per provider
    /// without credentials, naming the variables that would fix it, and one per `command/NAME` agent that is
    /// not declared or whose program is not on `PATH`. Empty when every provider can be called.
    public func checkCredentials(for models: [ModelRef]) -> [CredentialProblem] {
        var byProvider: [String: [String]] = [:]
        var order: [String] = []
        for model in models {
            if byProvider[model.provider] == nil { order.append(model.provider) }
            byProvider[model.provider, default: []].append(model.model)
        }
        return order.flatMap { provider -> [CredentialProblem] in
            var seen = Set<String>()
            let models = (byProvider[provider] ?? []).filter { seen.insert($0).inserted }
            if provider == "command" {
                let agents = CommandProvider(
                    agents: commandAgents, environment: environment.variables, logger: logger, redactor: redactor)
                return models.compactMap(agents.unavailable)
            }
            let variables = keyVariables(provider)
            guard !variables.isEmpty, environment.first(of: variables) == nil else { return [] }
            return [CredentialProblem(provider: provider, models: models, variables: variables)]
        }
    }

    /// The built-in command agents, replaced or joined by the `commands:` of providers.yaml.
    private var commandAgents: [String: CommandAgent] {
        var agents = CommandAgent.builtins
        for agent in configuration.commands { agents[agent.name] = agent }
        return agents
    }

    /// For every known provider, which of its credential variables are present. Never values.
    public func credentialStatus() -> [ProviderCredentialStatus] {
        let builtins = ["anthropic", "openai", "gemini", "openrouter", "ollama", "command"].map { provider in
            let spec = Self.builtinCredentials[provider]
            let variables = spec?.keyVariables ?? []
            return ProviderCredentialStatus(
                provider: provider, variables: variables, present: variables.filter { environment[$0] != nil },
                baseURLVariable: spec?.baseURLVariable,
                baseURLOverridden: spec?.baseURLVariable.map { environment[$0] != nil } ?? false)
        }
        let custom = configuration.endpoints.map { endpoint in
            let variables = endpoint.apiKeyEnv.map { [$0] } ?? []
            return ProviderCredentialStatus(
                provider: endpoint.name, variables: variables, present: variables.filter { environment[$0] != nil })
        }
        return builtins + custom
    }

    // MARK: - Construction

    package struct CredentialSpec: Sendable {
        package var keyVariables: [String]
        package var baseURLVariable: String?
        package var defaultBaseURL: String
    }

    package static let builtinCredentials: [String: CredentialSpec] = [
        "anthropic": CredentialSpec(
            keyVariables: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"], baseURLVariable: "ANTHROPIC_BASE_URL",
            defaultBaseURL: AnthropicProvider.defaultBaseURL),
        "openai": CredentialSpec(
            keyVariables: ["OPENAI_API_KEY", "CODEX_API_KEY"], baseURLVariable: "OPENAI_BASE_URL",
            defaultBaseURL: OpenAIChatProvider.defaultBaseURL),
        "gemini": CredentialSpec(
            keyVariables: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], baseURLVariable: "GEMINI_BASE_URL",
            defaultBaseURL: GeminiProvider.defaultBaseURL),
        "openrouter": CredentialSpec(
            keyVariables: ["OPENROUTER_API_KEY"], baseURLVariable: "OPENROUTER_BASE_URL",
            defaultBaseURL: "https://openrouter.ai/api"),
        "ollama": CredentialSpec(
            keyVariables: [], baseURLVariable: "OLLAMA_HOST", defaultBaseURL: "http://127.0.0.1:11434"),
    ]

    private func keyVariables(_ provider: String) -> [String] {
        if let spec = Self.builtinCredentials[provider] { return spec.keyVariables }
        if let endpoint = configuration.endpoints.first(where: { $0.name == provider }) {
            return endpoint.apiKeyEnv.map { [$0] } ?? []
        }
        return []
    }

    private func missing(_ provider: String) -> ProviderError {
        let variables = keyVariables(provider)
        return ProviderError(
            code: .missingCredentials,
            message: CredentialProblem(provider: provider, models: [], variables: variables).description
                .replacingAll(" ()", with: ""),
            provider: provider)
    }

    private func baseURL(_ provider: String) -> String {
        guard let spec = Self.builtinCredentials[provider] else { return "" }
        guard let variable = spec.baseURLVariable, let value = environment[variable] else { return spec.defaultBaseURL }
        if provider == "ollama" { return Self.ollamaBaseURL(value) }
        return value
    }

    /// `OLLAMA_HOST` as a URL, read as Ollama reads it (`envconfig.Host`): without a scheme it is `http` on
    /// port 11434 unless it names a port (with one, the scheme's own port); without a host, 127.0.0.1; and
    /// the listen-on-all address (`0.0.0.0`, `::`) is reached through loopback. `OLLAMA_HOST=0.0.0.0`, as
    /// Ollama's FAQ has a server exposed, was `http://127.0.0.1` (port 80), and `localhost` `http://localhost`.
    package static func ollamaBaseURL(_ value: String) -> String {
        let value = value.trimmingCharacters(in: .whitespaces)
        let scheme: Substring
        var rest: Substring
        if let separator = value.range(of: "://") {
            scheme = value[..<separator.lowerBound]
            rest = value[separator.upperBound...]
        } else {
            scheme = "http"
            rest = Substring(value)
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let path = rest[slash...]
        rest = rest[..<slash]
        var host = rest
        var port: Substring = ""
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[...close]
            port = rest[rest.index(after: close)...].drop { $0 == ":" }
        } else if let colon = rest.firstIndex(of: ":") {
            if rest[rest.index(after: colon)...].contains(":") {
                host = Substring("[\(rest)]")  // a bare IPv6 address
            } else {
                host = rest[..<colon]
                port = rest[rest.index(after: colon)...]
            }
        }
        switch host {
        case "", "0.0.0.0": host = "127.0.0.1"
        case "[::]": host = "[::1]"
        default: break
        }
        if port.isEmpty, !value.contains("://") { port = "11434" }
        return "\(scheme)://\(host)\(port.isEmpty ? "" : ":\(port)")\(path)"
    }

    private func limits(_ provider: String) -> ProviderLimits {
        configuration.limits[provider] ?? configuration.endpoints.first { $0.name == provider }?.limits
            ?? ProviderLimits()
    }

    private func client(_ provider: String) -> WireClient {
        let limits = limits(provider)
        // A gate even without configured limits: it also holds the pauses the provider's
        // rate-limit headers ask for.
        let gate = gates.withLock { gates in
            if let gate = gates[provider] { return gate }
            let gate = CallGate(limits: limits, clock: clock)
            gates[provider] = gate
            return gate
        }
        return WireClient(
            http: http, provider: provider, logger: logger, redactor: redactor, gate: gate,
            streams: limits.stream ?? true,
            idleTimeoutSeconds: limits.idleTimeoutSeconds ?? ProviderLimits.defaultIdleTimeoutSeconds)
    }

    private func makeProvider(_ provider: String) throws -> any ModelProvider {
        switch provider {
        case "anthropic":
            if let key = environment["ANTHROPIC_API_KEY"] {
                return AnthropicProvider(client: client(provider), baseURL: baseURL(provider), auth: .apiKey(key))
            }
            if let token = environment["CLAUDE_CODE_OAUTH_TOKEN"] {
                return AnthropicProvider(client: client(provider), baseURL: baseURL(provider), auth: .oauth(token))
            }
            throw missing(provider)
        case "openai", "openrouter", "ollama":
            let key = environment.first(of: keyVariables(provider))?.value
            guard key != nil || provider == "ollama" else { throw missing(provider) }
            return OpenAIChatProvider(
                client: client(provider), baseURL: baseURL(provider), apiKey: key,
                extraHeaders: provider == "openrouter" ? [("x-title", "Refinery")] : [], isOpenAI: provider == "openai",
                structured: limits(provider).structured, maxTokens: limits(provider).maxTokens)
        case "gemini":
            guard let key = environment.first(of: keyVariables(provider))?.value else { throw missing(provider) }
            return GeminiProvider(
                client: client(provider), baseURL: baseURL(provider), apiKey: key, maxTokens: limits(provider).maxTokens
            )
        case "command":
            return CommandProvider(
                agents: commandAgents, environment: environment.variables, logger: logger, redactor: redactor)
        default:
            guard let endpoint = configuration.endpoints.first(where: { $0.name == provider }) else {
                throw ProviderError(
                    code: .unknownModel,
                    message:
                        "unknown provider `\(provider)`; declare it in "
                        + ProvidersConfig.defaultPath(environment: environment.variables),
                    provider: provider)
            }
            var key: String?
            if let variable = endpoint.apiKeyEnv {
                guard let value = environment[variable] else { throw missing(provider) }
                key = value
            }
            return OpenAIChatProvider(
                client: client(provider), baseURL: endpoint.baseURL, apiKey: key,
                extraHeaders: endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, isOpenAI: false,
                structured: endpoint.limits.structured, maxTokens: endpoint.limits.maxTokens)
        }
    }

    private func makeEmbedder(_ provider: String) throws -> any Embedder {
        switch try makeProvider(provider) {
        case let chat as OpenAIChatProvider:
            return OpenAIEmbedder(
                client: chat.client, baseURL: chat.baseURL, apiKey: chat.apiKey, extraHeaders: chat.extraHeaders)
        case let gemini as GeminiProvider:
            return GeminiEmbedder(client: gemini.client, baseURL: gemini.baseURL, apiKey: gemini.apiKey)
        default:
            throw ProviderError(
                code: .unsupported,
                message: "\(provider) has no embeddings API; use an OpenAI-compatible or Gemini model",
                provider: provider)
        }
    }
}
