import Foundation
import RefineryCompiler
import RefineryRuntime
import RefineryStore
import Testing

@testable import Refinery

/// Systems run end to end on fake models of known accuracy: what the bench reports is the ground truth.
@Suite struct BenchKnownAccuracyTests {
    private static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func everySystemReportsTheFakesGroundTruth() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let models = KnownAccuracyModels(
            accuracy: ["a": 0.7, "b": 0.5, "c": 0.65], prices: ["a": (1, 2), "b": (0.5, 1), "c": (2, 4)])
        let items = 0..<80
        let specs = ["single:fake/a", "single:fake/b", "vote", "vote:fake/b:3", "debate"]
        let (summary, loaded) = try await models.bench(
            specs, models: ["fake/a", "fake/b", "fake/c"], items: items, in: folder)

        // Calls per item: one per member, three rounds of them for debate (Du et al.: N + 2 rounds × N).
        let expectedCalls = ["single:fake/a": 1, "single:fake/b": 1, "vote": 3, "vote:fake/b:3": 3, "debate": 9]
        var truth: [String: [Bool]] = [:]
        for spec in specs {
            let members = try #require(loaded[spec]).workflow.members.map { ($0.id, $0.model.model) }
            truth[spec] = items.map { models.voteIsCorrect(members, item: $0) }
            let row = try #require(summary.systems.first { $0.name == spec })
            let correct = truth[spec, default: []].count { $0 }
            #expect(row.correct == correct, "\(spec)")
            #expect(row.total == items.count)
            #expect(row.accuracy == Double(correct) / Double(items.count))
            #expect(row.unanswered == 0)
            #expect(row.calls == items.count * (expectedCalls[spec] ?? 0), "\(spec)")
            let perItem = Double(expectedCalls[spec] ?? 0) / Double(members.count)
                * members.map { models.callCost($0.1) }.reduce(0, +)
            #expect(abs(row.costUSD - perItem * Double(items.count)) < 1e-9, "\(spec)")
            #expect(row.inputTokens == row.calls * 100 && row.outputTokens == row.calls * 50)
        }
        // Each item's graded answer is the extracted number, right or wrong as the fake decided.
        for (index, item) in zip(items, summary.items) {
            for spec in specs {
                let result = try #require(item.results[spec])
                let right = truth[spec]?[index - items.lowerBound] == true
                #expect(result.correct == right)
                #expect(result.answer == String(index + (right ? 1000 : 2000)))
            }
        }
        // The baseline is the more accurate single model; won and lost are counted item by item.
        let singles = ["single:fake/a", "single:fake/b"]
        let best = try #require(singles.max { truth[$0, default: []].count { $0 } < truth[$1, default: []].count { $0 } })
        #expect(summary.baseline == best)
        for spec in specs where spec != best {
            let versus = try #require(summary.systems.first { $0.name == spec }?.versusBaseline)
            let pairs = zip(truth[spec, default: []], truth[best, default: []])
            #expect(versus.won == pairs.count { $0 && !$1 })
            #expect(versus.lost == pairs.count { !$0 && $1 })
            #expect(versus.pValue == BenchStatistics.mcnemarExactP(b: versus.won, c: versus.lost))
        }
        // Debate costs 3 × (a + b + c) per item; one sample of vote:fake/b:3 costs b: 3 × 7 ÷ 1 = 21 samples.
        let debate = try #require(summary.systems.first { $0.name == "debate" }?.equalCostSamples.first)
        #expect(debate.baseline == "vote:fake/b:3")
        #expect(abs(debate.samples - 21) < 1e-9)
        let vote = try #require(summary.systems.first { $0.name == "vote" }?.equalCostSamples.first)
        #expect(abs(vote.samples - 7) < 1e-9)
        // Each row says what it ran; the document of a real bench matches the schema.
        let rows = Dictionary(uniqueKeysWithValues: summary.systems.map { ($0.name, $0) })
        #expect(rows["vote"]?.workflow?.models == ["fake/a", "fake/b", "fake/c"])
        #expect(rows["vote"]?.workflow?.path == "builtin:vote")
        #expect(rows["single:fake/a"]?.workflow?.models == ["fake/a"])
        #expect(rows["vote:fake/b:3"]?.workflow?.models == ["fake/b", "fake/b", "fake/b"])
        #expect(rows["debate"]?.workflow?.name == "debate")
        if let errors = try await CLIHarness.schemaErrors(summary.rendered(.json), schema: "bench-output.schema.json") {
            #expect(errors == [])
        }
        let baselines = summary.systems.filter { $0.name.hasPrefix("single:") || $0.name.hasPrefix("vote:") }
        #expect(baselines.count == 3 && baselines.allSatisfy { $0.equalCostSamples.isEmpty })
    }

    @Test func fiveIndependentSixtyPercentMembersVotingBeatEachMember() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = ["c1", "c2", "c3", "c4", "c5"]
        let models = KnownAccuracyModels(
            accuracy: Dictionary(uniqueKeysWithValues: names.map { ($0, 0.6) }),
            prices: Dictionary(uniqueKeysWithValues: names.map { ($0, (1.0, 1.0)) }))
        let items = 0..<1_000
        let singles = names.map { "single:fake/" + $0 }
        let (summary, loaded) = try await models.bench(
            singles + ["vote"], models: names.map { "fake/" + $0 }, items: items, in: folder)

        let vote = try #require(summary.systems.first { $0.name == "vote" })
        let members = try #require(loaded["vote"]).workflow.members.map { ($0.id, $0.model.model) }
        #expect(vote.correct == items.count { models.voteIsCorrect(members, item: $0) })
        for single in singles {
            let row = try #require(summary.systems.first { $0.name == single })
            #expect(row.accuracy > 0.5 && row.accuracy < 0.7, "\(single): \(row.accuracy)")
            #expect(vote.accuracy > row.accuracy, "vote \(vote.accuracy) vs \(single) \(row.accuracy)")
        }
        // Condorcet: P(at least 3 of 5 right) = 0.683 > 0.6, and the paired test sees it against the best member
        // (with 1,000 items its power is near 1: 40 other sets of member names all gave p < 0.05).
        let versus = try #require(vote.versusBaseline)
        #expect(singles.contains(versus.baseline))
        #expect(versus.won > versus.lost)
        #expect(versus.pValue < 0.05, "\(summary.rendered(.text))")
    }
}

/// Parsing SYSTEM arguments and compiling each kind.
@Suite struct BenchSystemTests {
    @Test(arguments: [
        ("debate", "debate"), ("./workflows/mine.yaml", "./workflows/mine.yaml"), ("debate@HEAD~1", "debate@HEAD~1"),
        ("single:openai/gpt-4o", "single:openai/gpt-4o"), ("single:ollama/llama3:8b", "single:ollama/llama3:8b"),
        ("vote", "vote"), ("vote:openai/gpt-4o:5", "vote:openai/gpt-4o:5"),
        ("vote:ollama/llama3:8b:3", "vote:ollama/llama3:8b:3"), (" vote ", "vote"),
    ])
    func parses(spec: String, name: String) throws {
        #expect(try BenchSystem(parsing: spec).name == name)
    }

    @Test(arguments: [
        ("", "system ``: empty; name a workflow"),
        ("single", "system `single`: `single` needs a model; write single:MODEL"),
        ("single:", "system `single:`: `single:` needs a model; write single:MODEL"),
        ("single:gpt-4o:3", "`single:` takes one model without an instance count; for K samples of one model write vote:gpt-4o:K"),
        ("vote:gpt-4o", "system `vote:gpt-4o`: `vote:` needs a model and a sample count; write vote:MODEL:K"),
        ("vote:gpt-4o:", "the sample count `` is not a whole number from 1 to 64"),
        ("vote:gpt-4o:0", "the sample count `0` is not a whole number from 1 to 64; write vote:MODEL:K"),
        ("vote:gpt-4o:65", "the sample count `65` is not a whole number"),
        ("vote:gpt-4o:five", "the sample count `five` is not a whole number"),
        ("vote::5", "`vote:` needs a model before the sample count"),
        ("vote:", "`vote:` needs a model and a sample count; write vote:MODEL:K, e.g. vote:openai/gpt-4o:5"),
    ])
    func refusesMalformedBaselines(spec: String, message: String) {
        #expect {
            try BenchSystem(parsing: spec)
        } throws: { error in
            guard let error = error as? InputError else { return false }
            return error.code == .invalidOption && error.message.contains(message)
        }
    }

    @Test func aSystemListedTwiceOrNoneIsRefused() {
        #expect(throws: InputError.self) { try BenchSystem.parse([]) }
        #expect {
            try BenchSystem.parse(["vote", "single:gpt-4o", " vote"])
        } throws: { error in
            (error as? InputError)?.message == "system `vote` is listed twice; list each system once."
        }
    }

    private static let catalog = KnownAccuracyModels(accuracy: [:], prices: ["x": (1, 1), "y": (1, 1)]).catalog

    private static func loader(_ folder: URL) -> WorkflowLoader {
        WorkflowLoader(library: WorkflowLibrary(environment: [:], currentDirectory: folder.path), catalog: catalog)
    }

    @Test func modelsApplyToWorkflowsAndVoteButNotToBaselinesThatNameTheirModel() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-bsys-\(UUID().uuidString)")
        // A project workflow called `vote` does not replace the baseline.
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("refinery: 1\nname: vote\nmodels: [fake/y]\nstages: [propose]\n".utf8)
            .write(to: folder.appendingPathComponent("workflows/vote.yaml"))
        let loader = Self.loader(folder)
        let overrides = WorkflowOverrides(models: ["fake/x", "fake/y"], minRounds: 3, maxRounds: 3, budgetUSD: 2)

        let single = try await BenchSystem.single(model: "fake/x").load(with: loader, overrides: overrides)
        #expect(single.workflow.members.map(\.model.description) == ["fake/x"])
        #expect(single.workflow.limits.budgetUSD == 2)

        let vote = try await BenchSystem.vote.load(with: loader, overrides: overrides)
        #expect(vote.located.origin == .builtin)
        #expect(vote.workflow.members.map(\.model.description) == ["fake/x", "fake/y"])

        let samples = try await BenchSystem.selfConsistency(model: "fake/y", samples: 7).load(
            with: loader, overrides: overrides)
        #expect(samples.workflow.name == "self-consistency")
        #expect(samples.workflow.members.count == 7)
        #expect(samples.workflow.members.allSatisfy { $0.model.description == "fake/y" })
        #expect(samples.workflow.iterations.min == 1 && samples.workflow.iterations.max == 1)

        let debate = try await BenchSystem.workflow("debate").load(
            with: loader, overrides: overrides, gitProvenance: false)
        #expect(debate.workflow.members.map(\.model.description) == ["fake/x", "fake/y"])
        #expect(debate.workflow.iterations.min == 3 && debate.workflow.iterations.max == 3)
    }

    @Test func anUnknownModelOrWorkflowIsBadInput() async throws {
        let loader = Self.loader(FileManager.default.temporaryDirectory)
        await #expect(throws: WorkflowDiagnosticsError.self) {
            try await BenchSystem.single(model: "nosuch/model").load(with: loader)
        }
        await #expect {
            try await BenchSystem.workflow("no-such-workflow").load(with: loader, gitProvenance: false)
        } throws: { error in
            (error as? InputError)?.code == .notFound
        }
    }
}

/// Grading a run's result document the way a bench does.
@Suite struct BenchGradingTests {
    private static func report(winner: String?, vote: String?? = nil, status: String = "converged") -> RunReport {
        var report = RunReport(
            runID: "run-1", status: status,
            winner: winner.map { RunReport.Winner(modelID: "openai/gpt-4o", memberID: "m", answer: $0) },
            finalRound: 0, strategy: "none", allAnswers: [],
            metadata: RunReport.Metadata(totalRounds: 0, totalCalls: 3, elapsedMs: 1500), costUSD: 0.25,
            tokens: RunReport.Tokens(input: 300, output: 120),
            coverage: RunReport.Coverage(membersAnswered: 3, reviewsReceived: 0, arbiterFallbackUsed: false, degraded: false),
            stoppedBy: "", workflow: RunReport.WorkflowInfo(
                name: "vote", version: nil, path: nil, gitCommit: nil, gitRevision: nil, gitDirty: nil))
        if let vote {
            report.vote = RunReport.Vote(
                VoteResult(
                    round: 0, extraction: "last-line", winner: vote, winnerMember: nil, share: 0.5, answersCounted: 2,
                    distribution: [], abstentions: [], tieBrokenBy: nil))
        }
        return report
    }

    private static let item = DatasetItem(id: "q7", prompt: "?", reference: "#### 1,234", grader: nil, fields: [:])

    @Test func theFinalAnswerIsGradedWhenThereIsNoVote() {
        let result = BenchItemResult(
            grading: Self.report(winner: "So the total is $1,234."), item: Self.item, system: "debate", grader: .numeric)
        #expect(result == BenchItemResult(
            itemID: "q7", system: "debate", answer: "1234", correct: true, status: "converged", costUSD: 0.25,
            calls: 3, inputTokens: 300, outputTokens: 120, latencySeconds: 1.5, runID: "run-1",
            origin: AnswerOrigin(modelID: "openai/gpt-4o", memberID: "m")))
    }

    @Test func theVoteWinnerIsGradedNotTheWinningMembersText() {
        // The winning member's text ends in a different number than the value the vote counted.
        let graded = BenchItemResult(
            grading: Self.report(winner: "1234 was my first guess; the answer is 99", vote: "Final: 1234"),
            item: Self.item, system: "vote", grader: .numeric)
        #expect(graded.answer == "1234" && graded.correct)
        let noWinner = BenchItemResult(
            grading: Self.report(winner: "1234", vote: .some(nil)), item: Self.item, system: "vote", grader: .numeric)
        #expect(noWinner.answer == nil && noWinner.unanswered && !noWinner.correct)
    }

    @Test func aRowsGraderWinsAndARowWithoutReferenceIsNeverCorrect() {
        var item = Self.item
        item.reference = "Paris"
        item.grader = .exact
        let byRow = BenchItemResult(grading: Self.report(winner: "**Paris.**"), item: item, system: "s", grader: .numeric)
        #expect(byRow.correct && byRow.answer == "paris")
        item.reference = nil
        let unreferenced = BenchItemResult(grading: Self.report(winner: ""), item: item, system: "s", grader: .contains)
        #expect(!unreferenced.correct)
    }

    @Test func aJSONLineRoundTripsWithEveryKey() throws {
        let result = BenchItemResult(itemID: "3", system: "vote:gpt-4o:5", answer: nil, correct: false, status: "failed")
        #expect(
            result.jsonLine
                == #"{"answer":null,"calls":0,"correct":false,"cost_usd":0,"id":"3","input_tokens":0,"#
                + #""latency_seconds":0,"output_tokens":0,"run_id":null,"status":"failed","system":"vote:gpt-4o:5","#
                + #""unanswered":true}"#)
        #expect(try JSONDecoder().decode(BenchItemResult.self, from: Data(result.jsonLine.utf8)) == result)
    }

    @Test func aDatasetThatCannotBeGradedIsRefusedBeforeAnyRun() throws {
        let items = try Dataset.read(
            "{\"question\": \"a\", \"answer\": \"#### 4\"}\n{\"id\": \"q2\", \"question\": \"b\"}\n", path: "d.jsonl")
        #expect {
            try Dataset.checkGradable(items, path: "d.jsonl", grader: .numeric)
        } throws: { error in
            (error as? InputError)?.message.hasPrefix("d.jsonl:2: item `q2` has no reference") == true
        }
        // An empty or null reference was said to be a missing field, whose name the row does give.
        for row in [#"{"id": "q1", "question": "a", "answer": ""}"#, #"{"id": "q1", "question": "a", "answer": null}"#] {
            let blank = try Dataset.read(row + "\n", path: "b.jsonl")
            #expect {
                try Dataset.checkGradable(blank, path: "b.jsonl", grader: .numeric)
            } throws: { error in
                (error as? InputError)?.message.hasPrefix("b.jsonl:1: item `q1` has no reference: the row's `answer` is blank")
                    == true
            }
        }
        let words = try Dataset.read("{\"question\": \"a\", \"answer\": \"four\"}\n", path: "w.jsonl")
        #expect {
            try Dataset.checkGradable(words, path: "w.jsonl", grader: .numeric)
        } throws: { error in
            (error as? InputError)?.message.hasPrefix("w.jsonl:1: item `1`: the numeric grader reads nothing") == true
        }
        try Dataset.checkGradable(words, path: "w.jsonl", grader: .exact)
    }
}
