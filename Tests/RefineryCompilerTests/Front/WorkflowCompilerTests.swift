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

/// A member named `arbiter` made every output claim the arbiter answered (`member_id: arbiter`), and one named
/// `members` could not be told from `by: members`.
@Suite struct ReservedMemberNameTests {
    @Test(arguments: ["arbiter", "members"])
    func aReservedWordIsNotAMemberName(name: String) throws {
        let result = WorkflowCompiler().compile(
            yaml: "refinery: 1\nname: n\nmodels:\n  - {model: claude, name: \(name)}\n  - codex\nstages: [propose]\n")
        #expect(result.errors.map { "\($0.code)@\($0.location?.line ?? 0):\($0.location?.column ?? 0)" } == ["E203@4:27"])
        #expect(result.errors.first?.message == "`\(name)` is reserved and cannot be a member name")
    }

    @Test func aNameThatMerelyContainsOneIsFine() {
        let result = WorkflowCompiler().compile(
            yaml: "refinery: 1\nname: n\nmodels:\n  - {model: claude, name: arbiter-1}\n  - codex\nstages: [propose]\n")
        #expect(result.errors == [])
    }
}
