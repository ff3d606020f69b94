import Testing

@testable import RefineryRuntime

@Suite("Batched evaluation replies")
struct BatchedEvaluationParserTests {
    static let shapes: [(String, String)] = [
        ("keyed by label", #"{"A": {"rationale": "a", "score": 8}, "B": {"rationale": "b", "score": 6}}"#),
        ("keyed by Response X", #"{"Response A": {"score": 8}, "Response B": {"score": "6/10"}}"#),
        ("array with labels", #"[{"label": "A", "score": 8}, {"label": "B", "score": 6}]"#),
        ("array under a key", #"{"evaluations": [{"label": "Response B", "score": 6}, {"label": "A", "score": 8}]}"#),
        ("object under a key", "```json\n{\"reviews\": {\"a\": {\"score\": 8}, \"b\": {\"score\": 6,},},}\n```"),
        ("nested score", #"{"A": {"evaluation": {"score": 8}}, "B": {"evaluation": {"score": 6}}}"#),
    ]

    @Test(arguments: shapes)
    func readsEveryShape(_ name: String, _ reply: String) throws {
        let result = try ReplyParser.batchedEvaluations(from: reply, labels: ["A", "B"]).get()
        #expect(result.unread.isEmpty)
        #expect(result.evaluations["A"]?.score == 8)
        #expect(result.evaluations["B"]?.score == 6)
    }

    @Test func aMissingLabelIsUnreadAndTheOthersKeepTheirScores() throws {
        let result = try ReplyParser.batchedEvaluations(from: #"{"A": {"score": 8}}"#, labels: ["A", "B", "C"]).get()
        #expect(result.evaluations.mapValues(\.score) == ["A": 8])
        #expect(
            result.unread == [
                "B": "the reply has no evaluation for label B", "C": "the reply has no evaluation for label C",
            ])
    }

    @Test func oneBadScoreLeavesTheOtherLabels() throws {
        let result = try ReplyParser.batchedEvaluations(
            from: #"{"A": {"score": 8}, "B": {"score": 42}}"#, labels: ["A", "B"]
        ).get()
        #expect(result.evaluations.mapValues(\.score) == ["A": 8])
        #expect(result.unread == ["B": "response B: the score 42 is outside the 1–10 scale"])
    }

    @Test func emptyReply() {
        guard case .failure(let error) = ReplyParser.batchedEvaluations(from: "", labels: ["A"]) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.message == "the reply is empty; expected one JSON evaluation per label")
    }
}

struct SynthesisCase: Sendable, CustomTestStringConvertible {
    var name: String
    var reply: String
    var confidence: Double?
    var needsIteration = false
    var error = ""
    var testDescription: String { name }
}

let synthesisCases: [SynthesisCase] = [
    .init(name: "fraction", reply: #"{"synthesis": "S", "confidence": 0.85}"#, confidence: 0.85),
    .init(name: "percentage number", reply: #"{"synthesis": "S", "confidence": 85}"#, confidence: 0.85),
    .init(name: "percentage string", reply: #"{"synthesis": "S", "confidence": "85%"}"#, confidence: 0.85),
    .init(name: "one is 100 %", reply: #"{"synthesis": "S", "confidence": 1}"#, confidence: 1),
    .init(name: "string fraction", reply: #"{"synthesis": "S", "confidence": "0.4"}"#, confidence: 0.4),
    .init(
        name: "needs_iteration yes", reply: #"{"synthesis": "S", "confidence": 0.5, "needs_iteration": "yes"}"#,
        confidence: 0.5, needsIteration: true),
    .init(
        name: "needs_iteration no", reply: #"{"synthesis": "S", "confidence": 0.5, "needs_iteration": "No"}"#,
        confidence: 0.5),
    .init(
        name: "needs_iteration bool", reply: #"{"synthesis": "S", "confidence": 0.5, "needs_iteration": true}"#,
        confidence: 0.5, needsIteration: true),
    .init(name: "over 100", reply: #"{"synthesis": "S", "confidence": 150}"#, error: "the confidence 150 is outside"),
    .init(name: "negative", reply: #"{"synthesis": "S", "confidence": -0.1}"#, error: "is outside 0–1"),
    .init(name: "missing confidence", reply: #"{"synthesis": "S"}"#, error: "has no \"confidence\""),
    .init(name: "missing synthesis", reply: #"{"confidence": 0.9}"#, error: "the synthesis is missing or empty"),
    .init(name: "empty synthesis", reply: #"{"synthesis": "  ", "confidence": 0.9}"#, error: "missing or empty"),
    .init(
        name: "the prompt's placeholder", reply: #"{"synthesis": "...", "confidence": 0.8, "dissent": "..."}"#,
        error: "missing or empty (or only a placeholder)"),
    .init(
        name: "bad flag", reply: #"{"synthesis": "S", "confidence": 0.9, "needs_iteration": "maybe"}"#,
        error: "must be true or false"),
    .init(name: "garbage", reply: "I think they all agree.", error: "the reply has no JSON object"),
    .init(name: "empty", reply: "", error: "the reply is empty"),
]

@Suite("Synthesis replies")
struct SynthesisParserTests {
    @Test(arguments: synthesisCases)
    func parses(_ row: SynthesisCase) {
        expectParse(ReplyParser.synthesis(from: row.reply), succeeds: row.confidence != nil, errorFragment: row.error) {
            #expect(abs($0.confidence - (row.confidence ?? -1)) < 1e-12)
            #expect($0.needsIteration == row.needsIteration)
        }
    }

    @Test func readsEveryField() throws {
        let reply = """
            ```json
            {"synthesis": "Paris is the capital.", "confidence": 0.9, "dissent": ["B said Lyon"],
             "refinement_areas": "- cite a source\\n- mention history", "needs_iteration": false,
             "ranking": ["Response A", "C", "B"],}
            ```
            """
        #expect(
            try ReplyParser.synthesis(from: reply).get()
                == Synthesis(
                    synthesis: "Paris is the capital.", confidence: 0.9, dissent: "B said Lyon",
                    refinementAreas: ["cite a source", "mention history"], needsIteration: false,
                    ranking: ["A", "C", "B"]))
    }

    @Test func readsConsortiumTags() throws {
        let reply = """
            <synthesis>Use a mutex.</synthesis>
            <confidence>0.75</confidence>
            <dissent>One answer preferred an actor.</dissent>
            <needs_iteration>yes</needs_iteration>
            <refinement_areas>
            1. benchmark both
            2. explain fairness
            </refinement_areas>
            """
        #expect(
            try ReplyParser.synthesis(from: reply).get()
                == Synthesis(
                    synthesis: "Use a mutex.", confidence: 0.75, dissent: "One answer preferred an actor.",
                    refinementAreas: ["benchmark both", "explain fairness"], needsIteration: true))
    }
}
