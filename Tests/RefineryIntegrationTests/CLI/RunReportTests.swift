import Foundation
import Refinery
import RefineryCompiler
import RefineryRuntime
import Testing

@Suite struct RunReportTests {
    private let gpt = ModelRef(provider: "openai", model: "gpt-4o")
    private let o3 = ModelRef(provider: "openai", model: "o3")

    private var workflow: Workflow {
        Workflow(
            name: "consensus", version: "1.0.0",
            members: [Member(id: "gpt", model: gpt), Member(id: "o3", model: o3)],
            arbiter: Arbiter(model: o3), stages: [.propose(ProposeStage())],
            provenance: Provenance(path: "/w/consensus.yaml", gitCommit: "abc123", gitDirty: false, gitRevision: "v1"))
    }

    private var outcome: RunOutcome {
        let answers = [
            MemberAnswer(memberID: "gpt", model: gpt, answer: "Four.", meanScore: 9, scoresReceived: 1),
            MemberAnswer(memberID: "o3", model: o3, answer: "4", meanScore: 8.5, scoresReceived: 1),
        ]
        return RunOutcome(
            runID: "run-1", workflow: "consensus", status: .converged, stoppedBy: "vote-threshold: 9.00 ≥ 8.00",
            winner: Winner(memberID: "gpt", model: gpt, answer: "Four.", meanScore: 9), finalAnswer: "Four.",
            answers: answers, finalRound: 2, strategy: "vote-threshold",
            rounds: [
                RoundResult(
                    round: 1, phase: .round, answers: answers,
                    decision: RoundDecision(shouldStop: false, converged: false, signal: "stability 1/2", leader: "gpt")
                ),
                RoundResult(
                    round: 2, phase: .round, answers: answers,
                    decision: RoundDecision(shouldStop: true, converged: true, signal: "held", leader: "gpt")),
            ],
            usage: TokenUsage(inputTokens: 1200, outputTokens: 300), costUSD: 0.0123, totalCalls: 8, elapsedMs: 4200,
            coverage: Coverage(membersAnswered: 2, reviewsReceived: ["gpt": 1, "o3": 1]))
    }

    @Test func reportKeepsTheSeedShapeAndAddsRunFacts() async throws {
        let report = RunReport(outcome: outcome, workflow: workflow)
        let data = try JSONEncoder().encode(report)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["status"] as? String == "converged")
        #expect(json["final_round"] as? Int == 2)
        #expect(json["strategy"] as? String == "vote-threshold")
        #expect(json["run_id"] as? String == "run-1")
        #expect(json["format_version"] as? Int == 1)
        #expect(json["cost_usd"] as? Double == 0.0123)
        #expect(json["stopped_by"] as? String == "vote-threshold: 9.00 ≥ 8.00")
        let winner = try #require(json["winner"] as? [String: Any])
        #expect(winner["model_id"] as? String == "openai/gpt-4o")
        #expect(winner["member_id"] as? String == "gpt")
        #expect(winner["answer"] as? String == "Four.")
        let metadata = try #require(json["metadata"] as? [String: Any])
        #expect(metadata["total_rounds"] as? Int == 2)
        #expect(metadata["total_calls"] as? Int == 8)
        #expect(metadata["elapsed_ms"] as? Int == 4200)
        let coverage = try #require(json["coverage"] as? [String: Any])
        #expect(coverage["members_answered"] as? Int == 2)
        #expect(coverage["reviews_received"] as? Int == 2)
        #expect(json["rounds"] == nil)
        let workflowInfo = try #require(json["workflow"] as? [String: Any])
        #expect(workflowInfo["git_revision"] as? String == "v1")
        if let errors = try await CLIHarness.schemaErrors(String(decoding: data, as: UTF8.self)) {
            #expect(errors == [])
        }
    }

    @Test func finalAndPerRoundAnswersAreTheSameView() {
        let answer = MemberAnswer(memberID: "o3", model: o3, answer: "4", meanScore: 8.5, scoresReceived: 1)
        #expect(
            RunReport.Answer(answer)
                == RunReport.Answer(modelID: "openai/o3", memberID: "o3", answer: "4", meanScore: 8.5))
        let report = RunReport(outcome: outcome, workflow: workflow, full: true)
        #expect(report.rounds?.last?.answers == report.allAnswers)
    }

    @Test func fullReportHasEveryRoundAndValidates() async throws {
        let report = RunReport(outcome: outcome, workflow: workflow, full: true)
        #expect(report.rounds?.map(\.round) == [1, 2])
        #expect(report.rounds?.last?.converged == true)
        #expect(report.rounds?.first?.scores == ["gpt": 9, "o3": 8.5])
        #expect(report.rounds?.first?.answers.count == 2)
        let text = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        if let errors = try await CLIHarness.schemaErrors(text) {
            #expect(errors == [])
        }
    }

    @Test(.enabled(if: CLIHarness.jsonSchemaAvailable, "python3's jsonschema is not installed"))
    func reportsValidateAgainstTheSchemaAndViolationsAreCaught() async throws {
        let full = String(
            decoding: try JSONEncoder().encode(RunReport(outcome: outcome, workflow: workflow, full: true)),
            as: UTF8.self)
        #expect(try #require(try await CLIHarness.schemaErrors(full)) == [])
        // The check itself must be able to fail.
        let errors = try #require(try await CLIHarness.schemaErrors(#"{"format_version": 2, "status": "finished"}"#))
        #expect(errors.contains("1 was expected"))
        #expect(errors.contains("'run_id' is a required property"))
        #expect(errors.count >= 2)
    }

    @Test func theSelectedAnswerNamesWhoProducedItAndTheFallback() throws {
        var workflow = workflow
        workflow.output = .synthesis
        var outcome = outcome
        outcome.finalAnswer = "Merged: four."
        outcome.selected = Winner(memberID: "arbiter", model: gpt, answer: "Merged: four.", fallbackFrom: o3)
        let report = RunReport(outcome: outcome, workflow: workflow)
        #expect(
            report.winner
                == RunReport.Winner(
                    modelID: "openai/gpt-4o", memberID: "arbiter", answer: "Merged: four.", fallbackFrom: "openai/o3"))
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as? [String: Any]
        let winner = try #require(json?["winner"] as? [String: Any])
        #expect(winner["fallback_from"] as? String == "openai/o3")
        #expect(winner["degraded"] as? Bool == false)
    }

    @Test(arguments: [
        (RunStatus.converged, RunExitCode.success), (.singleModel, .success), (.maxRounds, .maxRoundsWithoutConvergence),
        (.insufficientModels, .quorumNotMet), (.budgetExhausted, .failure), (.cancelled, .failure), (.failed, .failure),
    ])
    func statusMapsToExitCode(status: RunStatus, code: RunExitCode) {
        #expect(RunExitCode(status) == code)
    }

    @Test func aSingleModelRunIsASuccess() {
        #expect(RunExitCode(.singleModel) == .success)
        #expect(RunReport.statusName(.singleModel) == "single_model")
        #expect(RunReport.statusName(.maxRounds) == "max_rounds")
    }
}
