import Testing

@testable import RefineryRuntime

/// One reply shape and what the parser must make of it.
struct EvaluationCase: Sendable, CustomTestStringConvertible {
    var name: String
    var reply: String
    /// The score, or `nil` when the reply must be rejected.
    var score: Double?
    /// A fragment the error message must contain (when `score` is nil).
    var error: String = ""

    var testDescription: String { name }
}

private let fence = "```"

let evaluationCases: [EvaluationCase] = [
    .init(
        name: "plain JSON",
        reply: #"{"strengths":["a"],"weaknesses":[],"suggestions":[],"rationale":"ok","score":8}"#, score: 8),
    .init(name: "json fence", reply: "\(fence)json\n{\"rationale\": \"r\", \"score\": 7}\n\(fence)", score: 7),
    .init(name: "bare fence", reply: "Here:\n\(fence)\n{\"score\": 6}\n\(fence)\nThanks", score: 6),
    .init(
        name: "prose around", reply: "My review follows. {\"rationale\": \"fine\", \"score\": 9} Hope it helps.",
        score: 9),
    .init(name: "trailing commas", reply: #"{"strengths": ["x",], "score": 8,}"#, score: 8),
    .init(name: "string number", reply: #"{"score": "8"}"#, score: 8),
    .init(name: "string fraction", reply: #"{"score": "8/10"}"#, score: 8),
    .init(name: "string out of", reply: #"{"score": "8 out of 10"}"#, score: 8),
    .init(name: "float", reply: #"{"score": 8.5}"#, score: 8.5),
    .init(name: "nested evaluation", reply: #"{"evaluation": {"rationale": "r", "score": 8}}"#, score: 8),
    .init(name: "rating key", reply: #"{"rationale": "r", "rating": 6}"#, score: 6),
    .init(name: "score object", reply: #"{"score": {"value": 7, "max": 10}}"#, score: 7),
    .init(name: "capitalized key", reply: #"{"Score": 5, "Rationale": "meh"}"#, score: 5),
    .init(name: "prose Score:", reply: "The answer is solid.\nScore: 8.5", score: 8.5),
    .init(name: "prose n/10", reply: "Mostly right, I'd give it 7/10.", score: 7),
    .init(name: "prose out of", reply: "Rating: 9 out of 10 because it is thorough.", score: 9),
    .init(name: "markdown bold score", reply: "**Score:** 6", score: 6),
    .init(name: "boundary 10", reply: #"{"score": 10}"#, score: 10),
    .init(name: "boundary 1", reply: #"{"score": 1}"#, score: 1),
    .init(name: "braces inside strings", reply: #"{"rationale": "uses {x} and \"q\"", "score": 7}"#, score: 7),
    .init(name: "zero", reply: #"{"score": 0}"#, score: nil, error: "the score 0 is outside the 1–10 scale"),
    .init(name: "eleven", reply: #"{"score": 11}"#, score: nil, error: "the score 11 is outside the 1–10 scale"),
    .init(name: "negative", reply: #"{"score": -3}"#, score: nil, error: "the score -3 is outside"),
    .init(name: "over 10 fraction", reply: #"{"score": "12/10"}"#, score: nil, error: "the score 12 is outside"),
    .init(name: "other scale", reply: #"{"score": "4/5"}"#, score: nil, error: "not on the 1–10 scale"),
    .init(name: "prose out of range", reply: "Score: 15", score: nil, error: "the score 15 is outside"),
    .init(name: "empty", reply: "", score: nil, error: "the reply is empty"),
    .init(name: "whitespace only", reply: "  \n ", score: nil, error: "the reply is empty"),
    .init(name: "garbage", reply: "lorem ipsum dolor", score: nil, error: "no JSON object and no score"),
    .init(name: "no score field", reply: #"{"rationale": "good"}"#, score: nil, error: "has no \"score\" field"),
    .init(name: "null score", reply: #"{"score": null}"#, score: nil, error: "found null"),
    .init(name: "boolean score", reply: #"{"score": true}"#, score: nil, error: "found a boolean"),
    .init(name: "word score", reply: #"{"score": "high"}"#, score: nil, error: "\"high\" is not a number"),
    .init(name: "truncated JSON", reply: #"{"rationale": "cut off", "score": 8"#, score: nil, error: "no score"),
]

@Suite("Evaluation replies")
struct EvaluationParserTests {
    @Test(arguments: evaluationCases)
    func parses(_ row: EvaluationCase) {
        expectParse(ReplyParser.evaluation(from: row.reply), succeeds: row.score != nil, errorFragment: row.error) {
            #expect($0.score == row.score)
        }
    }

    @Test func readsEveryField() throws {
        let reply = """
            Sure.
            ```json
            {"strengths": ["clear", " cites sources "], "weaknesses": "misses edge cases",
             "suggestions": [], "rationale": "Good overall.\\nMinor gaps.", "score": "7.5"}
            ```
            """
        let evaluation = try ReplyParser.evaluation(from: reply).get()
        #expect(
            evaluation
                == Evaluation(
                    strengths: ["clear", "cites sources"], weaknesses: ["misses edge cases"], suggestions: [],
                    rationale: "Good overall.\nMinor gaps.", score: 7.5))
    }

    @Test func summaryLeavesOutEmptyParts() {
        let evaluation = Evaluation(
            strengths: ["clear", "short"], suggestions: ["cite"], rationale: "Fine.", score: 7.5)
        #expect(evaluation.summary == "Score 7.5/10. Strengths: clear; short. Suggestions: cite. Rationale: Fine.")
        #expect(Evaluation(score: 3).summary == "Score 3/10.")
    }

    @Test func proseScoreKeepsTheReplyAsRationale() throws {
        let evaluation = try ReplyParser.evaluation(from: "  Accurate and complete.\nScore: 9  ").get()
        #expect(evaluation.rationale == "Accurate and complete.\nScore: 9")
        #expect(evaluation.strengths.isEmpty)
    }

    @Test func firstFencedObjectWinsOverProseNumbers() throws {
        let reply = "Out of 3 drafts, 2/10 were bad.\n```json\n{\"score\": 8}\n```"
        #expect(try ReplyParser.evaluation(from: reply).get().score == 8)
    }

    @Test func unicodeEscapesAreDecoded() throws {
        let evaluation = try ReplyParser.evaluation(from: #"{"rationale": "caf\u00e9 \ud83d\ude00", "score": 7}"#).get()
        #expect(evaluation.rationale == "café 😀")
    }
}

/// Checks a parse result: on success runs `check`; on failure the message must contain `errorFragment`.
func expectParse<Value>(
    _ result: Result<Value, ReplyParseError>, succeeds: Bool, errorFragment: String,
    sourceLocation: SourceLocation = #_sourceLocation, check: (Value) -> Void
) {
    switch result {
    case .success(let value):
        if succeeds {
            check(value)
        } else {
            Issue.record("expected an error, got \(value)", sourceLocation: sourceLocation)
        }
    case .failure(let error):
        if succeeds {
            Issue.record("expected a value, got error: \(error.message)", sourceLocation: sourceLocation)
        } else {
            #expect(error.message.contains(errorFragment), "message: \(error.message)", sourceLocation: sourceLocation)
        }
    }
}
