// What `refinery models` and the pre-run check report about credentials: variable names and
// whether they are set, never their values.

/// A provider a run needs but cannot authenticate with.
public struct CredentialProblem: Sendable, Hashable, CustomStringConvertible {
    /// Provider key.
    public var provider: String
    /// The models (`provider/model`) that need it.
    public var models: [String]
    /// Variables any one of which would fix it, in order of preference.
    public var variables: [String]

    /// Creates a problem.
    public init(provider: String, models: [String], variables: [String]) {
        self.provider = provider
        self.models = models
        self.variables = variables
    }

    /// `no credentials for anthropic (claude-opus-4-6): set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN`.
    public var description: String {
        let names = variables.map { "`\($0)`" }
        let choice =
            names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "") : names.joined()
        let models = models.joined(separator: ", ")
        return "no credentials for \(provider) (\(models)): set \(choice) in the environment or .env"
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
