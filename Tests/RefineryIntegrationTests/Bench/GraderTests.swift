import Foundation
import Testing

@testable import Refinery

/// Every grader against answers and references in the shapes datasets and models write them.
@Suite struct GraderTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var grader: String
        var answer: String
        var reference: String
        var extracted: String?
        var correct: Bool
        /// Nothing can be read from the answer (the item counts as unanswered).
        var unanswered = false
        var testDescription: String { "\(grader): \(answer.prefix(30))" }
    }

    static let table: [Row] = [
        // GSM8K references end in `#### N`; calculator annotations `<<…>>` and commas do not matter.
        Row(grader: "numeric", answer: "She makes 9 * 2 = $18 a day.\n#### 18",
            reference: "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs.\n#### 18", extracted: "18", correct: true),
        Row(grader: "numeric", answer: "The total is $1234.", reference: "…\n#### 1,234", extracted: "1234", correct: true),
        Row(grader: "numeric", answer: "The answer is 17 apples.", reference: "#### 18", extracted: "17", correct: false),
        Row(grader: "numeric", answer: "I can't tell.", reference: "#### 18", extracted: nil, correct: false, unanswered: true),
        Row(grader: "numeric", answer: "So 0.50 dollars", reference: "0.5", extracted: "0.5", correct: true),
        // Units, currency, thousands separators and trailing zeros around the number do not matter.
        Row(grader: "numeric", answer: "#### 1,234", reference: "1234", extracted: "1234", correct: true),
        Row(grader: "numeric", answer: "The answer is 5 km.", reference: "#### 5", extracted: "5", correct: true),
        Row(grader: "numeric", answer: "It costs $1,000.00 in total.", reference: "#### 1000", extracted: "1000",
            correct: true),
        Row(grader: "numeric", answer: "The temperature drops to −3 °C.", reference: "#### -3", extracted: "-3",
            correct: true),
        Row(grader: "numeric", answer: "\\boxed{42} hours", reference: "#### 42", extracted: "42", correct: true),
        Row(grader: "numeric", answer: "Answer: 12 cookies, 3 left over", reference: "#### 3", extracted: "12",
            correct: false),
        // A mixed number, spaced digit groups, a denied number (read as 0.5, 234 and 5).
        Row(grader: "numeric", answer: "It takes 1 1/2 hours.", reference: "#### 1.5", extracted: "1.5",
            correct: true),
        Row(grader: "numeric", answer: "The total is 1 234 km.", reference: "#### 1,234", extracted: "1234",
            correct: true),
        Row(grader: "numeric", answer: "The answer is not 5; it is 7.", reference: "#### 7", extracted: "7",
            correct: true),
        // A loss written with its dollar sign, and an answer that works out its sum (read as 5 and 18).
        Row(grader: "numeric", answer: "So she lost -$5 in all.", reference: "#### -5", extracted: "-5", correct: true),
        Row(grader: "numeric", answer: "The answer is 18 - 6 = 12", reference: "#### 12", extracted: "12",
            correct: true),
        Row(grader: "choice", answer: "Reasoning...\nThe answer is (b).", reference: "B", extracted: "B", correct: true),
        // "option is", and a reply that opens with an option's label (read as nothing).
        Row(grader: "choice", answer: "The correct option is C.", reference: "C", extracted: "C", correct: true),
        Row(grader: "choice", answer: "B) because the others fail", reference: "B", extracted: "B", correct: true),
        Row(grader: "choice", answer: "(E)", reference: "e", extracted: "E", correct: true),
        Row(grader: "choice", answer: "(e)", reference: "E", extracted: "E", correct: true),
        Row(grader: "choice", answer: "No idea.", reference: "A", extracted: nil, correct: false, unanswered: true),
        Row(grader: "choice", answer: "Answer: C", reference: "(c)", extracted: "C", correct: true),
        Row(grader: "choice", answer: "Answer: D", reference: "A", extracted: "D", correct: false),
        Row(grader: "exact", answer: "**Paris.**", reference: "paris", extracted: "paris", correct: true),
        Row(grader: "exact", answer: "Paris, France", reference: "Paris", extracted: "paris, france", correct: false),
        Row(grader: "contains", answer: "The capital is Paris, of course.", reference: "Paris", extracted: nil,
            correct: true),
        Row(grader: "contains", answer: "The capital is Lyon.", reference: "Paris", extracted: nil, correct: false),
        Row(grader: "exact", answer: "  `Paris`  ", reference: "\"Paris\"", extracted: "paris", correct: true),
        Row(grader: "regex:Final: (\\d+)", answer: "Work… Final: 41. Wait. Final: 42", reference: "42",
            extracted: "42", correct: true),
        Row(grader: "regex:Final: (\\d+)", answer: "No final line.", reference: "42", extracted: nil, correct: false, unanswered: true),
    ]

    @Test(arguments: table)
    func grades(row: Row) throws {
        let grader = try #require(Grader(row.grader))
        let result = grader.grade(row.answer, reference: row.reference)
        #expect(result.correct == row.correct)
        if let extracted = row.extracted { #expect(result.extracted == extracted) }
        if row.unanswered { #expect(result.extracted == nil) }
        #expect(grader.name == row.grader)
    }

    @Test func unknownOrBrokenGradersAreRefused() {
        #expect(Grader("numerical") == nil)
        #expect(Grader("regex:(") == nil)
        #expect(Grader("regex:") == nil)
    }
}

/// The interval and the paired test against values computed independently.
@Suite struct BenchStatisticsTests {
    @Test(arguments: [
        (0, 10, 0.0, 0.277533), (5, 10, 0.236593, 0.763407), (81, 100, 0.722212, 0.874852), (10, 10, 0.722467, 1.0),
    ])
    func wilsonInterval(correct: Int, total: Int, low: Double, high: Double) {
        let interval = BenchStatistics.wilson(correct: correct, total: total)
        #expect(abs(interval.lowerBound - low) < 1e-6)
        #expect(abs(interval.upperBound - high) < 1e-6)
    }

    @Test func wilsonOfNothingIsEverything() {
        #expect(BenchStatistics.wilson(correct: 0, total: 0) == 0...1)
    }

    @Test(arguments: [
        (0, 0, 1.0), (1, 9, 22.0 / 1024), (9, 1, 22.0 / 1024), (2, 10, 158.0 / 4096), (5, 5, 1.0), (0, 1, 1.0),
    ])
    func mcnemarExact(b: Int, c: Int, p: Double) {
        #expect(abs(BenchStatistics.mcnemarExactP(b: b, c: c) - p) < 1e-12)
    }

    @Test func mcnemarStaysFiniteForThousandsOfItems() {
        let p = BenchStatistics.mcnemarExactP(b: 600, c: 400)
        #expect(p > 0 && p < 1e-9)
        #expect(BenchStatistics.mcnemarExactP(b: 1000, c: 1000) == 1)
    }
}

/// Reading datasets: the shipped GSM8K split, CSV, and each malformed row with its location.
@Suite struct DatasetTests {
    @Test func theShippedGSM8KSplitReadsWhole() throws {
        let url = CLIHarness.packageRoot.appendingPathComponent("datasets/gsm8k-test.jsonl")
        let items = try Dataset.read(try String(contentsOf: url, encoding: .utf8), path: url.path)
        #expect(items.count == 1319)
        #expect(items.first?.id == "1")
        #expect(items.last?.id == "1319")
        #expect(items.first?.prompt.hasPrefix("Janet’s ducks lay 16 eggs") == true)
        #expect(items.allSatisfy { Grader.numeric.expected($0.reference ?? "") != nil })
        #expect(Grader.numeric.expected(items.first?.reference ?? "") == "18")
    }

    @Test func csvWithQuotesNewlinesAndItsOwnGrader() throws {
        let text = "id,input,target,grader\r\nq1,\"Say \"\"hi\"\",\nthen stop\",hi,exact\r\nq2,Pick one,B,choice\n"
        let items = try Dataset.read(text, path: "set.csv")
        #expect(items.map(\.id) == ["q1", "q2"])
        #expect(items[0].prompt == "Say \"hi\",\nthen stop")
        #expect(items[0].reference == "hi")
        #expect(items[0].grader == .exact)
        #expect(items[1].grader == .choice)
    }

    @Test func fieldsCanBeNamed() throws {
        let items = try Dataset.read(
            #"{"q": "2+2?", "gold": 4, "extra": true}"# + "\n", path: "x.jsonl", promptField: "q",
            referenceField: "gold")
        #expect(items.first?.prompt == "2+2?")
        #expect(items.first?.reference == "4")
        #expect(items.first?.fields["extra"] == "true")
    }

    @Test func aLimitTakesTheFirstItemsOrASeededSampleInFileOrder() throws {
        let text = (1...50).map { "{\"question\": \"q\($0)\", \"answer\": \"\($0)\"}" }.joined(separator: "\n")
        let items = try Dataset.read(text, path: "d.jsonl")
        #expect(Dataset.select(items, limit: nil).count == 50)
        #expect(Dataset.select(items, limit: 80, seed: 7).count == 50)
        #expect(Dataset.select(items, limit: 3).map(\.id) == ["1", "2", "3"])
        // The same sample on every machine (SHA-256 of "7|id", checked with Python's hashlib), in file order.
        let sample = Dataset.select(items, limit: 10, seed: 7)
        #expect(sample.map(\.id) == ["7", "9", "15", "18", "19", "24", "25", "30", "31", "42"])
        #expect(Dataset.select(items, limit: 10, seed: 8) != sample)
        // Drawn by id, not position: the rows in another order give the same items.
        #expect(Set(Dataset.select(items.reversed(), limit: 10, seed: 7).map(\.id)) == Set(sample.map(\.id)))
    }

    /// JSONL lines end at LF or CRLF, wherever they mix, and nowhere else: a CR not before an LF stays
    /// in its line (as trailing blank of the last one, as a JSON blank between a field and the next).
    /// Blank and whitespace-only lines are skipped but still counted for the rows' line numbers.
    @Test func jsonlLinesEndAtLFOrCRLFOnly() throws {
        let text =
            "{\"id\":\"a\",\"question\":\"Q1 \u{2013} é\"}\r\n\n  \t\r\n"
            + "{\"id\":\"b\",\r\"question\":\"Q2\"}\n\u{2028}\n{\"question\":\"Q3\",\"n\":7}\r"
        let items = try Dataset.read(text, path: "mixed.jsonl")
        #expect(items.map(\.id) == ["a", "b", "6"])
        #expect(items.map(\.line) == [1, 4, 6])
        #expect(items.map(\.prompt) == ["Q1 \u{2013} é", "Q2", "Q3"])
        #expect(items[2].fields == ["question": "Q3", "n": "7"])
    }

    @Test func datasetInfoHashesTheFileBytes() {
        let info = BenchDatasetInfo(path: "d.jsonl", contents: Array("abc".utf8), items: 1)
        #expect(info.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test(arguments: [
        ("{\"question\": \"a\"}\nnot json\n", "x.jsonl", "x.jsonl:2: not a JSON object"),
        ("{\"answer\": \"4\"}\n", "x.jsonl", "x.jsonl:1: no prompt"),
        ("{\"id\": \"a\", \"prompt\": \"p\"}\n\n{\"id\": \"a\", \"prompt\": \"q\"}\n", "x.jsonl", "x.jsonl:3: id `a` repeats the row at line 1"),
        ("{\"prompt\": \"p\", \"grader\": \"fuzzy\"}\n", "x.jsonl", "x.jsonl:1: unknown grader `fuzzy`"),
        ("prompt,answer\n\"open,4\n", "x.csv", "x.csv:2: a quoted field is never closed"),
        ("prompt,answer\np,4,extra\n", "x.csv", "x.csv:2: 3 fields, the header has 2"),
        // A column named twice was read as the first of the two, silently.
        ("id,prompt,answer, prompt\n1,p,4,q\n", "x.csv", "x.csv:1: the header names the column `prompt` twice"),
        ("\n  \n", "x.jsonl", "x.jsonl: the dataset has no rows"),
        // A blank prompt was paid for; a field named twice was read as its first value, silently.
        ("{\"prompt\": \" \\t \"}\n", "x.jsonl", "x.jsonl:1: no prompt: the row's `prompt` is blank"),
        // An empty or null prompt was said to be a missing field, whose name the row does give.
        ("{\"question\": \"\"}\n", "x.jsonl", "x.jsonl:1: no prompt: the row's `question` is blank"),
        ("{\"question\": null}\n", "x.jsonl", "x.jsonl:1: no prompt: the row's `question` is blank"),
        ("id,question\na,\n", "x.csv", "x.csv:2: no prompt: the row's `question` is blank"),
        ("{\"prompt\": \"p\", \"answer\": 4, \"answer\": 5}\n", "x.jsonl", "x.jsonl:1: the row names `answer` twice"),
    ])
    func malformedRowsAreLocated(text: String, path: String, message: String) {
        do {
            _ = try Dataset.read(text, path: path)
            Issue.record("read without an error")
        } catch {
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }
}
