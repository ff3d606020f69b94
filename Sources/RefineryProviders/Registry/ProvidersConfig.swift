// The user's provider file, `$XDG_CONFIG_HOME/refinery/providers.yaml`: OpenAI-compatible
// endpoints, command agents, and per-provider limits. Read with the syntax layer's YAML parser,
// so every problem carries its line and column.

import Foundation
import RefineryCompiler
public import RefineryRuntime
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
    public init(endpoints: [EndpointConfig] = [], commands: [CommandAgent] = [], limits: [String: ProviderLimits] = [:])
    {
        self.endpoints = endpoints
        self.commands = commands
        self.limits = limits
    }

    /// Provider keys a user endpoint may not take.
    static let reserved: Set<String> = ["anthropic", "openai", "gemini", "ollama", "openrouter", "command"]

    /// The default file: `$XDG_CONFIG_HOME/refinery/providers.yaml` (`~/.config` when unset).
    public static func defaultPath(environment: [String: String]) -> String {
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/refinery/providers.yaml"
    }

    /// Reads and checks a providers file. A missing file is an empty configuration; problems
    /// throw ``ProvidersConfigError`` with every diagnostic found.
    public static func load(path: String) throws -> ProvidersConfig {
        guard FileManager.default.fileExists(atPath: path) else { return ProvidersConfig() }
        let bytes: [UInt8]
        do {
            // Bounded, regular files only: a FIFO or device named providers.yaml must not hang the CLI.
            bytes = try WorkflowFileSystem.readRegularFile(path)
        } catch {
            throw ProvidersConfigError(diagnostics: [
                Diagnostic(
                    code: "providers.unreadable", message: "cannot read \(path): \(error)", file: path,
                    hint: "check the file's permissions, or remove it to use the defaults")
            ])
        }
        return try parse(bytes: bytes, file: path)
    }

    /// Parses providers-file bytes: not UTF-8 or too large is a located `Y` diagnostic.
    static func parse(bytes: [UInt8], file: String?) throws -> ProvidersConfig {
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(bytes, file: file)
        } catch {
            throw ProvidersConfigError(diagnostics: error.diagnostics)
        }
        guard let root else { return ProvidersConfig() }
        var reader = ConfigReader(file: file)
        let config = reader.read(root)
        if !reader.diagnostics.isEmpty { throw ProvidersConfigError(diagnostics: reader.diagnostics) }
        return config
    }

    /// Parses providers-file text (YAML; JSON is YAML too). Every problem is reported, located.
    public static func parse(text: String, file: String? = nil) throws -> ProvidersConfig {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// The providers file for `environment` (see ``defaultPath(environment:)``), or an empty
    /// configuration when there is none.
    public static func load(environment: [String: String]) throws -> ProvidersConfig {
        try load(path: defaultPath(environment: environment))
    }

    /// A providers file's `text` as its diagnostics may quote it: `redactor`'s credentials and shapes hidden, and
    /// the value of every key named like a credential (a header such as `Authorization: "Token …"` or
    /// `Api-Key: …`), whatever its shape. A file with a problem is not read, so its own credentials are not known
    /// to any redactor: they are found by their keys, in the text, even where the YAML is broken.
    public static func excerptText(_ text: String, redactor: Redactor) -> String {
        let text = redactor.redact(text)
        guard let credentialValue else { return text }
        var result = ""
        var rest = Substring(text)
        let range = NSRange(text.startIndex..., in: text)
        for match in credentialValue.matches(in: text, range: range) {
            guard let key = Range(match.range(at: 1), in: text), let value = Range(match.range(at: 2), in: text),
                Redactor.isSensitiveHeader(String(text[key])), !ownKeys.contains(String(text[key]))
            else { continue }
            let quoted = text[value].first == "\"" || text[value].first == "'"
            result += text[rest.startIndex..<value.lowerBound]
            result += quoted ? "\"\(Redactor.placeholder)\"" : Redactor.placeholder
            rest = text[value.upperBound...]
        }
        return result + rest
    }

    /// This file's own keys that a credential's name could match (`api_key_env` names a variable; the others
    /// are numbers).
    private static let ownKeys: Set<String> = ["api_key_env", "max_tokens", "tokens_per_minute"]

    /// `KEY: VALUE` in block or flow YAML: the key (quoted or not) and its scalar value (quoted, or up to the
    /// next `,`, `}`, `]`, comment or line end; not a `{` or `[` that opens a collection, whose keys come next).
    private static let credentialValue = try? NSRegularExpression(
        pattern: #"["']?([A-Za-z0-9_.-]+)["']?[ \t]*:[ \t]+("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,{}\[\]#'"][^,}\]#\n]*)"#)
}

/// A providers file with problems.
public struct ProvidersConfigError: DiagnosticsError, Hashable {
    /// Every problem found.
    public var diagnostics: [Diagnostic]

    /// Creates an error.
    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
}

/// Walks the document, recording a located diagnostic (with the key path) for each problem.
private struct ConfigReader {
    let file: String?
    var diagnostics: [Diagnostic] = []

    mutating func fail(_ node: YAMLNode, _ path: String, _ message: String, hint: String? = nil) {
        diagnostics.append(
            Diagnostic(
                code: "providers.invalid", message: "\(path): \(message)", file: file, location: node.location,
                hint: hint))
    }

    mutating func read(_ root: YAMLNode) -> ProvidersConfig {
        guard let pairs = root.mapping else {
            fail(root, "(top level)", "expected a mapping with `providers`, `commands`")
            return ProvidersConfig()
        }
        for pair in pairs where !["providers", "commands"].contains(pair.key.string ?? "") {
            fail(pair.key, pair.key.string ?? "?", "unknown key", hint: "known keys: providers, commands")
        }
        var config = ProvidersConfig()
        for (index, entry) in list(root["providers"], "providers").enumerated() {
            readProvider(entry, path: "providers[\(index)]", into: &config)
        }
        for (index, entry) in list(root["commands"], "commands").enumerated() {
            if let agent = readCommand(entry, path: "commands[\(index)]") { config.commands.append(agent) }
        }
        return config
    }

    mutating func list(_ node: YAMLNode?, _ path: String) -> [YAMLNode] {
        guard let node, !node.isNull else { return [] }
        guard let items = node.sequence else {
            fail(node, path, "expected a list")
            return []
        }
        return items
    }

    mutating func checkKeys(_ node: YAMLNode, _ path: String, known: Set<String>) {
        for pair in node.mapping ?? [] where !known.contains(pair.key.string ?? "") {
            fail(
                pair.key, "\(path).\(pair.key.string ?? "?")", "unknown key",
                hint: "known keys: \(known.sorted().joined(separator: ", "))")
        }
    }

    mutating func readProvider(_ entry: YAMLNode, path: String, into config: inout ProvidersConfig) {
        guard entry.mapping != nil else { return fail(entry, path, "expected a mapping") }
        checkKeys(
            entry, path,
            known: [
                "name", "base_url", "api_key_env", "headers", "max_concurrent", "requests_per_minute",
                "tokens_per_minute", "stream", "idle_timeout", "structured", "max_tokens",
            ])
        guard let name = entry["name"]?.string, !name.isEmpty, !name.contains("/") else {
            return fail(entry["name"] ?? entry, "\(path).name", "a provider needs a `name` without `/`")
        }
        let limits = ProviderLimits(
            maxConcurrent: positive(entry["max_concurrent"], "\(path).max_concurrent"),
            requestsPerMinute: positive(entry["requests_per_minute"], "\(path).requests_per_minute"),
            tokensPerMinute: positive(entry["tokens_per_minute"], "\(path).tokens_per_minute"),
            stream: boolean(entry["stream"], "\(path).stream"),
            idleTimeoutSeconds: duration(entry["idle_timeout"], "\(path).idle_timeout"),
            structured: structuredMode(entry["structured"], "\(path).structured"),
            maxTokens: positive(entry["max_tokens"], "\(path).max_tokens"))
        if ProvidersConfig.reserved.contains(name) {
            if let baseURL = entry["base_url"] {
                fail(
                    baseURL, "\(path).base_url", "`\(name)` is built in",
                    hint: "set its base URL with the environment variable instead")
            }
            config.limits[name] = limits
            return
        }
        guard let baseURL = entry["base_url"]?.string, baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://")
        else {
            return fail(
                entry["base_url"] ?? entry, "\(path).base_url",
                "an endpoint needs a `base_url` starting with http:// or https://")
        }
        var headers: [String: String] = [:]
        if let node = entry["headers"] {
            if let pairs = node.mapping, pairs.allSatisfy({ $0.key.string != nil && $0.value.string != nil }) {
                for pair in pairs { headers[pair.key.string ?? ""] = pair.value.string }
            } else {
                fail(node, "\(path).headers", "expected a mapping of header names to strings")
            }
        }
        if config.endpoints.contains(where: { $0.name == name }) {
            fail(entry["name"] ?? entry, "\(path).name", "`\(name)` is declared twice")
        }
        config.endpoints.append(
            EndpointConfig(
                name: name, baseURL: baseURL, apiKeyEnv: entry["api_key_env"]?.string, headers: headers, limits: limits)
        )
    }

    mutating func readCommand(_ entry: YAMLNode, path: String) -> CommandAgent? {
        guard entry.mapping != nil else {
            fail(entry, path, "expected a mapping")
            return nil
        }
        checkKeys(entry, path, known: ["name", "argv", "env"])
        guard let name = entry["name"]?.string, !name.isEmpty else {
            fail(entry["name"] ?? entry, "\(path).name", "a command needs a `name`")
            return nil
        }
        guard let argv = entry["argv"]?.sequence?.compactMap(\.string), !argv.isEmpty, !argv[0].isEmpty else {
            fail(
                entry["argv"] ?? entry, "\(path).argv", "a command needs a non-empty `argv` list of strings",
                hint: "e.g. [claude, -p]")
            return nil
        }
        return CommandAgent(name: name, argv: argv, environment: entry["env"]?.sequence?.compactMap(\.string) ?? [])
    }

    mutating func boolean(_ node: YAMLNode?, _ path: String) -> Bool? {
        guard let node else { return nil }
        guard let value = node.bool else {
            fail(node, path, "expected `true` or `false`")
            return nil
        }
        return value
    }

    /// A duration (`30s`, `2m`, `500ms`, or seconds as a number), above zero and at most a week.
    mutating func duration(_ node: YAMLNode?, _ path: String) -> Double? {
        guard let node else { return nil }
        let seconds = node.double ?? node.string.flatMap(parseDurationSeconds)
        guard let seconds, seconds.isFinite, seconds > 0, seconds <= HTTPProviderSupport.maxTimeoutSeconds else {
            fail(node, path, "expected a duration above zero and at most a week", hint: "e.g. `30s`, `2m` or `45`")
            return nil
        }
        return seconds
    }

    mutating func structuredMode(_ node: YAMLNode?, _ path: String) -> StructuredMode? {
        guard let node else { return nil }
        guard let mode = node.string.flatMap(StructuredMode.init(rawValue:)) else {
            fail(node, path, "unknown structured mode", hint: "one of: json_schema, json_object, prompt")
            return nil
        }
        return mode
    }

    mutating func positive(_ node: YAMLNode?, _ path: String) -> Int? {
        guard let node else { return nil }
        guard let number = node.int, number > 0 else {
            fail(node, path, "expected a positive whole number")
            return nil
        }
        return number
    }
}
