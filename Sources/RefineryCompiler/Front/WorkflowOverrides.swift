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
    public var isEmpty: Bool { self == WorkflowOverrides() }
}
