// Command-line flags that change a workflow (DESIGN §3 "file config merged with CLI flags, the CLI
// wins"). They are one more layer of the compiler's input, merged over the file like an `extends`
// child and read by the same code, so a flag is checked exactly like the same value in a file.

/// Flags of `refinery run`, `estimate` and `graph` that override the workflow file, and `--var` values.
///
/// Each flag becomes the workflow key it stands for, in a layer named `<command line>` that the
/// compiler merges over the file (see ``WorkflowCompiler/overrides``): `--models` replaces `models:`,
/// `--arbiter` the arbiter's model, `--threshold` `convergence.threshold`, `--min-rounds`/`--max-rounds`
/// `iterations.min`/`max`, `--timeout`, `--max-concurrent` and `--budget` the `limits` keys. A bad value
/// is a diagnostic with the code the same value in a file gets, located at the flag
/// (`<command line>: --max-rounds`).
public struct WorkflowOverrides: Sendable, Hashable {
    /// `--models a,b:2,c`: replaces the members (`MODEL[:COUNT]` each, as in `models:`).
    public var models: [String]?
    /// `--arbiter M`: the arbiter's model (its fallbacks, system prompt and parameters stay).
    public var arbiter: String?
    /// `--threshold X`: the convergence strategy's threshold.
    public var threshold: Double?
    /// `--min-rounds N`.
    public var minRounds: Int?
    /// `--max-rounds N` (alone, it also lowers a larger minimum to N).
    public var maxRounds: Int?
    /// `--timeout S`: per-call timeout in seconds.
    public var timeoutSeconds: Double?
    /// `--max-concurrent N`.
    public var maxConcurrent: Int?
    /// `--budget USD`.
    public var budgetUSD: Double?
    /// `--var NAME=VALUE`: user template variables, shown by every prompt template as text.
    public var variables: [String: String]
    /// Names of ``variables`` that come with the input rather than from the user (a batch row's columns: its
    /// `id`, `topic`, ... ride along whether a template shows them or not): no warning that they have no effect.
    public var rowVariables: Set<String> = []
    /// How the caller gave these values: every diagnostic about one names it as the caller typed it
    /// (``Surface/name(of:)``). Default: command-line flags.
    public var surface: Surface = .commandLine

    /// Where overrides come from, and so what their diagnostics call them.
    public enum Surface: Sendable, Hashable {
        /// `refinery run`, `estimate`, `graph`, `validate`, `batch`: `--max-rounds`, `<command line>`.
        case commandLine
        /// An MCP tool call's arguments: `rounds`, `min_rounds`, `<tool arguments>`.
        case toolArguments

        /// What diagnostics name the layer the overrides make (in place of a file).
        public var layerName: String {
            switch self {
            case .commandLine: "<command line>"
            case .toolArguments: "<tool arguments>"
            }
        }

        /// The name a caller on this surface gives `key`: the one table of both spellings.
        public func name(of key: Key) -> String {
            switch (self, key) {
            case (.commandLine, .models): "--models"
            case (.commandLine, .arbiter): "--arbiter"
            case (.commandLine, .threshold): "--threshold"
            case (.commandLine, .minRounds): "--min-rounds"
            case (.commandLine, .maxRounds): "--max-rounds"
            case (.commandLine, .timeout): "--timeout"
            case (.commandLine, .maxConcurrent): "--max-concurrent"
            case (.commandLine, .budget): "--budget"
            case (.commandLine, .variable): "--var"
            case (.toolArguments, .models): "models"
            case (.toolArguments, .arbiter): "arbiter"
            case (.toolArguments, .threshold): "threshold"
            case (.toolArguments, .minRounds): "min_rounds"
            case (.toolArguments, .maxRounds): "rounds"
            case (.toolArguments, .timeout): "timeout"
            case (.toolArguments, .maxConcurrent): "max_concurrent"
            case (.toolArguments, .budget): "budget"
            case (.toolArguments, .variable): "variables"
            }
        }

        /// `key` given `value`, as the caller writes it: `--max-rounds 3`, `rounds: 3`; `--var x=...`, `x`.
        public func setting(_ key: Key, _ value: String) -> String {
            switch self {
            case .commandLine: key == .variable ? "--var \(value)" : "\(name(of: key)) \(value)"
            case .toolArguments: key == .variable ? value : "\(name(of: key)): \(value)"
            }
        }
    }

    /// Each value an override sets.
    public enum Key: Sendable, Hashable, CaseIterable {
        case models, arbiter, threshold, minRounds, maxRounds, timeout, maxConcurrent, budget, variable
    }

    /// Creates overrides; `nil` leaves the file's value.
    public init(
        models: [String]? = nil, arbiter: String? = nil, threshold: Double? = nil, minRounds: Int? = nil,
        maxRounds: Int? = nil, timeoutSeconds: Double? = nil, maxConcurrent: Int? = nil, budgetUSD: Double? = nil,
        variables: [String: String] = [:]
    ) {
        self.models = models
        self.arbiter = arbiter
        self.threshold = threshold
        self.minRounds = minRounds
        self.maxRounds = maxRounds
        self.timeoutSeconds = timeoutSeconds
        self.maxConcurrent = maxConcurrent
        self.budgetUSD = budgetUSD
        self.variables = variables
    }

    /// Whether no flag was given.
    public var isEmpty: Bool {
        var empty = WorkflowOverrides()
        empty.surface = surface
        return self == empty
    }
}
