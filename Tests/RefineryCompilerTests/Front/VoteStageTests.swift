import Foundation
import RefinerySyntax
import Testing

@testable import RefineryCompiler

/// `vote` options and the `agreement` strategy through the compiler: what is accepted, and each
/// mistake with its code and location.
@Suite struct VoteStageTests {
    static func compile(_ stages: String, convergence: String = "") -> CompileResult {
        WorkflowCompiler().compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude:3]\n\(convergence)stages:\n\(stages)")
    }

    @Test(arguments: [
        ("number", AnswerExtraction.number), ("choice", .choice), ("last-line", .lastLine),
        ("'json: result.answer'", .json(path: ["result", "answer"])), ("{json: items.0}", .json(path: ["items", "0"])),
        (#"{regex: 'answer: (\w+)'}"#, .regex(#"answer: (\w+)"#)), (#"'regex: \d+'"#, .regex(#"\d+"#)),
    ])
    func extractForms(written: String, expected: AnswerExtraction) throws {
        let result = Self.compile("  - propose\n  - vote: { extract: \(written), tie: random, over: all-rounds }\n")
        #expect(result.errors.isEmpty, "\(result.diagnostics)")
        let workflow = try #require(result.workflow)
        guard case .vote(let vote) = workflow.stages.last else {
            Issue.record("no vote stage")
            return
        }
        #expect(vote.extract == expected)
        #expect(vote.tie == .random)
        #expect(vote.over == .all)
        // A vote makes the winner the default output, with no warning that nothing scores answers.
        #expect(workflow.output == .winner)
        #expect(result.diagnostics.isEmpty)
    }

    @Test(arguments: [
        ("  - propose\n  - vote: { extract: numbr }\n", "E106", 6, "did you mean `number`?"),
        ("  - propose\n  - vote: { extract: '{regex: \"(unclosed\"}' }\n", "E106", 6, nil),
        ("  - propose\n  - vote: { extract: {regex: '(unclosed'} }\n", "E311", 6, nil),
        ("  - propose\n  - vote: { extract: 'json: a..b' }\n", "E311", 6, nil),
        ("  - propose\n  - vote: { extract: 'number: 3' }\n", "E311", 6, nil),
        ("  - propose\n  - vote: { tie: coin }\n", "E106", 6, nil),
        ("  - propose\n  - vote: { quorum: 2 }\n", "E102", 6, nil),
    ])
    func mistakesAreLocated(stages: String, code: String, line: Int, hint: String?) {
        let result = Self.compile(stages)
        #expect(result.errors.map(\.code) == [code], "\(result.diagnostics)")
        #expect(result.errors.first?.location?.line == line)
        if let hint { #expect(result.errors.first?.hint == hint) }
    }

    @Test func agreementNeedsAVote() {
        let convergence = "convergence: { strategy: agreement, threshold: 0.7 }\n"
        let without = Self.compile("  - repeat: [propose, close]\n", convergence: convergence)
        #expect(without.errors.map(\.code) == ["E310"])
        #expect(without.errors.first?.location?.line == 4)
        let with = Self.compile("  - repeat: [propose, vote, close]\n", convergence: convergence)
        #expect(with.errors.isEmpty, "\(with.diagnostics)")
        #expect(with.workflow?.convergence.strategy == .agreement(threshold: 0.7))
        let outOfRange = Self.compile(
            "  - repeat: [propose, vote, close]\n", convergence: "convergence: { strategy: agreement, threshold: 2 }\n")
        #expect(outOfRange.errors.map(\.code) == ["E401"])
    }

    /// `close` reads its own round's vote, synthesis or scores: a stage that makes them after the `repeat`
    /// block can never stop the loop, which then pays for every round up to `iterations.max`. These compiled
    /// clean and ran five rounds to `max_rounds`.
    @Test(arguments: [
        ("agreement, threshold: 0.6", "  - repeat: [propose, close]\n  - vote\n", "E310", 5),
        ("confidence, threshold: 0.8", "  - repeat: [propose, close]\n  - synthesize\n", "E309", 5),
        ("unanimous, threshold: 8", "  - repeat: [propose, close]\n  - evaluate\n", "W701", 7),
    ])
    func aSignalMadeAfterTheRepeatBlockCouldNeverStopIt(strategy: String, stages: String, code: String, line: Int) {
        let yaml = "refinery: 1\nname: n\nmodels: [claude:3]\narbiter: claude\n"
        let late = WorkflowCompiler().compile(
            yaml: yaml + "convergence: { strategy: \(strategy) }\nstages:\n\(stages)")
        #expect(late.diagnostics.map(\.code) == [code], "\(late.diagnostics)")
        #expect(late.diagnostics.first?.location?.line == line)
        #expect(late.diagnostics.first?.message.contains("in the `repeat` block") == true)
        // Inside the block, wherever it stands, or in a chain without a block, the same stage is fine.
        let stage = stages.split(separator: "\n")[1].dropFirst(4)
        let inside = WorkflowCompiler().compile(
            yaml: yaml + "convergence: { strategy: \(strategy) }\nstages:\n  - repeat: [propose, close, \(stage)]\n")
        #expect(inside.diagnostics.isEmpty, "\(inside.diagnostics)")
        let single = WorkflowCompiler().compile(
            yaml: yaml + "convergence: { strategy: \(strategy) }\nstages:\n  - propose\n  - \(stage)\n")
        #expect(single.errors.isEmpty, "\(single.diagnostics)")
    }

    /// `vote-threshold` needs the same leader for `stability` rounds; more than `iterations.max` can never be had,
    /// so the run always ends `max_rounds`. This compiled clean.
    @Test func aStabilityBeyondTheMaximumCanNeverConverge() {
        let yaml = "refinery: 1\nname: n\nmodels: [claude:3]\nstages:\n  - repeat: [propose, evaluate, close]\n"
        let written = WorkflowCompiler().compile(
            yaml: yaml + "iterations: { max: 2 }\nconvergence: { strategy: vote-threshold, stability: 3 }\n")
        #expect(written.diagnostics.map(\.code) == ["W707"], "\(written.diagnostics)")
        let warning = written.diagnostics.first
        #expect(warning?.location?.line == 7)
        #expect(warning?.location?.column == 53)
        let message = warning?.message ?? ""
        #expect(message.contains("`convergence.stability` (3) is more rounds than `iterations.max` (2)"))
        #expect(warning?.hint == "lower `stability` to at most 2, or raise `iterations.max` to 3")
        // The default stability (2) against a maximum of one round: located at `max`.
        let defaulted = WorkflowCompiler().compile(yaml: yaml + "iterations: { max: 1 }\n")
        #expect(defaulted.diagnostics.map(\.code) == ["W707"], "\(defaulted.diagnostics)")
        #expect(defaulted.diagnostics.first?.location?.line == 6)
        let reachable = WorkflowCompiler().compile(
            yaml: yaml + "iterations: { max: 3 }\nconvergence: { strategy: vote-threshold, stability: 3 }\n")
        #expect(reachable.diagnostics.isEmpty, "\(reachable.diagnostics)")
    }

    @Test func theGraphHasOneVoteNodeReadingTheVotersAnswersAndCloseWaitsForIt() throws {
        let workflow = try #require(Self.compile("  - repeat: [propose, vote, close]\n").workflow)
        let round = try #require(ExecutionGraph(workflow: workflow).round)
        let vote = try #require(round.nodes.first { $0.id == "s1.vote" })
        #expect(vote.kind == .vote(voters: ["claude#1", "claude#2", "claude#3"]))
        #expect(!vote.isCall)
        #expect(vote.dependencies == ["s0.propose[claude#1]", "s0.propose[claude#2]", "s0.propose[claude#3]"])
        #expect(round.nodes.last?.dependencies.contains("s1.vote") == true)
        #expect(ExecutionGraph.label(for: vote) == "vote · 3 answers")
    }

    @Test func voteAndAgreementRoundTripAsPlainJSON() throws {
        let result = Self.compile(
            "  - repeat: [propose, {vote: {extract: {regex: 'answer: (\\\\w+)'}, over: all-rounds}}, close]\n",
            convergence: "convergence: { strategy: agreement, threshold: 0.7 }\n")
        let workflow = try #require(result.workflow, "\(result.diagnostics)")
        let data = try JSONEncoder().encode(workflow)
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("_0"), "\(text)")
        #expect(text.contains(#""extract":"regex: answer: (\\\\w+)""#), "\(text)")
        #expect(try JSONDecoder().decode(Workflow.self, from: data) == workflow)
    }
}
