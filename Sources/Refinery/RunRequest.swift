// What `refinery run` asks for, once the command line is parsed and the input assembled.

public import RefineryCompiler

/// A run to start.
public struct RunRequest: Sendable {
    /// Workflow name, `NAME@REV` or path.
    public var target: String
    /// The assembled prompt (see ``InputAssembler``).
    public var prompt: String
    /// Command-line overrides.
    public var overrides: WorkflowOverrides
    /// `--var k=v` Mustache variables, recorded with the run (added to ``overrides``' variables).
    public var variables: [String: String]
    /// Seed of the run's random choices; `nil` picks one (it is recorded either way).
    public var seed: UInt64?
    /// Log provider requests and replies (credentials redacted) to stderr.
    public var debug: Bool

    /// Creates a request.
    public init(
        target: String, prompt: String, overrides: WorkflowOverrides = WorkflowOverrides(),
        variables: [String: String] = [:], seed: UInt64? = nil, debug: Bool = false
    ) {
        self.target = target
        self.prompt = prompt
        self.overrides = overrides
        self.variables = variables
        self.seed = seed
        self.debug = debug
    }
}
