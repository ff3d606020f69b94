import RefineryCompiler
import RefinerySyntax
import Testing

@Suite struct ExtendsTests {
    static let bases = [
        "root": """
        refinery: 1
        name: root
        models: [claude, codex, gemini]
        arbiter: claude
        iterations: { min: 2, max: 6 }
        convergence: { strategy: vote-threshold, threshold: 7, stability: 3 }
        limits: { timeout: 30s, retries: 5, per_provider: { openai: 1 } }
        stages:
          - propose
          - repeat: [evaluate, refine, close]
        """,
        "middle": """
        refinery: 1
        name: middle
        extends: root
        limits: { retries: 1 }
        iterations: { max: 4 }
        """,
        "broken": """
        refinery: 1
        name: broken
        limits: { retries: lots }
        """,
        "self": "refinery: 1\nname: self\nextends: self\n",
    ]

    private func compile(_ yaml: String) -> CompileResult {
        Fixtures.compiler(bases: Self.bases).compile(yaml: yaml, displayName: "child.yaml", path: "/home/u/child.yaml")
    }

    @Test func childOverridesAndSectionsMergeKeyByKey() throws {
        let result = compile(
            """
            refinery: 1
            name: child
            extends: middle
            models: [claude, codex]
            limits: { timeout: 90s }
            convergence: { threshold: 9 }
            """)
        #expect(result.diagnostics == [])
        let workflow = try #require(result.workflow)
        #expect(workflow.name == "child")
        // Lists are replaced whole.
        #expect(workflow.members.map(\.id) == ["claude", "codex"])
        // Limits: timeout from the child, retries from middle, per_provider from root.
        #expect(workflow.limits == Limits(timeoutSeconds: 90, perProvider: ["openai": 1], retries: 1, quorum: 2))
        #expect(workflow.iterations == Iterations(min: 2, max: 4))
        #expect(workflow.convergence.strategy == .voteThreshold(threshold: 9, stability: 3))
        #expect(workflow.arbiter?.model.model == "claude-opus-4-6")
        #expect(workflow.stages.count == 2)
        #expect(workflow.provenance.extendsChain == ["middle", "root"])
        #expect(workflow.provenance.path == "/home/u/child.yaml")
    }

    @Test func changingTheStrategyReplacesTheConvergenceSection() throws {
        let result = compile(
            """
            refinery: 1
            name: child
            extends: root
            convergence: { strategy: confidence, threshold: 0.9 }
            stages:
              - propose
              - repeat: [synthesize, close]
            """)
        #expect(result.diagnostics == [])
        #expect(result.workflow?.convergence.strategy == .confidence(threshold: 0.9))
    }

    @Test func problemsInABasePointIntoTheBase() throws {
        let result = compile("refinery: 1\nname: child\nextends: broken\nmodels: [claude]\nstages: [propose]\n")
        #expect(result.errors.map(\.code) == ["E101"])
        #expect(result.errors.first?.file == "broken.yaml")
        #expect(result.errors.first?.location == SourceLocation(line: 3, column: 20))
    }

    @Test func aChildFixesItsBase() throws {
        let result = compile(
            "refinery: 1\nname: child\nextends: broken\nmodels: [claude]\nlimits: { retries: 2 }\nstages: [propose]\n")
        #expect(result.diagnostics == [])
        #expect(result.workflow?.limits.retries == 2)
    }

    @Test func selfExtensionIsACycle() throws {
        let result = compile("refinery: 1\nname: child\nextends: self\n")
        #expect(result.errors.map(\.code) == ["E501"])
        #expect(result.errors.first?.message == "`extends` forms a cycle: self → self")
        #expect(result.errors.first?.file == "self.yaml")
    }

    @Test func unknownBaseIsReportedAtTheName() throws {
        let result = compile("refinery: 1\nname: child\nextends: nope\n")
        #expect(result.errors.map(\.code) == ["E500"])
        #expect(result.errors.first?.location == SourceLocation(line: 3, column: 10))
    }

    @Test func unreadableBaseIsReported() throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "permission denied" } }
        let compiler = WorkflowCompiler(resolveExtends: { _ in throw Boom() })
        let result = compiler.compile(yaml: "refinery: 1\nname: child\nextends: x\n", displayName: "c.yaml")
        #expect(result.errors.map(\.code) == ["E502"])
        #expect(result.errors.first?.message == "the base workflow `x` could not be loaded: permission denied")
    }

    @Test func syntaxErrorsInABaseAreReported() throws {
        let compiler = Fixtures.compiler(bases: ["bad": "refinery: 1\nname: [oops\n"])
        let result = compiler.compile(yaml: "refinery: 1\nname: child\nextends: bad\n", displayName: "c.yaml")
        #expect(result.errors.map(\.code) == ["Y003"])
        #expect(result.errors.first?.file == "bad.yaml")
    }
}

@Suite struct CatalogLoadTests {
    @Test func readsAliasesPricesAndProviders() throws {
        let yaml = """
            providers: [my-vllm]
            aliases:
              fast: { model: openai/gpt-4o-mini, params: { temperature: 0.2 } }
              local: ollama/llama3.2
            prices:
              "openai/gpt-4o": { input: 2.0, output: 8, context: 128000 }
              "my-vllm/*": { input: 0, output: 0 }
            """
        let (catalog, diagnostics) = ModelCatalog.load(yaml: Array(yaml.utf8), file: "catalog.yaml")
        #expect(diagnostics == [])
        let loaded = try #require(catalog)
        #expect(
            loaded.aliases["fast"]
                == ModelAlias(
                    target: ModelRef(provider: "openai", model: "gpt-4o-mini", alias: "fast"),
                    params: ModelParams(temperature: 0.2)))
        #expect(loaded.aliases["local"]?.target == ModelRef(provider: "ollama", model: "llama3.2", alias: "local"))
        #expect(
            loaded.prices["openai/gpt-4o"]
                == ModelPricing(inputPerMillion: 2, outputPerMillion: 8, contextWindow: 128_000))
        #expect(loaded.providers == ["my-vllm", "openai", "ollama"])

        let merged = ModelCatalog.builtin.merging(loaded)
        let compiler = WorkflowCompiler(catalog: merged)
        let result = compiler.compile(yaml: "refinery: 1\nname: n\nmodels: [fast, my-vllm/qwen]\nstages: [propose]\n")
        #expect(result.errors == [])
        #expect(result.workflow?.members.map(\.model.description) == ["openai/gpt-4o-mini", "my-vllm/qwen"])
        #expect(result.workflow?.members.first?.params == ModelParams(temperature: 0.2))
    }

    @Test func reportsLocatedProblems() throws {
        let yaml = """
            aliases:
              fast: { model: gpt-4o-mini }
              slow: { modle: openai/o3 }
            prices:
              gpt-4o: { input: 1, output: 2 }
              "openai/o3": { input: -1, output: 2 }
              "openai/o4": { input: 1 }
            extra: 1
            """
        let (catalog, diagnostics) = ModelCatalog.load(yaml: Array(yaml.utf8), file: "catalog.yaml")
        #expect(catalog == nil)
        let found = diagnostics.map { "\($0.code)@\($0.location?.line ?? 0):\($0.location?.column ?? 0)" }
        #expect(found == ["E600@2:18", "E100@3:9", "E102@3:11", "E600@5:3", "E105@6:25", "E100@7:16", "E102@8:1"])
        #expect(diagnostics.allSatisfy { $0.file == "catalog.yaml" })
    }

    @Test func syntaxErrorsAreReturned() {
        let (catalog, diagnostics) = ModelCatalog.load(yaml: Array("aliases: {".utf8), file: "c.yaml")
        #expect(catalog == nil)
        #expect(diagnostics.map(\.code) == ["Y003"])
    }

    @Test func emptyFileIsAnEmptyCatalog() {
        let (catalog, diagnostics) = ModelCatalog.load(yaml: [], file: "c.yaml")
        #expect(catalog == ModelCatalog(aliases: [:], prices: [:], providers: []))
        #expect(diagnostics == [])
    }
}
