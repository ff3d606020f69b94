// The checked intermediate representation of a workflow file: what the compiler front end
// produces and what graph building, estimation and the runtime consume. Every value here has
// already been validated and has its defaults applied.

/// A compiled, checked workflow (format 1) with every default applied.
///
/// Produced by ``WorkflowCompiler``; consumed by ``ExecutionGraph/init(workflow:)`` and the runtime.
public struct Workflow: Sendable, Hashable, Codable {
    /// The workflow's name (`[a-z0-9][a-z0-9_-]*`).
    public var name: String
    /// The workflow's own version string, recorded with every run.
    public var version: String?
    /// A one-paragraph description of the method.
    public var description: String?
    /// The members, one entry per instance, in file order.
    public var members: [Member]
    /// The arbiter, when the workflow declares one.
    public var arbiter: Arbiter?
    /// The system prompt for every call unless a member or stage overrides it.
    public var system: String?
    /// Minimum and maximum number of rounds of the repeat block.
    public var iterations: Iterations
    /// When the repeat block ends.
    public var convergence: Convergence
    /// Time, concurrency, retry, budget and quorum limits.
    public var limits: Limits
    /// The stage chain. At most one element is a `.repeat` block.
    public var stages: [Stage]
    /// Which answer the run returns.
    public var output: OutputSelection
    /// Where the workflow came from (file path, content hash, extends chain).
    public var provenance: Provenance
    /// User template variables (`--var NAME=VALUE`), given to every prompt template with the engine's own.
    public var variables: [String: String]

    /// Creates a workflow. Prefer ``WorkflowCompiler`` to build one from YAML.
    public init(
        name: String, version: String? = nil, description: String? = nil, members: [Member],
        arbiter: Arbiter? = nil, system: String? = nil, iterations: Iterations = Iterations(),
        convergence: Convergence = Convergence(), limits: Limits = Limits(), stages: [Stage],
        output: OutputSelection = .winner, provenance: Provenance = Provenance(), variables: [String: String] = [:]
    ) {
        self.name = name
        self.version = version
        self.description = description
        self.members = members
        self.arbiter = arbiter
        self.system = system
        self.iterations = iterations
        self.convergence = convergence
        self.limits = limits
        self.stages = stages
        self.output = output
        self.provenance = provenance
        self.variables = variables
    }
}

extension Workflow {
    /// Decodes a workflow snapshot. Snapshots recorded before `variables` existed have none (their
    /// templates were recorded with the values already in them), so they still resume.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            version: try container.decodeIfPresent(String.self, forKey: .version),
            description: try container.decodeIfPresent(String.self, forKey: .description),
            members: try container.decode([Member].self, forKey: .members),
            arbiter: try container.decodeIfPresent(Arbiter.self, forKey: .arbiter),
            system: try container.decodeIfPresent(String.self, forKey: .system),
            iterations: try container.decode(Iterations.self, forKey: .iterations),
            convergence: try container.decode(Convergence.self, forKey: .convergence),
            limits: try container.decode(Limits.self, forKey: .limits),
            stages: try container.decode([Stage].self, forKey: .stages),
            output: try container.decode(OutputSelection.self, forKey: .output),
            provenance: try container.decode(Provenance.self, forKey: .provenance),
            variables: try container.decodeIfPresent([String: String].self, forKey: .variables) ?? [:])
    }
}

extension Workflow {
    /// The arbiter, when a stage is performed by it. An arbiter no stage uses (a base's kept by an `extends`
    /// child, or `--arbiter` on a workflow without `synthesize` or `verify`: warning W705) is never called, so
    /// the run asks no credentials and no price of it.
    public var calledArbiter: Arbiter? {
        stages.flatMap(\.inlined).contains { $0.common?.by == .arbiter } ? arbiter : nil
    }

    /// The fallback models a run may call: each member's, then the called arbiter's (``calledArbiter``). Their
    /// calls are made only when a model before them fails, so the estimate counts none, but they are priced
    /// like any call: one without a price costs $0 to a budget, which therefore cannot stop it.
    public var fallbackModels: [ModelRef] {
        members.flatMap(\.fallback) + (calledArbiter?.fallback ?? [])
    }
}

/// A provider-qualified model, after alias resolution (`claude` → `anthropic/claude-opus-4-6`).
public struct ModelRef: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Provider key: `anthropic`, `openai`, `gemini`, `ollama`, `openrouter`, `command`, or a
    /// user-declared OpenAI-compatible endpoint name.
    public var provider: String
    /// The provider's model identifier, e.g. `claude-opus-4-6`.
    public var model: String
    /// The string the user wrote, e.g. `claude`, kept for display.
    public var alias: String?

    /// Creates a model reference.
    public init(provider: String, model: String, alias: String? = nil) {
        self.provider = provider
        self.model = model
        self.alias = alias
    }

    /// `provider/model`.
    public var description: String { "\(provider)/\(model)" }
}

/// Sampling and generation parameters. `nil` means "provider default".
public struct ModelParams: Sendable, Hashable, Codable {
    /// Largest `max_tokens` a workflow may ask for (100 million, far above any model's output
    /// limit): the estimate multiplies and sums it over thousands of calls, which must not overflow.
    public static let maxTokensLimit = 100_000_000

    /// Sampling temperature.
    public var temperature: Double?
    /// Nucleus sampling.
    public var topP: Double?
    /// Maximum output tokens.
    public var maxTokens: Int?
    /// Reasoning effort for reasoning models: `minimal`, `low`, `medium`, `high`, `xhigh`.
    public var reasoningEffort: String?
    /// Sampling seed, where the provider supports one.
    public var seed: Int?
    /// Stop sequences.
    public var stop: [String]?

    /// Creates parameters; every field defaults to the provider's default.
    public init(
        temperature: Double? = nil, topP: Double? = nil, maxTokens: Int? = nil,
        reasoningEffort: String? = nil, seed: Int? = nil, stop: [String]? = nil
    ) {
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.reasoningEffort = reasoningEffort
        self.seed = seed
        self.stop = stop
    }

    /// These parameters with every field set in `other` taking precedence.
    public func merged(with other: ModelParams) -> ModelParams {
        ModelParams(
            temperature: other.temperature ?? temperature,
            topP: other.topP ?? topP,
            maxTokens: other.maxTokens ?? maxTokens,
            reasoningEffort: other.reasoningEffort ?? reasoningEffort,
            seed: other.seed ?? seed,
            stop: other.stop ?? stop
        )
    }
}

/// One member instance. `gpt-4o:2` yields two members.
public struct Member: Sendable, Hashable, Codable, Identifiable {
    /// Unique member id within the run: the entry's `name` (or model string), with `#k`
    /// appended when the entry has several instances or the name repeats (`gem#1`).
    public var id: String
    /// The model this member calls first.
    public var model: ModelRef
    /// System prompt override for this member.
    public var system: String?
    /// Parameters for this member's calls.
    public var params: ModelParams
    /// Models tried in order when this member's provider fails for good.
    public var fallback: [ModelRef]

    /// Creates a member.
    public init(
        id: String, model: ModelRef, system: String? = nil, params: ModelParams = ModelParams(),
        fallback: [ModelRef] = []
    ) {
        self.id = id
        self.model = model
        self.system = system
        self.params = params
        self.fallback = fallback
    }
}

/// The arbiter: synthesizes, verifies, or refines when a stage says `by: arbiter`.
public struct Arbiter: Sendable, Hashable, Codable {
    /// The arbiter's model.
    public var model: ModelRef
    /// Models tried in order when the arbiter fails.
    public var fallback: [ModelRef]
    /// System prompt override for the arbiter.
    public var system: String?
    /// Parameters for the arbiter's calls.
    public var params: ModelParams

    /// Creates an arbiter.
    public init(model: ModelRef, fallback: [ModelRef] = [], system: String? = nil, params: ModelParams = ModelParams())
    {
        self.model = model
        self.fallback = fallback
        self.system = system
        self.params = params
    }
}

/// Bounds on the number of rounds of the repeat block. Defaults: min 1, max 5.
public struct Iterations: Sendable, Hashable, Codable {
    /// Rounds always run, even when convergence holds earlier.
    public var min: Int
    /// Rounds never exceeded.
    public var max: Int

    /// Creates bounds.
    public init(min: Int = 1, max: Int = 5) {
        self.min = min
        self.max = max
    }
}

/// What the run returns.
public enum OutputSelection: String, Sendable, Hashable, Codable, CaseIterable {
    /// The answer with the highest mean score (ties: the previous leader, then member order).
    case winner
    /// The last synthesis produced by a `synthesize` stage.
    case synthesis
    /// The latest draft of a refine/verify chain (the first member's current answer).
    case draft
}

/// Where a workflow came from. Filled in by the loader; recorded with every run.
public struct Provenance: Sendable, Hashable, Codable {
    /// Absolute path of the file, or `builtin:NAME` for a built-in.
    public var path: String?
    /// SHA-256 (hex) of the file's bytes.
    public var contentSHA256: String?
    /// Names of the workflows this one extends, nearest first.
    public var extendsChain: [String]
    /// Git commit of the file's repository at load time (or the revision named with `NAME@REV`).
    public var gitCommit: String?
    /// Whether the file had uncommitted changes, or a file it is made of in the same repository did (a base it
    /// extends, a prompt file).
    public var gitDirty: Bool?
    /// The revision the user named with `NAME@REV`.
    public var gitRevision: String?

    /// Creates provenance.
    public init(
        path: String? = nil, contentSHA256: String? = nil, extendsChain: [String] = [],
        gitCommit: String? = nil, gitDirty: Bool? = nil, gitRevision: String? = nil
    ) {
        self.path = path
        self.contentSHA256 = contentSHA256
        self.extendsChain = extendsChain
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.gitRevision = gitRevision
    }
}
