import Foundation
import RefineryCompiler
import RefinerySyntax
import Testing

@Suite struct ValidWorkflowTests {
    private func compile(_ yaml: String, bases: [String: String] = [:], files: [String: String] = [:]) -> CompileResult
    {
        Fixtures.compiler(bases: bases, files: files).compile(
            yaml: yaml, displayName: "w.yaml", path: "/work/flows/w.yaml")
    }

    @Test(arguments: ["consensus.yaml", "consortium.yaml", "self-refine.yaml", "verify.yaml", "debate.yaml"])
    func validFixturesCompileWithoutDiagnostics(file: String) throws {
        let result = Fixtures.compiler().compile(
            WorkflowSource(displayName: file, bytes: try Fixtures.bytes("valid/\(file)")))
        #expect(result.diagnostics == [])
        #expect(result.workflow?.name == String(file.dropLast(5)))
    }

    @Test func consortiumIR() throws {
        let result = Fixtures.compiler().compile(
            WorkflowSource(displayName: "c", bytes: try Fixtures.bytes("valid/consortium.yaml")))
        let workflow = try #require(result.workflow)
        #expect(workflow.members.map(\.id) == ["openai/gpt-4o#1", "openai/gpt-4o#2", "sonnet"])
        #expect(
            workflow.members[2].model
                == ModelRef(provider: "anthropic", model: "claude-sonnet-4-5", alias: "claude-sonnet-4-5"))
        #expect(workflow.members[2].params == ModelParams(temperature: 0.7))
        // The alias's reasoning effort stays under the arbiter's own params.
        #expect(workflow.arbiter?.params == ModelParams(maxTokens: 4096, reasoningEffort: "high"))
        #expect(workflow.convergence.strategy == .confidence(threshold: 0.8))
        #expect(workflow.limits == Limits(perProvider: ["openai": 2], budgetUSD: 1.5, quorum: 2))
        #expect(workflow.iterations == Iterations(min: 1, max: 3))
        #expect(workflow.output == .synthesis)
        #expect(
            workflow.stages == [
                .repeat([
                    .propose(ProposeStage(context: .synthesis)), .synthesize(SynthesizeStage()), .close(CloseStage()),
                ])
            ])
    }

    @Test func selfRefineIR() throws {
        let result = Fixtures.compiler().compile(
            WorkflowSource(displayName: "s", bytes: try Fixtures.bytes("valid/self-refine.yaml")))
        let workflow = try #require(result.workflow)
        let expected = SemanticOptions(
            charHigh: 0.98, charLow: 0.25, jaccardHigh: 0.9, threshold: 0.9,
            embeddingModel: ModelRef(
                provider: "openai", model: "text-embedding-3-small", alias: "openai/text-embedding-3-small"),
            mode: .strict, cacheSize: 128, cacheTTLSeconds: 600, breakerFailures: 2, breakerCooldownSeconds: 45,
            regressionGuard: false)
        #expect(workflow.convergence.strategy == .semantic(expected))
        let refine = RefineStage(
            common: StageCommon(params: ModelParams(temperature: 0.3, stop: ["</revised>"]), timeoutSeconds: 90),
            refineProtocol: .critiqueRevise, minBytes: 200)
        #expect(workflow.stages == [.propose(ProposeStage()), .repeat([.refine(refine), .close(CloseStage())])])
        #expect(workflow.output == .draft)
        #expect(workflow.limits.quorum == 1)
    }

    @Test func verifyAndDebateIR() throws {
        let verify = try #require(
            Fixtures.compiler().compile(
                WorkflowSource(displayName: "v", bytes: try Fixtures.bytes("valid/verify.yaml"))
            )
            .workflow)
        #expect(verify.system == "Answer precisely.\nCite sources when you can.\n")
        guard case .verify(let stage) = verify.stages.last else {
            Issue.record("last stage is not verify")
            return
        }
        #expect(stage.questions == 5)
        #expect(stage.common.by == .arbiter)
        #expect(stage.common.prompt?.system == "You check facts.")
        #expect(stage.common.prompt?.user == "{{question}}")
        #expect(stage.common.prompt?.sha256 == WorkflowCompiler.sha256Hex(Array("You check facts.\0{{question}}".utf8)))
        #expect(verify.output == .draft)

        let debate = try #require(
            Fixtures.compiler().compile(
                WorkflowSource(displayName: "d", bytes: try Fixtures.bytes("valid/debate.yaml"))
            )
            .workflow)
        #expect(debate.iterations == Iterations(min: 1, max: 3))
        #expect(debate.convergence.strategy == ConvergenceStrategy.none)
        #expect(debate.limits.quorum == 3)
        #expect(
            debate.stages.last
                == .evaluate(
                    EvaluateStage(
                        common: StageCommon(by: .named(["claude", "gemini"])), mode: .batched, anonymize: false,
                        rubric: "Prefer answers with evidence.")))
        #expect(debate.output == .winner)
    }

    @Test func repeatedModelsAreNumberedAcrossEntries() throws {
        let result = compile(
            """
            refinery: 1
            name: n
            models: [claude, codex:2, claude, {model: gemini, name: g}, {model: codex, name: g}]
            stages: [propose]
            """)
        #expect(result.errors == [])
        #expect(result.workflow?.members.map(\.id) == ["claude#1", "codex#1", "codex#2", "claude#2", "g#1", "g#2"])
    }

    @Test func colonsThatAreNotCountsStayInTheModel() throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [ollama/llama3:8b, ollama/qwen2.5:7b:2]\nstages: [propose]\n")
        #expect(result.errors == [])
        #expect(
            result.workflow?.members.map(\.id) == ["ollama/llama3:8b", "ollama/qwen2.5:7b#1", "ollama/qwen2.5:7b#2"])
        #expect(
            result.workflow?.members.first?.model
                == ModelRef(provider: "ollama", model: "llama3:8b", alias: "ollama/llama3:8b"))
    }

    @Test func memberParamsOverrideAliasParams() throws {
        let result = compile(
            """
            refinery: 1
            name: n
            models:
              - model: codex
                params: { reasoning_effort: low, seed: 7, stop: END }
            stages: [propose]
            """)
        #expect(result.workflow?.members.first?.params == ModelParams(reasoningEffort: "low", seed: 7, stop: ["END"]))
    }

    @Test(arguments: [
        ("90s", 90.0), ("2m", 120.0), ("1h", 3600.0), ("500ms", 0.5), ("45", 45.0), ("1.5", 1.5), ("0.5m", 30.0),
    ])
    func durations(text: String, seconds: Double) throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [claude]\nlimits: { timeout: \(text) }\nstages: [propose]\n")
        #expect(result.workflow?.limits.timeoutSeconds == seconds)
    }

    @Test(arguments: ["0s", "-5", "5 s", "m", "1d", "'90'", "true"])
    func badDurations(text: String) throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [claude]\nlimits: { timeout: \(text) }\nstages: [propose]\n")
        #expect(result.errors.count == 1)
        #expect(["E105", "E107"].contains(result.errors.first?.code ?? ""))
        #expect(result.errors.first?.location == SourceLocation(line: 4, column: 20))
    }

    @Test func defaultsAreApplied() throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [claude, codex, gemini]\narbiter: claude\nstages: [propose, synthesize]\n")
        let workflow = try #require(result.workflow)
        #expect(workflow.iterations == Iterations(min: 1, max: 5))
        #expect(workflow.convergence == Convergence())
        #expect(workflow.limits == Limits(quorum: 2))
        #expect(workflow.output == .synthesis)
        #expect(workflow.stages == [.propose(ProposeStage()), .synthesize(SynthesizeStage())])
        #expect(workflow.provenance.path == "/work/flows/w.yaml")
    }

    @Test func onlyMinRaisesTheDefaultMax() throws {
        let result = compile("refinery: 1\nname: n\nmodels: [claude]\niterations: { min: 7 }\nstages: [propose]\n")
        #expect(result.workflow?.iterations == Iterations(min: 7, max: 7))
    }

    @Test func promptFilesAreReadRelativeToTheWorkflowAndHashed() throws {
        let template = "Answer {{prompt}} carefully.\n"
        let result = compile(
            """
            refinery: 1
            name: n
            models: [claude]
            stages:
              - propose: { prompt: prompts/propose.mustache }
              - refine: { prompt: { file: ./refine.mustache, system: Be brief. } }
            """,
            files: ["/work/flows/prompts/propose.mustache": template, "/work/flows/./refine.mustache": "R"])
        #expect(result.errors == [])
        let stages = try #require(result.workflow?.stages)
        #expect(
            stages[0].common?.prompt
                == PromptTemplate(
                    path: "prompts/propose.mustache", user: template,
                    sha256: WorkflowCompiler.sha256Hex(Array(template.utf8))))
        #expect(
            stages[1].common?.prompt
                == PromptTemplate(
                    path: "./refine.mustache", system: "Be brief.", user: "R",
                    sha256: WorkflowCompiler.sha256Hex(Array("Be brief.\0R".utf8))))
    }

    /// A file saved by a Windows editor: byte order mark, CRLF line endings.
    @Test func byteOrderMarkAndCRLFCompile() throws {
        let text = "\u{FEFF}refinery: 1\r\nname: n\r\nmodels: [claude, codex]\r\nstages:\r\n  - propose\r\n  - bogus\r\n"
        let result = compile(text)
        #expect(result.errors.map { "\($0.code)@\($0.location?.line ?? 0):\($0.location?.column ?? 0)" } == ["E300@6:5"])
        let clean = compile(text.replacingOccurrences(of: "  - bogus\r\n", with: ""))
        #expect(clean.errors == [])
        #expect(clean.workflow?.name == "n")
    }

    @Test func sha256IsHex() {
        #expect(
            WorkflowCompiler.sha256Hex(Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func allProblemsAreCollectedInOnePass() throws {
        let result = compile(
            """
            refinery: 1
            name: Bad Name
            models: [cluade, codex:0]
            iterations: { min: 4, max: 2 }
            limits: { budget: -3, retries: many }
            stages:
              - propse
              - close
            output: synthesis
            """)
        let found = result.errors.map { "\($0.code)@\($0.location?.line ?? 0):\($0.location?.column ?? 0)" }
        #expect(
            found == [
                "E104@2:7", "E200@3:10", "E105@3:18", "E400@4:20", "E105@5:19", "E101@5:32", "E300@7:5", "E302@8:5",
                "E308@9:9",
            ])
    }

    @Test func warningsDoNotBlockCompilation() throws {
        let result = compile(
            """
            refinery: 1
            name: n
            models: [claude, codex]
            stages:
              - repeat: [propose, refine]
              - repeat: [evaluate]
            """)
        #expect(result.errors.map(\.code) == ["E303"])
        let ok = compile(
            "refinery: 1\nname: n\nmodels: [claude, codex]\nstages:\n  - repeat: [propose, close]\noutput: winner\n")
        #expect(ok.warnings.map(\.code).sorted() == ["W701", "W702"])
        #expect(ok.workflow != nil)
    }
}

@Suite struct EdgeCaseTests {
    private func compile(_ yaml: String) -> CompileResult {
        Fixtures.compiler().compile(yaml: yaml, displayName: "e.yaml")
    }

    @Test func emptySectionsMeanDefaults() throws {
        let result = compile("refinery: 1\nname: n\nmodels: [claude]\nlimits:\niterations:\nstages:\n  - propose:\n")
        #expect(result.diagnostics == [])
        #expect(result.workflow?.limits == Limits(quorum: 1))
        #expect(result.workflow?.stages == [.propose(ProposeStage())])
    }

    @Test func quotedNumbersAreStringsAndSaySo() throws {
        let result = compile(
            "refinery: '1'\nname: n\nmodels: [claude]\nlimits: { retries: \"3\" }\nstages: [propose]\n")
        #expect(result.errors.map(\.code) == ["E101", "E101"])
        #expect(
            result.errors.map(\.hint)
                == Array(repeating: "remove the quotes: quoted values are always strings", count: 2))
    }

    /// An alias is reported where it is used, not at the anchor it copies.
    @Test func aProblemReachedThroughAnAliasIsReportedAtTheAlias() throws {
        let result = compile(
            "refinery: 1\nname: n\ndescription: &m banana\nmodels: [claude, *m]\nstages: [propose]\n")
        let error = try #require(result.errors.first, "\(result.diagnostics)")
        #expect(error.location == SourceLocation(line: 4, column: 18), "\(error)")
    }

    /// An explicit tag sets the type whatever the text: `!!str 1` said only "found `1`", which reads as fine.
    @Test func taggedValuesSayTheirTag() throws {
        let result = compile(
            "refinery: !!str 1\nname: n\nmodels: [claude]\nlimits: { retries: !!str 3 }\nstages: [propose]\n")
        #expect(result.errors.map(\.code) == ["E101", "E101"])
        #expect(
            result.errors.first?.message == "`refinery` must be the format version `1`, found `1` tagged `!!str`",
            "\(result.errors)")
        #expect(
            result.errors.map(\.hint)
                == Array(repeating: "remove the tag `!!str`: a tag sets the value's type, whatever its text", count: 2))
    }

    /// A number past a double's range is out of the setting's range, not "found `inf`".
    @Test func aNumberTooLargeToRepresentIsOutOfRange() throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [claude, codex]\narbiter: claude\nlimits: { budget: 1e400 }\n"
                + "convergence: { strategy: confidence, threshold: 1e400 }\n"
                + "stages: [{repeat: [propose, synthesize, close]}]\n")
        #expect(
            result.errors.map(\.message).sorted() == [
                "`limits.budget` (US dollars) must be a finite number, found a number too large to represent",
                "the `confidence` threshold must be between 0 and 1, found a number too large to represent",
            ], "\(result.diagnostics)")
    }

    @Test func yaml11BooleansAreRejectedForBooleans() throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [claude, codex]\nstages:\n  - propose\n  - evaluate: { anonymize: no }\n")
        #expect(result.errors.map(\.code) == ["E101"])
        #expect(result.errors.first?.message == "`anonymize` must be `true` or `false`, found `no`")
    }

    @Test func acceptedKeysCoverEveryStage() {
        let keys = WorkflowCompiler.acceptedKeys
        #expect(keys["stages.evaluate"] == ["by", "prompt", "params", "timeout", "mode", "anonymize", "rubric"])
        #expect(keys[""]?.count == 13)
        #expect(
            WorkflowCompiler.acceptedValues["convergence.strategy"] == [
                "vote-threshold", "confidence", "semantic", "unanimous", "agreement", "none",
            ])
    }

    @Test func nonScalarStageNameIsReported() throws {
        let result = compile("refinery: 1\nname: n\nmodels: [claude]\nstages:\n  - [propose]\n")
        #expect(result.errors.map(\.code) == ["E301"])
        #expect(result.errors.first?.location == SourceLocation(line: 5, column: 5))
    }

    @Test func underIndentedStageOptionsAreExplained() throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [claude, codex]\nstages:\n  - evaluate:\n    mode: batched\n")
        #expect(result.errors.map(\.code) == ["E301"])
        #expect(result.errors.first?.message == "the options of `evaluate` are not indented under it")
        #expect(result.errors.first?.location == SourceLocation(line: 6, column: 5))
    }

    @Test func anInvalidArbiterIsNotAlsoMissing() throws {
        let result = compile("refinery: 1\nname: n\nmodels: [claude]\narbiter: cluade\nstages: [propose, synthesize]\n")
        #expect(result.errors.map(\.code) == ["E200"])
    }

    @Test func parserLimitsAreConfigurable() throws {
        var compiler = WorkflowCompiler()
        compiler.limits = YAMLLimits(maxBytes: 10)
        let result = compiler.compile(yaml: "refinery: 1\nname: n\n")
        #expect(result.errors.map(\.code) == ["Y001"])
    }
}

@Suite struct WarningTests {
    private func compile(_ yaml: String) -> CompileResult {
        Fixtures.compiler().compile(yaml: yaml, displayName: "w.yaml")
    }

    @Test func closeOptionsAreIgnoredWithAWarning() throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [claude, codex]\nstages:\n  - repeat: [propose, evaluate, {close: {timeout: 5s}}]\n")
        #expect(result.errors == [])
        #expect(result.warnings.map(\.code) == ["W703"])
        #expect(result.warnings.first?.location == SourceLocation(line: 5, column: 34))
    }

    @Test func evaluateWithOneMemberWarns() throws {
        let result = compile("refinery: 1\nname: n\nmodels: [claude]\nstages: [propose, evaluate]\n")
        #expect(result.warnings.map(\.code) == ["W704"])
        #expect(result.workflow != nil)
    }

    @Test func unknownPerProviderIsAnError() throws {
        let result = compile(
            "refinery: 1\nname: n\nmodels: [claude]\nlimits: { per_provider: { opneai: 2 } }\nstages: [propose]\n")
        #expect(result.errors.map(\.code) == ["E106"])
        #expect(result.errors.first?.hint == "did you mean `openai`?")
        #expect(result.errors.first?.location == SourceLocation(line: 4, column: 27))
    }
}
