import RefineryCompiler
import RefinerySyntax
import Testing

/// A stage that works on the members' answers needs a `propose` before it: without one it makes no call, and the
/// run used to end `converged` (exit 0) with no answer, or `insufficient_models` (exit 3) blaming the models.
@Suite struct AnswerSourceTests {
    static func compile(_ stages: String) -> CompileResult {
        WorkflowCompiler().compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude, codex]\narbiter: claude\nstages: \(stages)\n")
    }

    private func located(_ result: CompileResult) -> [String] {
        result.errors.map { "\($0.code)@\($0.location?.line ?? 0):\($0.location?.column ?? 0)" }
    }

    @Test(arguments: [
        ("[evaluate]", ["E312@5:10"]),
        ("[refine]", ["E312@5:10"]),
        ("[synthesize]", ["E312@5:10"]),
        ("[verify]", ["E312@5:10"]),
        ("[vote]", ["E312@5:10"]),
        ("[evaluate, propose]", ["E312@5:10"]),
        ("[{repeat: [evaluate, close]}]", ["E312@5:20"]),
        ("[synthesize, {repeat: [propose, close]}]", ["E312@5:10"]),
    ])
    func aStageWithNoAnswersBeforeItIsAnError(stages: String, expected: [String]) throws {
        let result = Self.compile(stages)
        #expect(located(result) == expected, "\(result.diagnostics)")
        let error = try #require(result.errors.first)
        #expect(error.message.hasSuffix("works on the members' answers, but no `propose` stage comes before it"))
    }

    @Test(arguments: [
        "[propose, evaluate, refine, synthesize, verify, vote]",
        // From round 2 a stage of the block sees the round before's answers, wherever `propose` stands in it.
        "[{repeat: [evaluate, propose, close]}]",
        "[{repeat: [propose, evaluate, close]}, synthesize]",
    ])
    func aStageFedByAProposeCompiles(stages: String) {
        #expect(Self.compile(stages).errors == [])
    }

    @Test func aMisspeltProposeIsTheOnlyProblemReported() {
        #expect(located(Self.compile("[propse, evaluate]")) == ["E300@5:10"])
    }
}
