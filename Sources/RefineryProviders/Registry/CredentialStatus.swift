// What `refinery models` and the pre-run check report about credentials: variable names and
// whether they are set, never their values.

/// A provider a run needs but cannot call: it has no credentials, or (a `command/NAME` agent) the agent is
/// not declared or its program is not on `PATH`.
public struct CredentialProblem: Sendable, Hashable, CustomStringConvertible {
    /// What the provider lacks.
    public enum Missing: Sendable, Hashable {
        /// Every one of ``CredentialProblem/variables`` is unset.
        case credentials
        /// The command agent's program, not found in the directories of `path` (the `PATH` searched).
        case program(String, path: String)
        /// No command agent of that name; `known` are the declared ones.
        case agent(known: [String])
    }

    /// Provider key.
    public var provider: String
    /// The models (`provider/model`) that need it.
    public var models: [String]
    /// Variables any one of which would fix it, in order of preference.
    public var variables: [String]
    /// What is missing (credentials unless said otherwise).
    public var missing: Missing

    /// Creates a problem.
    public init(provider: String, models: [String], variables: [String], missing: Missing = .credentials) {
        self.provider = provider
        self.models = models
        self.variables = variables
        self.missing = missing
    }

    /// `no credentials for anthropic (claude-opus-4-6): set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN`, or
    /// for an agent ``Missing/program(_:path:)``: `` command/claude: `claude` was not found on PATH (/usr/bin:/bin)``
    /// and what to do.
    public var description: String {
        let models = models.joined(separator: ", ")
        switch missing {
        case .credentials:
            let names = variables.map { "`\($0)`" }
            let choice =
                names.count > 1
                ? names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "") : names.joined()
            return "no credentials for \(provider) (\(models)): set \(choice) in the environment or .env"
        case .program(let program, let path):
            return "\(provider)/\(models): `\(program)` was not found on PATH (\(path.isEmpty ? "empty" : path)); "
                + "install it, add its "
                + "folder to PATH, or give its full path as the agent's argv under `commands:` in providers.yaml"
        case .agent(let known):
            return "\(provider)/\(models): no command agent `\(models)`; known: \(known.joined(separator: ", ")) "
                + "(declare others under `commands:` in providers.yaml)"
        }
    }
}

/// Which credential variables of a provider are present.
public struct ProviderCredentialStatus: Sendable, Hashable {
    /// Provider key.
    public var provider: String
    /// Variables the provider reads a key from, in order of preference (empty: needs none).
    public var variables: [String]
    /// The subset of ``variables`` that is set.
    public var present: [String]
    /// The base-URL variable, and whether it is set.
    public var baseURLVariable: String?
    /// Whether ``baseURLVariable`` is set.
    public var baseURLOverridden: Bool

    /// Creates a status.
    public init(
        provider: String, variables: [String], present: [String], baseURLVariable: String? = nil,
        baseURLOverridden: Bool = false
    ) {
        self.provider = provider
        self.variables = variables
        self.present = present
        self.baseURLVariable = baseURLVariable
        self.baseURLOverridden = baseURLOverridden
    }

    /// Whether calls can authenticate (a variable is present, or none is needed).
    public var isReady: Bool { variables.isEmpty || !present.isEmpty }
}
