import Foundation
import Testing

@testable import Refinery

/// The summary's numbers from hand-made results, and its renderers.
@Suite struct BenchSummaryTests {
    private static let systems = ["debate", "single:x", "vote:x:2"]
    private static let dataset = BenchDatasetInfo(
        path: "datasets/four.jsonl", sha256: String(repeating: "ab", count: 32), items: 4)

    /// debate 3/4 at $0.009 and 9 calls an item; single:x 2/4 at $0.001; vote:x:2 3/4 at $0.002, unanswered once.
    private static let results: [BenchItemResult] = {
        let correct = ["debate": [true, true, true, false], "single:x": [true, false, false, true],
                       "vote:x:2": [true, false, true, true]]
        let cost = ["debate": 0.009, "single:x": 0.001, "vote:x:2": 0.002]
        let calls = ["debate": 9, "single:x": 1, "vote:x:2": 2]
        return systems.flatMap { system in
            (1...4).map { item in
                let right = correct[system]?[item - 1] == true
                let unanswered = system == "vote:x:2" && item == 2
                return BenchItemResult(
                    itemID: String(item), system: system, answer: unanswered ? nil : right ? "42" : "41", correct: right,
                    status: "converged", costUSD: cost[system] ?? 0, calls: calls[system] ?? 0,
                    inputTokens: 10 * item, outputTokens: item, latencySeconds: system == "debate" ? [1, 2, 3, 10][item - 1] : 0.5,
                    runID: "\(system)-\(item)")
            }
        }
    }()

    private static func summary(_ results: some Sequence<BenchItemResult>, systems: [String] = systems) -> BenchSummary {
        BenchSummary(
            benchID: "b-1", dataset: dataset, grader: .numeric, systems: systems, itemIDs: ["1", "2", "3", "4"],
            results: results)
    }

    @Test func perSystemNumbers() throws {
        let summary = Self.summary(Self.results)
        #expect(summary.systems.map(\.name) == Self.systems)
        let debate = summary.systems[0]
        #expect(debate.correct == 3 && debate.total == 4 && debate.accuracy == 0.75)
        let wilson = BenchStatistics.wilson(correct: 3, total: 4)
        #expect(debate.ci95 == [wilson.lowerBound, wilson.upperBound])
        #expect(abs(debate.costUSD - 0.036) < 1e-12)
        #expect(abs((debate.costPerCorrectUSD ?? 0) - 0.012) < 1e-12)
        #expect(debate.calls == 36 && debate.inputTokens == 100 && debate.outputTokens == 10)
        #expect(debate.latencyMeanSeconds == 4)
        #expect(debate.latencyP95Seconds == 10)
        #expect(summary.systems[2].unanswered == 1)
    }

    @Test func everySystemIsComparedWithTheBestSingleModel() throws {
        let summary = Self.summary(Self.results)
        #expect(summary.baseline == "single:x")
        #expect(summary.systems[1].versusBaseline == nil)
        // debate right where single:x is wrong on items 2 and 3, wrong where it is right on item 4.
        #expect(
            summary.systems[0].versusBaseline
                == BenchSummary.Comparison(baseline: "single:x", items: 4, won: 2, lost: 1, pValue: 1))
        #expect(summary.systems[2].versusBaseline?.won == 1 && summary.systems[2].versusBaseline?.lost == 0)
        // debate costs $0.009 an item; a sample of vote:x:2 costs $0.002 ÷ 2: 9 samples.
        let match = try #require(summary.systems[0].equalCostSamples.first)
        #expect(match.baseline == "vote:x:2" && match.model == "x")
        #expect(abs(match.samples - 9) < 1e-9)
        #expect(summary.systems[1].equalCostSamples.isEmpty && summary.systems[2].equalCostSamples.isEmpty)
    }

    @Test func withoutASingleModelTheMostAccurateSystemIsTheBaselineTheCheaperOnATie() {
        let summary = Self.summary(Self.results.filter { $0.system != "single:x" }, systems: ["debate", "vote:x:2"])
        // Both are 3/4; vote:x:2 is cheaper.
        #expect(summary.baseline == "vote:x:2")
        #expect(summary.systems[0].versusBaseline?.baseline == "vote:x:2")
    }

    @Test func theOrderResultsArriveInChangesNoByteOfAnyFormat() {
        let straight = Self.summary(Self.results)
        var generator = SplitMix(seed: 11)
        for _ in 0..<5 {
            let shuffled = Self.summary(Self.results.shuffled(using: &generator))
            for format in BenchOutputFormat.allCases {
                #expect(shuffled.rendered(format) == straight.rendered(format), "\(format)")
            }
        }
    }

    @Test func unfinishedItemsAreLeftOutAndALaterResultReplacesAnEarlierOne() {
        var results = Self.results.filter { !($0.system == "vote:x:2" && $0.itemID == "4") }
        var redone = results[0]
        redone.correct = false
        results.append(redone)  // debate on item 1, graded again
        let summary = Self.summary(results + [BenchItemResult(itemID: "9", system: "debate", answer: "1", correct: true, status: "converged")])
        #expect(summary.systems[0].correct == 2 && summary.systems[0].total == 4)
        #expect(summary.systems[2].total == 3)
        #expect(summary.systems[2].versusBaseline?.items == 3)
        #expect(summary.items[3].results["vote:x:2"] == nil)
        #expect(summary.results.count == 11)
    }

    @Test func theTextTable() {
        let text = Self.summary(Self.results).rendered(.text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "Bench b-1: datasets/four.jsonl (4 items, sha256 abababababab), grader numeric")
        #expect(lines[2].hasPrefix("system    accuracy          95% CI  correct  unanswered    cost  cost/correct  calls"))
        #expect(lines[2].hasSuffix("vs single:x (won/lost, p)"))
        #expect(
            lines[3]
                == "debate       75.0%  [30.1%, 95.4%]      3/4           0  $0.036        $0.012     36         100/10"
                + "    4.00s / 10.00s  +2 -1, p=1.000")
        #expect(lines[4].hasSuffix("baseline"))
        #expect(lines[7] == "debate costs $0.009 per item: as much as 9.0 samples of vote:x:2 ($0.001 a sample).")
        #expect(text.hasSuffix(".\n"))
    }

    @Test func theMarkdownTable() {
        let markdown = Self.summary(Self.results).rendered(.markdown)
        #expect(
            markdown == """
                | System | Accuracy (%) | 95 % CI | Correct | Unanswered | Cost ($) | $ / correct | Calls | Δ vs single:x (pts) | Won / lost | p |
                | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
                | **debate** | **75.0** | 30.1–95.4 | 3 / 4 | 0 | 0.036 | 0.012 | 36 | +25.0 | 2 / 1 | 1.000 |
                | single:x | 50.0 | 15.0–85.0 | 2 / 4 | 0 | 0.004 | 0.002 | 4 | (baseline) |  |  |
                | **vote:x:2** | **75.0** | 30.1–95.4 | 3 / 4 | 1 | 0.008 | 0.002667 | 8 | +25.0 | 1 / 0 | 1.000 |

                Dataset `datasets/four.jsonl` (4 items, SHA-256 `abababababab`), grader `numeric`, bench `b-1`. \
                95 % CI: Wilson score interval. Δ: accuracy points over `single:x` on the items both answered; won / \
                lost: items only one of the two got right; p: two-sided exact McNemar test.

                debate costs $0.009 per item: as much as 9.0 samples of vote:x:2 ($0.001 a sample).

                """)
    }

    @Test(.enabled(if: CLIHarness.jsonSchemaAvailable, "python3's jsonschema is not installed"))
    func theJSONDocumentMatchesItsSchema() async throws {
        let json = Self.summary(Self.results).rendered(.json)
        #expect(try #require(try await CLIHarness.schemaErrors(json, schema: "bench-output.schema.json")) == [])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["bench_id"] as? String == "b-1")
        #expect(object["format_version"] as? Int == 1)
        let dataset = try #require(object["dataset"] as? [String: Any])
        #expect(dataset["items"] as? Int == 4 && dataset["path"] as? String == "datasets/four.jsonl")
        let systems = try #require(object["systems"] as? [[String: Any]])
        #expect(systems.map { $0["name"] as? String } == Self.systems)
        let ci95 = try #require(systems[0]["ci95"] as? [Double])
        #expect(zip(ci95, Self.summary(Self.results).systems[0].ci95).allSatisfy { abs($0 - $1) < 1e-12 })
        let items = try #require(object["items"] as? [[String: Any]])
        let results = try #require(items[1]["results"] as? [String: [String: Any]])
        #expect(results["debate"]?["answer"] as? String == "42")
        #expect(results["vote:x:2"]?["answer"] is NSNull)
        // A document of another version, or missing a system's accuracy, is refused by the schema.
        let broken = json.replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 2")
            .replacingOccurrences(of: "\"accuracy\" : 0.75,", with: "")
        #expect(try #require(try await CLIHarness.schemaErrors(broken, schema: "bench-output.schema.json")).count >= 2)
    }

    /// A bench whose every item failed has no baseline: the key is `null`, as the schema requires (it
    /// was left out, and the document failed its own schema).
    @Test(.enabled(if: CLIHarness.jsonSchemaAvailable, "python3's jsonschema is not installed"))
    func aBenchWithNoResultMatchesItsSchema() async throws {
        let json = Self.summary([BenchItemResult]()).rendered(.json)
        #expect(try #require(try await CLIHarness.schemaErrors(json, schema: "bench-output.schema.json")) == [])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["baseline"] is NSNull)
    }

    @Test func jsonlHasOneLinePerResultInDatasetThenSystemOrder() throws {
        let lines = Self.summary(Self.results.reversed()).rendered(.jsonl).split(separator: "\n").map(String.init)
        #expect(lines.count == 12)
        let decoded = try lines.map { try JSONDecoder().decode(BenchItemResult.self, from: Data($0.utf8)) }
        #expect(decoded.map { "\($0.itemID) \($0.system)" }.prefix(4) == ["1 debate", "1 single:x", "1 vote:x:2", "2 debate"])
    }
}
