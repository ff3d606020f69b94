// The compiler's table of template variables (PromptVariables) is the one the engine renders with:
// every default prompt checks clean against its stage's row, and the fast path knows the same names.

import RefineryCompiler
import RefinerySyntax
import Testing

@testable import RefineryRuntime

@Suite struct PromptVariablesTableTests {
    private static func stage(of kind: PromptKind) -> String {
        switch kind {
        case .propose, .proposeWithHistory, .proposeWithPeers, .proposeWithSynthesis: "propose"
        case .evaluatePairwise, .evaluateBatched: "evaluate"
        case .refine, .critiqueRevise: "refine"
        case .synthesize: "synthesize"
        case .verifyPlan, .verifyAnswer, .verifyRevise: "verify"
        }
    }

    @Test(arguments: PromptKind.allCases)
    func eachDefaultPromptUsesOnlyWhatItsStageProvides(kind: PromptKind) throws {
        let files = ["/w/t.mustache": DefaultPrompts.source(kind)]
        let compiler = WorkflowCompiler(readFile: { path in Array((files[path] ?? "").utf8) })
        let result = compiler.compile(
            yaml: """
                refinery: 1
                name: n
                models: [claude, codex]
                arbiter: claude
                stages:
                  - \(Self.stage(of: kind)): { prompt: t.mustache }

                """, displayName: "w.yaml", path: "/w/w.yaml")
        #expect(result.diagnostics.filter { $0.code == "E508" || $0.code == "E509" } == [])
    }

    @Test func theFastPathAndTheRendererKnowTheTablesNames() {
        #expect(Set(TemplateName.allCases.map(\.rawValue)) == PromptVariables.allNames)
        #expect(PromptContext.templateKeys == PromptVariables.allNames)
        let context = PromptContext(prompt: "p")
        #expect(Set(context.templateValues().keys).isSubset(of: PromptVariables.allNames))
    }
}
