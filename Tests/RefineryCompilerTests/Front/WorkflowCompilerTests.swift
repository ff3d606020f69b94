import RefineryCompiler
import RefinerySyntax
import Testing

@Suite struct WorkflowCompilerTests {
    @Test func emptyFileIsAnError() {
        let result = WorkflowCompiler().compile(yaml: "", displayName: "w.yaml")
        #expect(result.workflow == nil)
        #expect(result.diagnostics.map(\.code) == ["E108"])
    }
}
