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

/// Claude models from Opus 4.7 on refuse `temperature` and `top_p` (a 400), so the provider does not send them:
/// the check says so where they are set, and not for models that take them or when thinking sends neither.
@Suite struct SamplingNotSentTests {
    @Test func temperatureForOpus47IsWarnedWhereItIsSet() {
        let yaml = """
            refinery: 1
            name: n
            models:
              - model: claude-opus-4-7
                params: { temperature: 0.4, top_p: 0.9 }
              - claude-sonnet-4-6
            stages: [propose]
            """
        let result = WorkflowCompiler().compile(yaml: yaml)
        #expect(result.errors.isEmpty, "\(result.diagnostics)")
        #expect(result.diagnostics.map(\.code) == ["W708", "W708"], "\(result.diagnostics)")
        let warning = result.diagnostics.first
        #expect(warning?.location?.line == 5)
        #expect(warning?.location?.column == 28)
        #expect(
            warning?.message
                == "`temperature` is not sent to anthropic/claude-opus-4-7: Claude models from Opus 4.7 on refuse sampling parameters"
        )
        #expect(result.diagnostics.last?.message.hasPrefix("`top_p` is not sent") == true)
    }

    @Test(arguments: [
        "model: claude-sonnet-4-6\n    params: { temperature: 0.4 }",
        "model: claude-opus-4-7\n    params: { temperature: 0.4, reasoning_effort: high }",
        "model: openai/gpt-4o\n    params: { temperature: 0.4 }",
    ])
    func modelsThatTakeItOrThinkingAreNotWarned(member: String) {
        let yaml = "refinery: 1\nname: n\nmodels:\n  - \(member)\n  - claude-opus-4-6\nstages: [propose]\n"
        let result = WorkflowCompiler().compile(yaml: yaml)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    }
}
