import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

/// The `vote` stage, the `agreement` strategy and the voting built-ins, run by the engine against
/// scripted providers.
@Suite struct VoteEngineTests {
    /// A built-in compiled from its embedded YAML, with `members` replacing its models when given.
    static func builtin(_ name: String, members: String? = nil) throws -> Workflow {
        var text = try #require(BuiltinWorkflows.all.first { $0.name == name }).text
        if let members {
            text = text.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasPrefix("models:") ? "models: [\(members)]" : String($0)
            }.joined(separator: "\n")
        }
        let result = WorkflowCompiler().compile(yaml: text)
        return try #require(result.workflow, "\(result.diagnostics)")
    }

    static func run(
        _ workflow: Workflow, seed: UInt64 = 42, answer: @escaping @Sendable (ScriptedCall) -> String
    ) async throws -> (RunOutcome, ScriptedProvider) {
        let provider = ScriptedProvider { .text(answer($0)) }
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(seed: seed))
        return (try await engine.run("How many eggs?"), provider)
    }

    @Test func voteBuiltinAsksEachMemberOnceAndTheMajorityWins() async throws {
        let (outcome, provider) = try await Self.run(try Self.builtin("vote")) { call in
            call.participant == "gemini" ? "Work...\n17" : "Work by \(call.participant)...\n**18.**"
        }
        #expect(provider.calls.count == 3)
        #expect(outcome.status == .converged)
        let vote = try #require(outcome.vote)
        #expect(vote.winner == "**18.**")
        #expect(vote.share == 2.0 / 3.0)
        #expect(vote.distribution.map(\.members) == [["claude", "codex"], ["gemini"]])
        #expect(outcome.winner?.memberID == "claude")
        #expect(outcome.finalAnswer == "Work by claude...\n**18.**")
    }

    @Test func answersWithNothingToExtractAbstainAndAreReported() async throws {
        var workflow = try Self.builtin("vote")
        workflow.stages = [.propose(ProposeStage(context: .none)), .vote(VoteStage(extract: .number))]
        let (outcome, _) = try await Self.run(workflow) { call in
            call.participant == "codex" ? "I would rather not say." : "It is 12 eggs."
        }
        let vote = try #require(outcome.vote)
        #expect(vote.abstentions == ["codex"])
        #expect(vote.winner == "12")
        #expect(vote.answersCounted == 3)
        #expect(vote.share == 2.0 / 3.0)
    }

    @Test func aThreeWayTieGoesToTheFirstMemberOrToNobody() async throws {
        var workflow = try Self.builtin("vote")
        let distinct: @Sendable (ScriptedCall) -> String = { "Answer of \($0.participant)" }
        let (first, _) = try await Self.run(workflow, answer: distinct)
        #expect(first.vote?.tieBrokenBy == "first")
        #expect(first.winner?.memberID == "claude")
        workflow.stages = [.propose(ProposeStage(context: .none)), .vote(VoteStage(tie: .none))]
        let (none, _) = try await Self.run(workflow, answer: distinct)
        #expect(none.vote?.winner == nil)
        #expect(none.vote?.tieBrokenBy == "none")
        #expect(none.winner == nil)
    }

    @Test func selfConsistencyStopsAtTheFirstBatchThatAgrees() async throws {
        let (outcome, provider) = try await Self.run(try Self.builtin("self-consistency")) { _ in "…\n18" }
        #expect(provider.calls.count == 5)
        #expect(outcome.status == .converged)
        #expect(outcome.finalRound == 1)
        #expect(outcome.stoppedBy.hasPrefix("agreement: 5 of 5 answers say “18”"))
        // Sampled at temperature > 0 with no context from earlier samples.
        #expect(provider.calls.allSatisfy { $0.request.params.temperature == 0.8 })
    }

    @Test func selfConsistencyCountsEverySampleSoFar() async throws {
        // Round 1: five different answers; rounds 2 and 3: all say 7. Over every sample, 7 holds
        // 5 of 10 (0.5 < 0.6) after round 2 and 10 of 15 (0.67) after round 3.
        let (outcome, provider) = try await Self.run(try Self.builtin("self-consistency")) { call in
            call.round == 1 ? "…\n\(call.participant.count)\(call.participant.last.map(String.init) ?? "")" : "…\n7"
        }
        #expect(provider.calls.count == 15)
        #expect(outcome.status == .converged)
        #expect(outcome.rounds.compactMap(\.vote).map(\.answersCounted) == [5, 10, 15])
        #expect(outcome.vote?.winner == "7")
        #expect(outcome.vote?.share == 10.0 / 15.0)
    }

    @Test func selfConsistencyThatNeverAgreesRunsToMax() async throws {
        let (outcome, provider) = try await Self.run(try Self.builtin("self-consistency")) { call in
            "…\n\(call.participant) in round \(call.round)"
        }
        #expect(provider.calls.count == 15)
        #expect(outcome.status == .maxRounds)
        #expect(outcome.vote?.answersCounted == 15)
    }

    @Test func debateEndsWithAVoteOverTheFinalAnswers() async throws {
        let (outcome, provider) = try await Self.run(try Self.builtin("debate")) { call in
            call.round < 2 ? "…\n\(call.participant)" : call.participant == "gemini" ? "…\n9" : "…\n8"
        }
        #expect(provider.calls.count == 9)
        #expect(!provider.calls.contains { $0.kind.hasPrefix("evaluate") })
        let vote = try #require(outcome.vote)
        #expect(vote.winner == "8")
        #expect(outcome.winner?.memberID == "claude")
        #expect(outcome.rounds.last?.phase == .epilogue)
        #expect(outcome.rounds.last?.vote == vote)
    }
}
