import Foundation
import Testing

extension CLIEndToEnd {
    /// validate, estimate, graph, list, show, saved configs run by name, and `NAME@REV`.
    @Suite struct WorkflowCLITests {
        private func setUp() throws -> (RefineryBinary, Sandbox, [String: String]) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            return (binary, sandbox, RefineryBinary.environment(home: sandbox.root))
        }

        @Test func estimateOfConsensusClassicWithThreeModelsIsTwelveCallsForOneRound() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let result = try await binary.run(
                [
                    "estimate", "consensus-classic", "--models", CLIHarness.threeModels, "--max-rounds", "1",
                    "--output-format", "json",
                ],
                environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 0, "\(result.stderr)")
            let json = try CLIHarness.json(result.stdout)
            let calls = try #require(json["calls"] as? [String: Any])
            #expect(calls["min"] as? Int == 12)
            #expect(calls["max"] as? Int == 12)
            let cost = try #require(json["cost_usd"] as? [String: Any])
            #expect((cost["max"] as? Double ?? 0) > 0)
        }

        /// A fallback model the catalog has no price for is an unpriced model of the run: the estimate named only
        /// the models it counts calls of, so it said "All models priced" and the MCP server (which refuses unpriced
        /// models, whose calls cost $0 against its cap) ran a workflow whose fallback it could not charge.
        @Test func anUnpricedFallbackIsNamedByTheEstimate() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "backed.yaml",
                Data(
                    """
                    refinery: 1
                    name: backed
                    models:
                      - { model: openai/gpt-4o, fallback: [openrouter/vendor/unpriced-model] }
                    arbiter: { model: openai/gpt-4o-mini, fallback: [openrouter/vendor/unpriced-arbiter] }
                    stages: [propose, {synthesize: {by: arbiter}}]

                    """.utf8))
            let json = try await binary.run(
                ["estimate", "backed.yaml", "q", "--output-format", "json"], environment: environment,
                directory: sandbox.root)
            #expect(json.exitCode == 0, "\(json.stderr)")
            let object = try CLIHarness.json(json.stdout)
            #expect(
                object["unpriced_models"] as? [String]
                    == ["openrouter/vendor/unpriced-arbiter", "openrouter/vendor/unpriced-model"], "\(json.stdout)")
            let text = try await binary.run(
                ["estimate", "backed.yaml", "q"], environment: environment, directory: sandbox.root)
            #expect(text.exitCode == 0, "\(text.stderr)")
            #expect(
                text.stdout.contains(
                    "Unpriced (not in the catalog, not counted in cost): openrouter/vendor/unpriced-arbiter, "
                        + "openrouter/vendor/unpriced-model — fallback models, called only when the model before them "
                        + "fails."), "\(text.stdout)")
            #expect(!text.stdout.contains("All models priced"), "\(text.stdout)")
        }

        /// A call capped by `max_tokens` on a model that thinks may be billed its thinking too (Anthropic adds the
        /// budget of the reasoning effort, 16,384 at `high`, to the cap it sends): the estimate's dearest run priced
        /// 500 output tokens a call. Thinking is billed, not read by later calls, so inputs do not grow with it.
        @Test func aCappedCallIsPricedWithTheThinkingItMayBeBilled() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            func estimate(_ effort: String) async throws -> [String: Any] {
                try sandbox.write(
                    "think.yaml",
                    Data(
                        """
                        refinery: 1
                        name: think
                        models:
                          - { model: anthropic/claude-sonnet-4-5, instances: 2, params: { max_tokens: 500\(effort) } }
                        stages: [propose, {repeat: [evaluate, close]}]
                        iterations: { max: 1 }

                        """.utf8))
                let result = try await binary.run(
                    ["estimate", "think.yaml", "What is 2+2?", "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                return try #require(try CLIHarness.json(result.stdout)["tokens"] as? [String: Any])
            }
            let plain = try await estimate("")
            let thinking = try await estimate(", reasoning_effort: high")
            #expect((plain["output"] as? [String: Any])?["max"] as? Int == 4 * 500, "\(plain)")
            #expect((thinking["output"] as? [String: Any])?["max"] as? Int == 4 * (500 + 16_384), "\(thinking)")
            #expect(
                (thinking["input"] as? [String: Any])?["max"] as? Int == (plain["input"] as? [String: Any])?["max"] as? Int)
        }

        /// `run --dry-run --output-format jsonl` printed the estimate as pretty JSON over many lines, which no
        /// JSON-lines reader takes; it is one line now, the same object as `json`.
        @Test func aDryRunInJSONLinesIsOneLine() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let lines = try await binary.run(
                ["q", "--models", CLIHarness.threeModels, "--dry-run", "--output-format", "jsonl"],
                environment: environment, directory: sandbox.root)
            #expect(lines.exitCode == 0, "\(lines.stderr)")
            #expect(lines.stdout.split(separator: "\n").count == 1, "\(lines.stdout)")
            let json = try CLIHarness.json(lines.stdout)
            let calls = try #require(json["calls"] as? [String: Any])
            #expect(calls["min"] as? Int == 18)
            #expect(calls["max"] as? Int == 45)
        }

        /// `--timeout` takes a duration as the file writes it, as the compiler's hint for a bad timeout says (`write a
        /// duration such as 90s, 2m`): `--timeout 2m` was refused by the flag's parser ("The value '2m' is invalid"),
        /// so the hint sent the user to a form the flag refused. The value is checked by the compiler like the file's.
        @Test func timeoutTakesADurationAsTheFileWritesIt() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            for value in ["2m", "500ms", "90s", "45", "1.5"] {
                let result = try await binary.run(
                    ["q", "--models", CLIHarness.threeModels, "--timeout", value, "--dry-run"],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "--timeout \(value): \(result.stderr)")
            }
            let long = try await binary.run(
                ["q", "--models", CLIHarness.threeModels, "--timeout", "200h", "--dry-run"],
                environment: environment, directory: sandbox.root)
            #expect(long.exitCode == 4)
            #expect(long.stderr.contains("<command line>: --timeout: error: `limits.timeout` is longer than a week"))
            let bad = try await binary.run(
                ["q", "--models", CLIHarness.threeModels, "--timeout", "2x", "--dry-run"],
                environment: environment, directory: sandbox.root)
            #expect(bad.exitCode == 4)
        }

        /// A workflow given as `./team.yaml` is shown (and recorded) at its path, `/…/team.yaml`: it read
        /// `/…/./team.yaml`, the current folder joined to the argument as typed.
        @Test func aRelativeWorkflowPathIsShownWithoutDotComponents() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "sub/team.yaml",
                Data("refinery: 1\nname: team\nmodels: [openai/gpt-4o:2]\nstages: [propose]\n".utf8))
            let shown = try await binary.run(
                ["show", "./sub/./team.yaml"], environment: environment, directory: sandbox.root)
            #expect(shown.exitCode == 0, "\(shown.stderr)")
            let from = try #require(shown.stdout.split(separator: "\n").first { $0.hasPrefix("from:") })
            #expect(from.hasSuffix("/sub/team.yaml"), "\(from)")
            #expect(!from.contains("/./"), "\(from)")
        }

        /// A catalog price near Double's limit made every cost infinite: `estimate` trapped (SIGILL, "Double value
        /// cannot be converted to Int") and a run's JSON could not be written after paying for its calls. Prices
        /// are bounded where the catalog is read, located like any catalog problem.
        @Test func anAbsurdCatalogPriceIsRefusedNotACrash() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "config/refinery/catalog.yaml", Data("prices:\n  openai/gpt-4o: { input: 1e308, output: 2 }\n".utf8))
            let result = try await binary.run(
                ["estimate", "consensus", "--models", "openai/gpt-4o,openai/gpt-4o-mini"], environment: environment,
                directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("catalog.yaml:2:27: error: `input` (USD per million tokens) must be"))
            #expect(result.stderr.contains("[E105]"), "\(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"))
        }

        /// Within every limit (128 members, 1,000 rounds, `max_tokens` 10^8, a 1 MB file, the dearest price a
        /// catalog may give) the dearest run costs ~$10^17, more cents than Int holds: the text table trapped.
        @Test func theDearestEstimateWithinTheLimitsPrints() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "config/refinery/catalog.yaml",
                Data("prices:\n  openai/gpt-4o: { input: 1000000, output: 1000000 }\n".utf8))
            try sandbox.write(
                "dear.yaml",
                Data(
                    """
                    refinery: 1
                    name: dear
                    models:
                      - { model: openai/gpt-4o, instances: 128, params: { max_tokens: 100000000 } }
                    stages: [propose, {repeat: [propose, {evaluate: {params: {max_tokens: 100000000}}}, refine, close]}]
                    iterations: { max: 1000 }

                    """.utf8))
            try sandbox.write("big.txt", Data(String(repeating: "a", count: 1_000_000).utf8))
            let result = try await binary.run(
                ["estimate", "dear.yaml", "q", "-f", "big.txt"], environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stdout.contains("total "), "\(result.stdout)")
            #expect(!result.stderr.contains("Fatal error"))
        }

        /// `show` of a chain without a repeat block used to print the default `rounds: 1...5` and
        /// `convergence: vote-threshold`, which never apply to it; the arbiter's fallbacks were left out.
        @Test func showSaysASinglePassRunsOnceAndNamesTheArbitersFallbacks() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let vote = try await binary.run(["show", "vote"], environment: environment, directory: sandbox.root)
            #expect(vote.exitCode == 0, "\(vote.stderr)")
            #expect(vote.stdout.contains("rounds:      single pass (no repeat block)\n"), "\(vote.stdout)")
            #expect(!vote.stdout.contains("convergence:"))
            let consensus = try await binary.run(
                ["show", "consensus"], environment: environment, directory: sandbox.root)
            #expect(consensus.stdout.contains("rounds:      1...5\nconvergence: vote-threshold\n"), "\(consensus.stdout)")
            try sandbox.write(
                "fb.yaml",
                Data(
                    "refinery: 1\nname: fb\nmodels: [claude, codex]\narbiter: {model: claude, fallback: [codex]}\n"
                        .appending("stages: [propose, synthesize]\n").utf8))
            let fallback = try await binary.run(["show", "fb.yaml"], environment: environment, directory: sandbox.root)
            #expect(
                fallback.stdout.contains("arbiter:     anthropic/claude-opus-4-6 (fallback openai/gpt-5.4)\n"),
                "\(fallback.stdout)")
        }

        @Test func validateRendersDiagnosticsWithCaretAndExitsFour() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "good.yaml", Data("refinery: 1\nname: good\nmodels: [claude, codex]\nstages: [propose]\n".utf8))
            try sandbox.write("bad.yaml", Data("refinery: 1\nname: bad\nmodles: [claude]\nstages: [propose]\n".utf8))
            let good = try await binary.run(
                ["validate", "good.yaml"], environment: environment, directory: sandbox.root)
            #expect(good.exitCode == 0, "\(good.stderr)")
            #expect(good.stdout == "good.yaml: ok\n")
            let bad = try await binary.run(
                ["validate", "good.yaml", "bad.yaml"], environment: environment, directory: sandbox.root)
            #expect(bad.exitCode == 4)
            #expect(bad.stderr.contains("bad.yaml:3:1: error:"))
            #expect(bad.stderr.contains("3 | modles: [claude]"))
            #expect(bad.stderr.contains("^"))
            #expect(bad.stderr.contains("did you mean `models`?"))
            #expect(!bad.stderr.contains("Fatal error"))
            #expect(bad.stdout.contains("good.yaml: ok"))
            let missing = try await binary.run(
                ["validate", "missing.yaml", "good.yaml"], environment: environment, directory: sandbox.root)
            #expect(missing.exitCode == 4)
            #expect(missing.stdout == "missing.yaml: not checked\ngood.yaml: ok\n")
            #expect(missing.stderr.contains("no workflow file at `missing.yaml`"))
        }

        @Test(arguments: [["validate", "partial.yaml"], ["run", "partial.yaml", "a prompt"]])
        func aPromptTemplateWithAPartialIsALocatedErrorBeforeAnyCall(arguments: [String]) async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let workflow =
                "refinery: 1\nname: p\nmodels: [claude, codex]\nstages:\n  - propose: { prompt: p.mustache }\n"
            try sandbox.write("partial.yaml", Data(workflow.utf8))
            try sandbox.write("p.mustache", Data("Answer {{prompt}}\n  {{> house-style}}\n".utf8))
            let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("p.mustache:2:3: error:"), "\(result.stderr)")
            #expect(result.stderr.contains("includes the partial `house-style`"))
            #expect(result.stderr.contains("[E510]"))
        }

        /// A temperature the model's API refuses (Anthropic takes 0–1; OpenAI and Gemini 0–2) is a located error
        /// naming the range before any call; it passed `validate` and `estimate`, and the run failed (exit 3).
        @Test(arguments: [["validate", "hot.yaml"], ["estimate", "hot.yaml"], ["run", "hot.yaml", "a prompt"]])
        func aTemperatureTheModelsAPIRefusesIsALocatedErrorBeforeAnyCall(arguments: [String]) async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let workflow = """
                refinery: 1
                name: hot
                models:
                  - model: openai/gpt-4o
                    params: { temperature: 1.5 }
                  - model: anthropic/claude-sonnet-4-5
                    params: { temperature: 1.5 }
                stages: [propose]

                """
            try sandbox.write("hot.yaml", Data(workflow.utf8))
            let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("hot.yaml:7:28: error:"), "\(result.stderr)")
            #expect(result.stderr.contains("anthropic/claude-sonnet-4-5"), "\(result.stderr)")
            #expect(result.stderr.contains("Anthropic Messages takes 0–1"), "\(result.stderr)")
            #expect(!result.stderr.contains("hot.yaml:5:"), "\(result.stderr)")
        }

        @Test(arguments: [["run", "bad.yaml", "a prompt"], ["estimate", "bad.yaml"], ["graph", "bad.yaml"]])
        func aWorkflowThatDoesNotCompileExitsFourWithRenderedDiagnostics(arguments: [String]) async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write("bad.yaml", Data("refinery: 1\nname: bad\nmodles: [claude]\nstages: [propse]\n".utf8))
            let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("bad.yaml:3:1: error: unknown key `modles`"))
            #expect(result.stderr.contains("3 | modles: [claude]"))
            #expect(result.stderr.contains("did you mean `propose`?"))
            #expect(result.stdout.isEmpty)
        }

        @Test func aFileThatIsOneLongScalarIsReportedShort() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write("long.yaml", Data(String(repeating: "word ", count: 2_000).utf8))
            let result = try await binary.run(
                ["validate", "long.yaml"], environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4)
            #expect(result.stderr.contains("found `word word word word word word word word …` [E101]"))
            #expect(result.stderr.count < 1_000)
        }

        @Test(arguments: [("mermaid", "flowchart"), ("dot", "digraph")])
        func graphDrawsTheWorkflow(format: String, marker: String) async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let result = try await binary.run(
                ["graph", "consensus", "--format", format, "--models", "claude,codex"], environment: environment,
                directory: sandbox.root)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stdout.contains(marker))
            #expect(result.stdout.contains("codex"))
        }

        @Test func listAndShowIncludeBuiltinsAndSavedConfigs() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            _ = try await binary.run(
                ["save", "team", "--model", "openai/gpt-4o:2", "--arbiter", "openai/o3"], environment: environment,
                directory: sandbox.root)
            let list = try await binary.run(
                ["list", "--output-format", "json"], environment: environment, directory: sandbox.root)
            #expect(list.exitCode == 0, "\(list.stderr)")
            let entries = try #require(
                try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            let names = entries.compactMap { $0["name"] as? String }
            #expect(names.contains("consensus"))
            #expect(names.contains("consortium"))
            #expect(names.contains("team"))
            let show = try await binary.run(["show", "team"], environment: environment, directory: sandbox.root)
            #expect(show.exitCode == 0, "\(show.stderr)")
            #expect(show.stdout.contains("from:        user "))
            #expect(show.stdout.contains("openai/gpt-4o#2: openai/gpt-4o"))
            #expect(show.stdout.contains("extends:     consortium"))
            #expect(show.stdout.contains("arbiter:     openai/o3"))
            let missing = try await binary.run(["show", "nope"], environment: environment, directory: sandbox.root)
            #expect(missing.exitCode == 4)
        }

        /// `show --output-format json` is plain JSON (no Swift `_0` payload wrappers), and a saved config
        /// does not present the description of the workflow it extends as its own.
        @Test func showJSONIsPlainAndASavedConfigDoesNotBorrowItsBaseDescription() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            for name in ["consensus", "consortium", "debate", "verify"] {
                let show = try await binary.run(
                    ["show", name, "--output-format", "json"], environment: environment, directory: sandbox.root)
                #expect(show.exitCode == 0, "\(show.stderr)")
                #expect(!show.stdout.contains(#""_0""#), "\(name)")
                let stages = try #require(CLIHarness.json(show.stdout)["stages"] as? [[String: Any]])
                #expect(!stages.isEmpty)
            }
            let base = try CLIHarness.json(
                try await binary.run(
                    ["show", "consortium", "--output-format", "json"], environment: environment,
                    directory: sandbox.root
                ).stdout)
            let baseDescription = try #require(base["description"] as? String)
            _ = try await binary.run(
                ["save", "team", "--model", "openai/gpt-4o:2"], environment: environment, directory: sandbox.root)
            let text = try await binary.run(["show", "team"], environment: environment, directory: sandbox.root)
            #expect(text.exitCode == 0, "\(text.stderr)")
            #expect(!text.stdout.contains(baseDescription))
            #expect(text.stdout.contains("extends:     consortium"))
            let json = try await binary.run(
                ["show", "team", "--output-format", "json"], environment: environment, directory: sandbox.root)
            #expect(try CLIHarness.json(json.stdout)["description"] == nil)
        }

        /// Text from a workflow file never reaches a terminal as control characters: a description that
        /// would set the window title, clear the screen and ring the bell is printed escaped on a TTY, and
        /// exactly as written into a pipe.
        @Test func controlCharactersFromAWorkflowAreEscapedOnATerminal() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "evil.yaml",
                Data(
                    """
                    refinery: 1
                    name: evil
                    extends: consensus
                    description: "before\\e]0;pwned\\a\\e[2J\\x9B\\e[8mafter"
                    models: [openai/gpt-4o]
                    """.utf8))
            let terminal = try await CLIHarness.onTerminal(
                binary, ["show", "./evil.yaml"], environment: environment, directory: sandbox.root)
            #expect(terminal.exitCode == 0, "\(terminal.stdout) \(terminal.stderr)")
            // Colour sequences from a file are escaped too: `ESC[8m` would hide what follows.
            #expect(terminal.stdout.contains(#"before\x1B]0;pwned\x07\x1B[2J\u009B\x1B[8mafter"#), "\(terminal.stdout)")
            #expect(!terminal.stdout.contains("\u{1B}"))
            #expect(!terminal.stdout.contains("\u{07}"))
            #expect(!terminal.stdout.unicodeScalars.contains("\u{9B}"))
            let piped = try await binary.run(["show", "./evil.yaml"], environment: environment, directory: sandbox.root)
            #expect(piped.stdout.contains("before\u{1B}]0;pwned\u{07}\u{1B}[2J\u{9B}\u{1B}[8mafter"))
        }

        @Test func diagnosticsKeepTheirColourAndEscapeTheFilesText() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write("bad.yaml", Data("refinery: 1\nname: \"bad\\e]0;pwned\\a\\e[8m\"\nmodels: [claude]\n".utf8))
            var coloured = environment
            coloured["NO_COLOR"] = nil
            coloured["TERM"] = "xterm"
            let terminal = try await CLIHarness.onTerminal(
                binary, ["validate", "./bad.yaml"], environment: coloured, directory: sandbox.root)
            #expect(terminal.exitCode == 4)
            let output = terminal.stdout + terminal.stderr
            #expect(output.contains(#"bad\x1B]0;pwned\x07\x1B[8m"#), "\(output)")
            #expect(!output.contains("\u{07}"))
            #expect(!output.contains("\u{1B}]"))
            #expect(!output.contains("\u{1B}[8m"))
            #expect(output.contains("\u{1B}[1;31m"), "the renderer's own colour is kept: \(output)")
        }

        @Test func nameAtRevisionReadsTheFileAsItWasAndRecordsTheCommit() async throws {
            let (binary, sandbox, _) = try setUp()
            defer { sandbox.cleanup() }
            let repository = try await TemporaryGitRepository()
            defer { repository.cleanup() }
            try repository.write(
                "workflows/review.yaml",
                "refinery: 1\nname: review\nmodels: [openai/gpt-4o, openai/o3]\n"
                    + "stages: [propose, {repeat: [evaluate, close]}]\n")
            let first = try await repository.commitAll("two members")
            try await repository.git("tag", "v1")
            try repository.write(
                "workflows/review.yaml",
                "refinery: 1\nname: review\nmodels: [openai/gpt-4o, openai/o3, openai/gpt-4o-mini]\n"
                    + "stages: [propose, {repeat: [evaluate, close]}]\n")
            let second = try await repository.commitAll("three members")
            let environment = RefineryBinary.environment(home: sandbox.root)

            func calls(_ target: String) async throws -> Int? {
                let result = try await binary.run(
                    ["estimate", target, "--max-rounds", "1", "--output-format", "json"], environment: environment,
                    directory: repository.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                return (try CLIHarness.json(result.stdout)["calls"] as? [String: Any])?["max"] as? Int
            }
            #expect(try await calls("review@v1") == 4)  // 2 proposals + 2 reviews
            #expect(try await calls("review") == 9)  // 3 proposals + 6 reviews
            #expect(try await calls("review@\(first)") == 4)
            // Git's revision syntax names the same commit: the one before HEAD, a short sha.
            #expect(try await calls("review@HEAD~1") == 4)
            #expect(try await calls("review@HEAD^") == 4)
            #expect(try await calls("review@\(first.prefix(7))") == 4)
            #expect(try await calls("review@HEAD") == 9)

            let show = try await binary.run(
                ["show", "review@v1"], environment: environment, directory: repository.root)
            #expect(show.stdout.contains("revision:    \(first) (v1)"))
            let head = try await binary.run(["show", "review"], environment: environment, directory: repository.root)
            #expect(head.stdout.contains("revision:    \(second)\n"))
            try repository.write(
                "workflows/review.yaml", "refinery: 1\nname: review\nmodels: [openai/o3]\nstages: [propose]\n")
            let dirty = try await binary.run(["show", "review"], environment: environment, directory: repository.root)
            #expect(dirty.stdout.contains("\(second) + uncommitted changes"))

            let badRevision = try await binary.run(
                ["show", "review@nope"], environment: environment, directory: repository.root)
            #expect(badRevision.exitCode == 4)
            #expect(badRevision.stderr.contains("at revision nope"))
            let tooFarBack = try await binary.run(
                ["estimate", "review@HEAD~5"], environment: environment, directory: repository.root)
            #expect(tooFarBack.exitCode == 4)
            #expect(tooFarBack.stderr.contains("has no commit at revision HEAD~5"), "\(tooFarBack.stderr)")
            #expect(tooFarBack.stderr.contains("git log --oneline -- workflows/review.yaml"), "\(tooFarBack.stderr)")

            // A workflow deleted since is still in the history: `review@v1` reads it as it was, `review` is gone.
            try FileManager.default.removeItem(at: repository.root.appendingPathComponent("workflows/review.yaml"))
            #expect(try await calls("review@v1") == 4)
            let gone = try await binary.run(
                ["estimate", "review"], environment: environment, directory: repository.root)
            #expect(gone.exitCode == 4)
            #expect(gone.stderr.contains("no workflow named `review`"), "\(gone.stderr)")
        }

        /// A workflow is its file, the bases it extends and its prompt files. `NAME@REV` reads the bases of the same
        /// repository at that revision, as it reads the prompt files: `review@v1` ran v1's file over today's base, a
        /// workflow v1 never had. A change not committed to a base or a prompt file makes the workflow dirty, as one
        /// to the file itself does (it was recorded clean, though what ran was not the commit); a base in a folder
        /// outside the repository has no part in its commit and leaves the flag alone.
        @Test func aWorkflowsBasesAndPromptFilesAreReadAtItsRevisionAndMakeItDirty() async throws {
            let (binary, sandbox, home) = try setUp()
            defer { sandbox.cleanup() }
            let repository = try await TemporaryGitRepository()
            defer { repository.cleanup() }
            let reviewed = "stages: [propose, {repeat: [evaluate, close]}]\n"
            try repository.write(
                "workflows/base.yaml", "refinery: 1\nname: base\nmodels: [openai/gpt-4o, openai/o3]\n" + reviewed)
            try repository.write("workflows/review.yaml", "refinery: 1\nname: review\nextends: base\n")
            try repository.write(
                "workflows/solo.yaml",
                "refinery: 1\nname: solo\nmodels: [openai/o3]\nstages: [propose: {prompt: {file: ask.mustache}}]\n")
            try repository.write("workflows/ask.mustache", "Answer: {{prompt}}\n")
            try repository.write("workflows/outer.yaml", "refinery: 1\nname: outer\nextends: elsewhere\n")
            let first = try await repository.commitAll("two members")
            try await repository.git("tag", "v1")
            try repository.write(
                "workflows/base.yaml",
                "refinery: 1\nname: base\nmodels: [openai/gpt-4o, openai/o3, openai/gpt-4o-mini]\n" + reviewed)
            let second = try await repository.commitAll("three members")
            try sandbox.write(
                "shared/elsewhere.yaml",
                Data("refinery: 1\nname: elsewhere\nmodels: [openai/o3]\nstages: [propose]\n".utf8))
            var environment = home
            environment["REFINERY_PATH"] = sandbox.root.appendingPathComponent("shared").path

            func run(_ arguments: [String]) async throws -> String {
                let result = try await binary.run(arguments, environment: environment, directory: repository.root)
                #expect(result.exitCode == 0, "\(arguments): \(result.stderr)")
                return result.stdout
            }
            func calls(_ target: String) async throws -> Int? {
                let arguments = ["estimate", target, "--max-rounds", "1", "--output-format", "json"]
                let json = try CLIHarness.json(try await run(arguments))
                return (json["calls"] as? [String: Any])?["max"] as? Int
            }
            #expect(try await calls("review@v1") == 4)  // 2 proposals + 2 reviews, as v1's base had it
            #expect(try await calls("review") == 9)  // 3 proposals + 6 reviews
            #expect(try await run(["show", "review@v1"]).contains("revision:    \(first) (v1)"))

            #expect(try await run(["show", "review"]).contains("revision:    \(second)\n"))
            try repository.write(
                "workflows/base.yaml", "refinery: 1\nname: base\nmodels: [openai/o3]\nstages: [propose]\n")
            #expect(try await run(["show", "review"]).contains("revision:    \(second) + uncommitted changes"))
            try await repository.git("checkout", "--", "workflows/base.yaml")
            #expect(try await run(["show", "review"]).contains("revision:    \(second)\n"))

            #expect(try await run(["show", "solo"]).contains("revision:    \(second)\n"))
            try repository.write("workflows/ask.mustache", "Answer briefly: {{prompt}}\n")
            #expect(try await run(["show", "solo"]).contains("revision:    \(second) + uncommitted changes"))

            #expect(try await run(["show", "outer"]).contains("revision:    \(second)\n"))
        }

        /// A workflow file's commit and dirty flag come from one git process, not three (`rev-parse
        /// --show-toplevel`, `rev-parse HEAD`, `status` one after the other), and say the same.
        @Test func aFilesGitFactsTakeOneGitProcess() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let repository = try await TemporaryGitRepository()
            defer { repository.cleanup() }
            try repository.write(
                "workflows/review.yaml", "refinery: 1\nname: review\nmodels: [openai/o3]\nstages: [propose]\n")
            let commit = try await repository.commitAll("one member")
            // A `git` first on PATH that logs each start and hands over to the real one.
            let real = try #require(
                (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/git" }
                    .first { FileManager.default.isExecutableFile(atPath: $0) })
            let log = sandbox.root.appendingPathComponent("git.log").path
            try sandbox.write("bin/git", Data("#!/bin/sh\necho \"$*\" >> '\(log)'\nexec '\(real)' \"$@\"\n".utf8))
            #expect(chmod(sandbox.root.appendingPathComponent("bin/git").path, 0o755) == 0)
            var logged = environment
            logged["PATH"] = sandbox.root.appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "")
            func gitStarts() -> Int {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(atPath: log)
                return text.split(separator: "\n").count
            }

            let clean = try await binary.run(["show", "review"], environment: logged, directory: repository.root)
            #expect(clean.exitCode == 0, "\(clean.stderr)")
            #expect(clean.stdout.contains("revision:    \(commit)\n"), "\(clean.stdout)")
            #expect(gitStarts() == 1)
            try repository.write(
                "workflows/review.yaml", "refinery: 1\nname: review\nmodels: [openai/gpt-4o]\nstages: [propose]\n")
            let dirty = try await binary.run(["show", "review"], environment: logged, directory: repository.root)
            #expect(dirty.exitCode == 0, "\(dirty.stderr)")
            #expect(dirty.stdout.contains("\(commit) + uncommitted changes"), "\(dirty.stdout)")
            #expect(gitStarts() == 1)
        }

        @Test func modelsShowsWhichCredentialsArePresentNeverTheirValues() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            var withKey = environment
            withKey["OPENAI_API_KEY"] = "sk-test-PLANTED-models-0123456789"
            let result = try await binary.run(["models"], environment: withKey, directory: sandbox.root)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stdout.contains("  openai: set (OPENAI_API_KEY)\n"))
            #expect(result.stdout.contains("  anthropic: missing: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN\n"))
            #expect(result.stdout.contains("  claude → anthropic/claude-opus-4-6 (reasoning_effort=high)\n"))
            #expect(!result.stdout.contains("PLANTED"))
            #expect(!result.stderr.contains("PLANTED"))
        }

        @Test func aBrokenProvidersFileExitsFourWithALocatedDiagnostic() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write("config/refinery/providers.yaml", Data("endpoints: 5\n".utf8))
            let result = try await binary.run(["models"], environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("providers.yaml:1:"))
            #expect(result.stdout.isEmpty)
        }
    }
}
