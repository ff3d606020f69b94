import Foundation
import Refinery
import RefineryRuntime
import Testing

/// The ledger stores each run's report and each round's decision as `JSONEncoder` (`.sortedKeys`)
/// wrote them; `sortedJSONText` writes them from the fields and must give the very same bytes.
@Suite struct RunReportJSONTests {
    private static func encoderText(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Text that needs every kind of escape, slashes included (`JSONEncoder` escapes them here).
    private static let tricky =
        "openai/gpt-4o \"quoted\" back\\slash\n\t\r\u{8}\u{C}\u{1}\u{1F}\u{7F} é ≥ 🤖 \u{2028} </x>"

    /// Every field set, every array holding something: the fixture `everyFieldIsSet` keeps complete.
    static let full: RunReport = {
        let answer = RunReport.Answer(
            modelID: "openai/gpt-4o", memberID: "gpt/1", answer: tricky, meanScore: -0.0, fallbackFrom: tricky)
        var report = RunReport(
            formatVersion: 1, runID: "run/1", status: "converged",
            winner: RunReport.Winner(
                modelID: "openai/o3", memberID: "o3", answer: tricky, fallbackFrom: "anthropic/claude", degraded: true),
            finalRound: 3, strategy: "vote-threshold",
            allAnswers: [
                answer, RunReport.Answer(modelID: "a", memberID: "b", answer: "", meanScore: 1e-7, fallbackFrom: "c"),
            ],
            metadata: RunReport.Metadata(totalRounds: 3, totalCalls: 18, elapsedMs: 1234),
            costUSD: 0.1 + 0.2,
            tokens: RunReport.Tokens(
                input: 3600, output: 1080, estimated: true, cachedInput: 1200, cacheWrite: 300, cacheWrite1h: 100),
            coverage: RunReport.Coverage(
                membersAnswered: 3, reviewsReceived: 6, arbiterFallbackUsed: true, degraded: true,
                reasons: ["lost/1", tricky]),
            stoppedBy: "vote-threshold: leader openai/gpt-4o mean 9 ≥ threshold 8, led 2/2 rounds",
            workflow: RunReport.WorkflowInfo(
                name: "consensus", version: "1.0/beta", path: "/w/consensus.yaml", gitCommit: "abc123",
                gitRevision: "v1/rc", gitDirty: false),
            rounds: [
                RunReport.RoundSummary(
                    round: 1, leader: "openai/gpt-4o", score: 9, converged: false,
                    scores: ["a10": 1, "a2": 2.5, "Z": 1e16, "z": -3, "é": 0.7, "e": 1e300, "openai/o3": 9],
                    reason: tricky, answers: [answer])
            ],
            error: tricky)
        report.vote = RunReport.Vote(
            VoteResult(
                round: 2, extraction: "regex: \\d+/\\d+", winner: "4/5", winnerMember: "gpt/1", share: 2.0 / 3.0,
                answersCounted: 3,
                distribution: [VoteResult.Tally(answer: "4/5", votes: 2, members: ["gpt/1", "o3"])],
                abstentions: ["claude/2"], tieBrokenBy: "first"))
        return report
    }()

    @Test func everyFieldWritesTheBytesJSONEncoderWrites() throws {
        #expect(try Self.full.sortedJSONText() == Self.encoderText(Self.full))
    }

    @Test func absentFieldsAndEmptyListsAreLeftOutAsJSONEncoderLeavesThemOut() throws {
        var report = Self.full
        report.winner = nil
        report.rounds = nil
        report.error = nil
        report.vote = nil
        report.allAnswers = []
        report.tokens.estimated = nil
        report.coverage.reasons = []
        report.workflow = RunReport.WorkflowInfo(
            name: "n", version: nil, path: nil, gitCommit: nil, gitRevision: nil, gitDirty: nil)
        #expect(try report.sortedJSONText() == Self.encoderText(report))
        report.rounds = [
            RunReport.RoundSummary(round: 2, leader: nil, score: nil, converged: true, scores: [:], reason: nil)
        ]
        report.winner = RunReport.Winner(modelID: "m", memberID: "x", answer: "a")
        report.allAnswers = [RunReport.Answer(modelID: "m", memberID: "x", answer: "a", meanScore: nil)]
        report.workflow.gitDirty = true
        report.vote = RunReport.Vote(
            VoteResult(
                round: 1, extraction: "number", winner: nil, winnerMember: nil, share: 0, answersCounted: 0,
                distribution: [], abstentions: [], tieBrokenBy: nil))
        #expect(try report.sortedJSONText() == Self.encoderText(report))
    }

    @Test func aNumberJSONCannotSpellThrowsAsJSONEncoderThrew() {
        var report = Self.full
        report.costUSD = .nan
        #expect(throws: EncodingError.self) { try report.sortedJSONText() }
        report.costUSD = 0
        report.allAnswers[0].meanScore = .infinity
        #expect(throws: EncodingError.self) { try report.sortedJSONText() }
    }

    @Test func decisionsWriteTheBytesJSONEncoderWrites() throws {
        let decisions = [
            RoundDecision(shouldStop: true, converged: false, signal: Self.tricky, leader: "a/b", rolledBackTo: "x/y"),
            RoundDecision(shouldStop: false, converged: true, signal: ""),
        ]
        for decision in decisions {
            #expect(try decision.sortedJSONText == Self.encoderText(decision))
        }
    }

    /// A field added to the report must be added to its writer: the fixture above must set it, and
    /// then `everyFieldWritesTheBytesJSONEncoderWrites` fails until the writer writes it.
    @Test func everyFieldIsSet() {
        #expect(Self.unset(Self.full, at: "report").isEmpty)
    }

    /// The paths in `value` of every optional that is nil and every collection that is empty.
    private static func unset(_ value: Any, at path: String) -> [String] {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first?.value else { return [path] }
            return unset(wrapped, at: path)
        case .collection, .dictionary, .set:
            if mirror.children.isEmpty { return [path] }
        default: break
        }
        return mirror.children.enumerated().flatMap { index, child in
            unset(child.value, at: path + "." + (child.label ?? String(index)))
        }
    }
}
