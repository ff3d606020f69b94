import RefineryCompiler
import RefinerySyntax
import Testing

@Suite struct WorkflowCompilerTests {
    @Test func emptyFileIsAnError() {
        let result = WorkflowCompiler().compile(yaml: "", displayName: "w.yaml")
        #expect(result.workflow == nil)
        #expect(result.diagnostics.map(\.code) == ["E108"])
    }

    /// An arbiter written as a list is told it takes a model or a mapping: it was told "`arbiter` must be a mapping",
    /// with "write a mapping here", where the usual arbiter is one model string.
    @Test func anArbiterListIsToldItTakesAModel() throws {
        let yaml = "refinery: 1\nname: n\nmodels: [claude]\narbiter: [claude, codex]\nstages: [propose]\n"
        let result = WorkflowCompiler().compile(yaml: yaml)
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect("\(error.code)@\(error.location?.line ?? 0):\(error.location?.column ?? 0)" == "E101@4:10")
        #expect(error.message == "`arbiter` must be a model or a mapping, found a sequence")
        #expect(error.hint?.hasPrefix("write one model, e.g. `arbiter: claude`") == true, "\(error.hint ?? "")")
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
