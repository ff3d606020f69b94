// A local CLI agent the `command` provider can run: its argv and the environment variables it
// may see. Built-ins cover Claude Code, Codex and Gemini CLI; providers.yaml adds or replaces.

/// A command-line agent run by the `command/NAME` provider.
public struct CommandAgent: Sendable, Hashable, Codable {
    /// The name after `command/`.
    public var name: String
    /// Program and arguments. The prompt goes to standard input; `{model}` in an argument is
    /// replaced by the model name.
    public var argv: [String]
    /// Environment variables passed through besides `PATH`, `HOME`, `LANG` and `TERM`
    /// (typically the agent's own key variables).
    public var environment: [String]

    /// Creates an agent.
    public init(name: String, argv: [String], environment: [String] = []) {
        self.name = name
        self.argv = argv
        self.environment = environment
    }

    /// Variables every agent sees.
    public static let baseEnvironment = ["PATH", "HOME", "LANG", "TERM"]

    /// `claude -p`, `codex exec`, `gemini -p ""` (the prompt arrives on standard input).
    public static let builtins: [String: CommandAgent] = [
        "claude": CommandAgent(
            name: "claude", argv: ["claude", "-p"],
            environment: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL"]),
        "codex": CommandAgent(
            name: "codex", argv: ["codex", "exec"],
            environment: ["OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL"]),
        "gemini": CommandAgent(
            name: "gemini", argv: ["gemini", "-p", ""], environment: ["GEMINI_API_KEY", "GOOGLE_API_KEY"]),
    ]
}
