// The user's provider file, `$XDG_CONFIG_HOME/refinery/providers.yaml`: OpenAI-compatible
// endpoints, command agents, and per-provider limits. The document is read into a `JSONValue`
// first, so the checks here are independent of the file syntax.

import Foundation
public import RefinerySyntax

/// An OpenAI-compatible endpoint declared in providers.yaml, used as `NAME/model`.
public struct EndpointConfig: Sendable, Hashable, Codable {
    /// Provider key (the prefix in model strings).
    public var name: String
    /// Base URL, with or without `/v1`.
    public var baseURL: String
    /// Variable holding the bearer key; `nil` for servers that need none.
    public var apiKeyEnv: String?
    /// Extra request headers.
    public var headers: [String: String]
    /// Rate and concurrency limits.
    public var limits: ProviderLimits

    /// Creates an endpoint.
    public init(
        name: String, baseURL: String, apiKeyEnv: String? = nil, headers: [String: String] = [:],
        limits: ProviderLimits = ProviderLimits()
    ) {
        self.name = name
        self.baseURL = baseURL
        self.apiKeyEnv = apiKeyEnv
        self.headers = headers
        self.limits = limits
    }
}

/// Everything providers.yaml declares. The default value declares nothing.
public struct ProvidersConfig: Sendable, Hashable, Codable {
    /// User-declared OpenAI-compatible endpoints.
    public var endpoints: [EndpointConfig]
    /// Command agents added to (or replacing) the built-in `claude`, `codex`, `gemini`.
    public var commands: [CommandAgent]
    /// Limits for built-in providers (`anthropic`, `openai`, ...), by provider key.
    public var limits: [String: ProviderLimits]

    /// Creates a configuration.
    public init(endpoints: [EndpointConfig] = [], commands: [CommandAgent] = [], limits: [String: ProviderLimits] = [:]) {
        self.endpoints = endpoints
        self.commands = commands
        self.limits = limits
    }

    /// Provider keys a user endpoint may not take.
    static let reserved: Set<String> = ["anthropic", "openai", "gemini", "ollama", "openrouter", "command"]

    /// The default file: `$XDG_CONFIG_HOME/refinery/providers.yaml` (`~/.config` when unset).
    public static func defaultPath(environment: [String: String]) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/refinery/providers.yaml"
    }

    /// Reads and checks a providers file. A missing file is an empty configuration; problems
    /// throw ``ProvidersConfigError`` with every diagnostic found.
    public static func load(path: String) throws -> ProvidersConfig {
        guard FileManager.default.fileExists(atPath: path) else { return ProvidersConfig() }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ProvidersConfigError(diagnostics: [
                Diagnostic(code: "providers.unreadable", message: "cannot read \(path) as UTF-8 text", file: path)
            ])
        }
        return try parse(text: text, file: path)
    }

    /// Parses providers-file text. Until the YAML front end is wired in, the text must be JSON
    /// (which YAML 1.2 also accepts).
    public static func parse(text: String, file: String? = nil) throws -> ProvidersConfig {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return ProvidersConfig() }
        guard let document = JSONValue.parse(text) else {
            throw ProvidersConfigError(diagnostics: [
                Diagnostic(
                    code: "providers.syntax", message: "the providers file is not valid JSON", file: file,
                    location: SourceLocation(line: 1, column: 1), hint: "write it as a JSON object for now")
            ])
        }
        return try decode(document, file: file)
    }

    /// Checks a parsed document, collecting every problem before throwing.
    package static func decode(_ document: JSONValue, file: String?) throws -> ProvidersConfig {
        var reader = ConfigReader(file: file)
        let config = reader.read(document)
        if !reader.diagnostics.isEmpty { throw ProvidersConfigError(diagnostics: reader.diagnostics) }
        return config
    }
}

/// A providers file with problems.
public struct ProvidersConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every problem found.
    public var diagnostics: [Diagnostic]

    /// Creates an error.
    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    /// The diagnostics, one per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Walks the document, recording a diagnostic (with the key path) for each problem.
private struct ConfigReader {
    let file: String?
    var diagnostics: [Diagnostic] = []

    mutating func fail(_ path: String, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(code: "providers.invalid", message: "\(path): \(message)", file: file, hint: hint))
    }

    mutating func read(_ document: JSONValue) -> ProvidersConfig {
        guard let root = document.object else {
            fail("(top level)", "expected a mapping with `providers`, `commands`")
            return ProvidersConfig()
        }
        for key in root.keys.sorted() where !["providers", "commands"].contains(key) {
            fail(key, "unknown key", hint: "known keys: providers, commands")
        }
        var config = ProvidersConfig()
        for (index, entry) in array(root["providers"], "providers").enumerated() {
            readProvider(entry, path: "providers[\(index)]", into: &config)
        }
        for (index, entry) in array(root["commands"], "commands").enumerated() {
            if let agent = readCommand(entry, path: "commands[\(index)]") { config.commands.append(agent) }
        }
        return config
    }

    mutating func array(_ value: JSONValue?, _ path: String) -> [JSONValue] {
        guard let value else { return [] }
        guard let items = value.array else {
            fail(path, "expected a list")
            return []
        }
        return items
    }

    mutating func readProvider(_ entry: JSONValue, path: String, into config: inout ProvidersConfig) {
        guard let object = entry.object else { return fail(path, "expected a mapping") }
        let known: Set = ["name", "base_url", "api_key_env", "headers", "max_concurrent", "requests_per_minute", "tokens_per_minute"]
        for key in object.keys.sorted() where !known.contains(key) {
            fail("\(path).\(key)", "unknown key", hint: "known keys: \(known.sorted().joined(separator: ", "))")
        }
        guard let name = object["name"]?.string, !name.isEmpty, !name.contains("/") else {
            return fail("\(path).name", "a provider needs a `name` without `/`")
        }
        let limits = ProviderLimits(
            maxConcurrent: positive(object["max_concurrent"], "\(path).max_concurrent"),
            requestsPerMinute: positive(object["requests_per_minute"], "\(path).requests_per_minute"),
            tokensPerMinute: positive(object["tokens_per_minute"], "\(path).tokens_per_minute"))
        if ProvidersConfig.reserved.contains(name) {
            if object["base_url"] != nil {
                fail("\(path).base_url", "`\(name)` is built in", hint: "set its base URL with the environment variable instead")
            }
            config.limits[name] = limits
            return
        }
        guard let baseURL = object["base_url"]?.string, baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            return fail("\(path).base_url", "an endpoint needs a `base_url` starting with http:// or https://")
        }
        var headers: [String: String] = [:]
        if let value = object["headers"] {
            if let mapping = value.object, mapping.values.allSatisfy({ $0.string != nil }) {
                headers = mapping.compactMapValues(\.string)
            } else {
                fail("\(path).headers", "expected a mapping of header names to strings")
            }
        }
        if config.endpoints.contains(where: { $0.name == name }) { fail("\(path).name", "`\(name)` is declared twice") }
        config.endpoints.append(
            EndpointConfig(name: name, baseURL: baseURL, apiKeyEnv: object["api_key_env"]?.string, headers: headers, limits: limits))
    }

    mutating func readCommand(_ entry: JSONValue, path: String) -> CommandAgent? {
        guard let object = entry.object else {
            fail(path, "expected a mapping")
            return nil
        }
        guard let name = object["name"]?.string, !name.isEmpty else {
            fail("\(path).name", "a command needs a `name`")
            return nil
        }
        guard let argv = object["argv"]?.array?.compactMap(\.string), !argv.isEmpty, !argv[0].isEmpty else {
            fail("\(path).argv", "a command needs a non-empty `argv` list of strings", hint: "e.g. [claude, -p]")
            return nil
        }
        return CommandAgent(name: name, argv: argv, environment: object["env"]?.array?.compactMap(\.string) ?? [])
    }

    mutating func positive(_ value: JSONValue?, _ path: String) -> Int? {
        guard let value else { return nil }
        guard let number = value.int, number > 0, Double(number) == value.double else {
            fail(path, "expected a positive whole number")
            return nil
        }
        return number
    }
}
