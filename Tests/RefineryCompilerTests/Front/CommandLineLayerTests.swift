// The command line as the compiler's last layer: each flag is merged over the file like an `extends`
// child and checked by the same code, so a bad flag gets the code the same value in a file gets,
// located at the flag.

import RefineryCompiler
import RefinerySyntax
import Testing

@Suite struct CommandLineLayerTests {
    private static let file = """
        refinery: 1
        name: consensus
        models: [claude]
        arbiter: { model: codex, fallback: [gemini], system: Judge. }
        convergence: { strategy: vote-threshold, threshold: 8, stability: 2 }
        iterations: { min: 2, max: 5 }
        stages: [propose, {repeat: [propose, evaluate, close]}]

        """

    private func compile(_ overrides: WorkflowOverrides, yaml: String = Self.file) -> CompileResult {
        WorkflowCompiler(overrides: overrides).compile(yaml: yaml, displayName: "w.yaml")
    }

    private func located(_ result: CompileResult) -> [String] {
        result.errors.map { "\($0.code) \($0.file ?? "-")\($0.location.map { ":\($0.line):\($0.column)" } ?? "")" }
    }

    @Test func modelsReplaceMembersWithCountsAndRepeatedNames() throws {
        let overrides = WorkflowOverrides(models: ["gpt-4o:2", "claude", "openai/o3", "claude"])
        let workflow = try #require(compile(overrides).workflow)
        #expect(workflow.members.map(\.id) == ["gpt-4o#1", "gpt-4o#2", "claude#1", "openai/o3", "claude#2"])
        #expect(
            workflow.members.map(\.model.description) == [
                "openai/gpt-4o", "openai/gpt-4o", "anthropic/claude-opus-4-6", "openai/o3", "anthropic/claude-opus-4-6",
            ])
        #expect(workflow.members[2].params.reasoningEffort == "high")
    }

    @Test func everyFlagLandsInTheWorkflow() throws {
        let overrides = WorkflowOverrides(
            models: ["codex", "gemini"], arbiter: "claude", threshold: 9, minRounds: 2, maxRounds: 3,
            timeoutSeconds: 30, maxConcurrent: 2, budgetUSD: 1.5, variables: ["tone": "dry"])
        let result = compile(overrides)
        let workflow = try #require(result.workflow, "\(result.diagnostics)")
        #expect(workflow.members.map(\.id) == ["codex", "gemini"])
        #expect(workflow.arbiter?.model.description == "anthropic/claude-opus-4-6")
        // `--arbiter` replaces the model only: the file's fallbacks and system prompt stay.
        #expect(workflow.arbiter?.fallback.map(\.description) == ["gemini/gemini-3.1-pro-preview"])
        #expect(workflow.arbiter?.system == "Judge.")
        #expect(workflow.convergence.strategy == .voteThreshold(threshold: 9, stability: 2))
        #expect(workflow.iterations == Iterations(min: 2, max: 3))
        #expect(workflow.limits.timeoutSeconds == 30)
        #expect(workflow.limits.maxConcurrent == 2)
        #expect(workflow.limits.budgetUSD == 1.5)
        #expect(workflow.limits.quorum == 2)
        #expect(workflow.variables == ["tone": "dry"])
        #expect(result.graph == ExecutionGraph(workflow: workflow))
    }

    @Test func aSingleModelHasQuorumOneAndOneRound() throws {
        let workflow = try #require(compile(WorkflowOverrides(models: ["claude"])).workflow)
        #expect(workflow.limits.quorum == 1)
        #expect(workflow.iterations == Iterations(min: 1, max: 1))
        let explicit = try #require(compile(WorkflowOverrides(models: ["claude"], maxRounds: 3)).workflow)
        #expect(explicit.iterations.max == 3)
    }

    /// `--max-rounds` below the file's `iterations.min` (debate's 2) is refused at the flag, saying how
    /// to get what was meant; it used to lower the minimum silently, and debate then ran its round 2.
    @Test func maxRoundsBelowTheFilesMinimumIsRefusedSayingSo() throws {
        let result = compile(WorkflowOverrides(maxRounds: 1))
        #expect(result.workflow == nil)
        #expect(located(result) == ["E400 <command line>: --max-rounds"])
        let text = result.errors.map(\.description).joined()
        #expect(text.contains("`--max-rounds 1` is below this workflow's `iterations.min` (2)"), "\(text)")
        #expect(result.errors.first?.hint?.contains("--min-rounds 1") == true)
        let lowered = try #require(compile(WorkflowOverrides(minRounds: 1, maxRounds: 1)).workflow)
        #expect(lowered.iterations == Iterations(min: 1, max: 1))
    }

    /// Each flag against the same value written in the file: the same code, located at the flag.
    @Test(arguments: [
        (WorkflowOverrides(maxRounds: 1_000_000_000), "iterations: { max: 1000000000 }", "E105", "--max-rounds"),
        (WorkflowOverrides(minRounds: 0), "iterations: { min: 0 }", "E105", "--min-rounds"),
        (WorkflowOverrides(minRounds: 4, maxRounds: 2), "iterations: { min: 4, max: 2 }", "E400", "--min-rounds"),
        (WorkflowOverrides(threshold: 11), "convergence: { threshold: 11 }", "E401", "--threshold"),
        (WorkflowOverrides(threshold: .nan), "convergence: { threshold: nan }", "E101", "--threshold"),
        (WorkflowOverrides(timeoutSeconds: 1e300), "limits: { timeout: 1e300 }", "E105", "--timeout"),
        (WorkflowOverrides(timeoutSeconds: 0), "limits: { timeout: 0 }", "E105", "--timeout"),
        // Shorter than the engine's millisecond: it was a timeout of 0 that failed every call.
        (WorkflowOverrides(timeoutSeconds: 1e-300), "limits: { timeout: 1e-300 }", "E105", "--timeout"),
        (WorkflowOverrides(timeoutSeconds: 0.0004), "limits: { timeout: 0.0004 }", "E105", "--timeout"),
        (WorkflowOverrides(maxConcurrent: 0), "limits: { max_concurrent: 0 }", "E105", "--max-concurrent"),
        (WorkflowOverrides(budgetUSD: -1), "limits: { budget: -1 }", "E105", "--budget"),
        // Infinity (`--budget 1e400` parses as it) is a number out of range, as `.inf` is in a file.
        (WorkflowOverrides(budgetUSD: .infinity), "limits: { budget: .inf }", "E105", "--budget"),
        (WorkflowOverrides(models: ["no-such-model"]), "models: [no-such-model]", "E200", "--models"),
        (WorkflowOverrides(models: ["gpt-4o:0"]), "models: [\"gpt-4o:0\"]", "E105", "--models"),
        (WorkflowOverrides(models: ["gpt-4o:129"]), "models: [\"gpt-4o:129\"]", "E105", "--models"),
        (
            WorkflowOverrides(models: Array(repeating: "claude:16", count: 9)),
            "models: [" + Array(repeating: "\"claude:16\"", count: 9).joined(separator: ", ") + "]", "E105", "--models"
        ),
        (WorkflowOverrides(models: [""]), "models: [\"\"]", "E201", "--models"),
        // A declared endpoint takes any name, but not one with a space or a control character (it reached the
        // server's request as is).
        (WorkflowOverrides(models: ["openai/gpt 4o"]), "models: [\"openai/gpt 4o\"]", "E201", "--models"),
        (WorkflowOverrides(models: ["ollama/a\u{1B}[2J"]), "models: [\"ollama/a\\e[2J\"]", "E201", "--models"),
        (WorkflowOverrides(arbiter: "gtp-4o"), "arbiter: gtp-4o", "E200", "--arbiter"),
    ])
    func aFlagGetsTheCodeOfTheSameValueInAFile(
        overrides: WorkflowOverrides, line: String, code: String, flag: String
    ) {
        let bare = "refinery: 1\nname: n\nstages: [propose, {repeat: [propose, evaluate, close]}]\n"
        let members = line.hasPrefix("models:") ? "" : "models: [claude, codex]\n"
        let inFile = compile(WorkflowOverrides(), yaml: bare + members + line + "\n")
        #expect(inFile.errors.map(\.code) == [code], "\(inFile.diagnostics)")
        let onCommandLine = compile(overrides)
        #expect(located(onCommandLine) == ["\(code) <command line>: \(flag)"], "\(onCommandLine.diagnostics)")
        #expect(onCommandLine.workflow == nil)
    }

    @Test func aBadVariableNameIsReportedAtTheFlag() {
        let result = compile(WorkflowOverrides(variables: ["1abc": "x"]))
        #expect(located(result) == ["E106 <command line>: --var"])
    }

    /// A stage's own value wins in its templates, so `--var prompt=...` used to be dropped without a word.
    @Test(arguments: ["prompt", "own_answer", "rubric", "draft", "has_peers"])
    func aVariableAStageProvidesCannotBeSetByFlag(name: String) throws {
        let result = compile(WorkflowOverrides(variables: [name: "x"]))
        #expect(located(result) == ["E106 <command line>: --var"])
        let message = try #require(result.errors.first?.message)
        #expect(message.hasPrefix("`\(name)` is a variable the `"), "\(message)")
        #expect(message.hasSuffix("stage provides, so `--var` cannot set it"))
        #expect(compile(WorkflowOverrides(variables: ["my_\(name)": "x"])).errors == [])
    }

    /// A flag the workflow has no use for was accepted without a word: `--arbiter` on a chain no arbiter
    /// performs, `--max-rounds` or `--threshold` on one with no `repeat` block.
    @Test func aFlagWithoutEffectIsAWarningAtTheFlag() {
        let noArbiterStage = compile(WorkflowOverrides(arbiter: "gemini"))
        #expect(noArbiterStage.errors == [])
        #expect(
            noArbiterStage.warnings.filter { $0.code == "W705" }.map { "\($0.code) \($0.file ?? "-")" } == [
                "W705 <command line>: --arbiter"
            ])
        let singlePass = "refinery: 1\nname: n\nmodels: [claude, codex]\nstages: [propose, vote]\n"
        let rounds = compile(WorkflowOverrides(threshold: 9, maxRounds: 3), yaml: singlePass)
        #expect(rounds.errors == [])
        #expect(
            rounds.warnings.map { "\($0.code) \($0.file ?? "-")" } == [
                "W705 <command line>: --max-rounds", "W705 <command line>: --threshold",
            ])
        #expect(rounds.warnings.first?.message == "`--max-rounds` has no effect: this workflow has no `repeat` block, so it runs once")
        let used = compile(
            WorkflowOverrides(arbiter: "gemini", maxRounds: 3),
            yaml: "refinery: 1\nname: n\nmodels: [claude]\narbiter: codex\nstages: [{repeat: [propose, synthesize, close]}]\n"
                + "convergence: { strategy: confidence }\n")
        #expect(used.diagnostics.filter { $0.code == "W705" } == [], "\(used.diagnostics)")
    }

    /// Overrides from an MCP tool call name its arguments everywhere a diagnostic names one (header, message,
    /// hint); they named command-line flags the caller never typed.
    @Test func toolArgumentsAreNamedAsTheToolTakesThem() throws {
        var overrides = WorkflowOverrides(maxRounds: 1)
        overrides.surface = .toolArguments
        let below = try #require(compile(overrides).errors.first)
        #expect(below.file == "<tool arguments>: rounds")
        #expect(below.message == "`rounds: 1` is below this workflow's `iterations.min` (2)")
        #expect(below.hint == "raise `rounds` to at least 2, or also pass `min_rounds: 1` to lower the minimum")
        overrides = WorkflowOverrides(arbiter: "gemini", minRounds: 1)
        overrides.surface = .toolArguments
        let unused = compile(overrides, yaml: "refinery: 1\nname: n\nmodels: [claude]\nstages: [propose]\n")
        #expect(
            unused.warnings.map(\.message) == [
                "`arbiter` has no effect: no stage of this workflow is performed by the arbiter",
                "`min_rounds` has no effect: this workflow has no `repeat` block, so it runs once",
            ])
    }

    @Test func theRenderedHeaderNamesTheFlag() throws {
        let diagnostic = try #require(compile(WorkflowOverrides(maxRounds: 2000)).errors.first)
        #expect(diagnostic.description.hasPrefix("<command line>: --max-rounds: error: `iterations.max` must be"))
    }
}
