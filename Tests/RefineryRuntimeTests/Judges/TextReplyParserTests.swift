import Testing

@testable import RefineryRuntime

@Suite("Critique-revise and verification replies")
struct TextReplyParserTests {
    @Test func readsBothBlocksAndIgnoresTextOutside() throws {
        let reply = """
            Sure! Here you go.
            <critique>
            The draft misses the error case.
            </critique>
            <revised>
                func f() throws {
                    try g()
                }
            </revised>
            Let me know.
            """
        let result = try ReplyParser.critiqueRevise(from: reply).get()
        #expect(result.critique == "The draft misses the error case.")
        #expect(result.revised == "    func f() throws {\n        try g()\n    }")
    }

    @Test func toleratesMissingCritiqueAndUppercaseTags() throws {
        let result = try ReplyParser.critiqueRevise(from: "<REVISED>Better text.</REVISED>").get()
        #expect(result.critique == "")
        #expect(result.revised == "Better text.")
    }

    @Test(arguments: [
        ("<critique>fine</critique>", "the reply has no <revised> block"),
        ("<critique>x</critique><revised>cut off here", "the <revised> block is not closed"),
        ("<revised>  \n </revised>", "the <revised> block is empty"),
        ("", "the reply is empty"),
        // The prompt's own reply format echoed back: a placeholder, not a draft.
        ("<critique>\n...\n</critique>\n<revised>\n...\n</revised>", "the <revised> block is empty"),
        ("<critique>c</critique><revised>…</revised>", "the <revised> block is empty"),
        ("<critique>c</critique><revised>the complete revised text</revised>", "the <revised> block is empty"),
    ])
    func rejectsMissingRevision(_ reply: String, _ message: String) {
        guard case .failure(let error) = ReplyParser.critiqueRevise(from: reply) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.message.hasPrefix(message), "message: \(error.message)")
    }

    @Test func revisedQuotedInsideCritiqueIsNotTaken() throws {
        let reply = "<critique>Wrap it in <revised> tags.</critique><revised>Real text</revised>"
        #expect(try ReplyParser.critiqueRevise(from: reply).get().revised == "Real text")
    }

    @Test(arguments: [
        ("json array", #"["When was X founded?", "Who founded X?", "Where is X?"]"#),
        (
            "questions object",
            "```json\n{\"questions\": [\"When was X founded?\", \"Who founded X?\", \"Where is X?\"]}\n```"
        ),
        (
            "objects",
            #"{"questions": [{"question": "When was X founded?"}, {"question": "Who founded X?"}, {"question": "Where is X?"}]}"#
        ),
        ("numbered", "Questions:\n1. When was X founded?\n2) Who founded X?\n3. Where is X?"),
        ("bulleted", "- When was X founded?\n* Who founded X?\n• Where is X?"),
        ("question lines", "Let me check.\nWhen was X founded?\nWho founded X?\nWhere is X?\nDone."),
    ])
    func readsQuestions(_ name: String, _ reply: String) throws {
        #expect(
            try ReplyParser.verificationQuestions(from: reply, max: 5).get()
                == ["When was X founded?", "Who founded X?", "Where is X?"])
    }

    @Test func capsQuestionsAtMax() throws {
        #expect(try ReplyParser.verificationQuestions(from: #"["a?", "b?", "c?"]"#, max: 2).get() == ["a?", "b?"])
    }

    /// An empty list is the planner saying there is nothing to verify, not an unreadable reply.
    @Test(arguments: [#"{"questions": []}"#, "[]", #"Nothing to check: {"verification_questions": []}"#])
    func anEmptyListIsNothingToVerify(_ reply: String) throws {
        #expect(try ReplyParser.verificationQuestions(from: reply, max: 3).get() == [])
    }

    @Test(arguments: ["", "No questions needed.", #"{"questions": ["..."]}"#])
    func rejectsReplyWithoutQuestions(_ reply: String) {
        guard case .failure(let error) = ReplyParser.verificationQuestions(from: reply, max: 3) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.message.contains("expected {\"questions\": [...]}"))
    }

    @Test func formatRemindersNameTheShape() {
        #expect(ReplyParser.formatReminder(for: .batchedEvaluation(labels: ["A", "B"])).contains(#"("A", "B")"#))
        #expect(ReplyParser.formatReminder(for: .critiqueRevise).contains("<revised>"))
        #expect(ReplyParser.formatReminder(for: .evaluation).contains("from 1 to 10"))
        #expect(ReplyParser.formatReminder(for: .synthesis).contains("\"needs_iteration\": boolean"))
        #expect(ReplyParser.formatReminder(for: .verificationQuestions).contains("{\"questions\": [string]}"))
    }
}

@Suite("JSON schemas")
struct JSONSchemasTests {
    @Test func evaluationPutsRationaleBeforeScore() throws {
        let schema = try #require(LenientJSON.parse(JSONSchemas.evaluation.schemaJSON))
        guard case .object(let properties)? = schema["properties"] else {
            Issue.record("no properties")
            return
        }
        #expect(properties.map(\.key) == ["strengths", "weaknesses", "suggestions", "rationale", "score"])
        #expect(JSONSchemas.evaluation.name == "evaluation")
    }

    @Test func batchedRequiresEveryLabel() throws {
        let format = JSONSchemas.batchedEvaluation(labels: ["A", "B \"x\""])
        let schema = try #require(LenientJSON.parse(format.schemaJSON))
        #expect(schema["required"] == .array([.string("A"), .string("B \"x\"")]))
        let evaluation = try #require(LenientJSON.parse(JSONSchemas.evaluation.schemaJSON))
        #expect(schema["properties"]?["A"] == evaluation)
    }

    @Test func synthesisAndQuestionsAreValidJSON() throws {
        let synthesis = try #require(LenientJSON.parse(JSONSchemas.synthesis.schemaJSON))
        #expect(synthesis["required"]?.arrayCount == 6)
        let questions = try #require(LenientJSON.parse(JSONSchemas.verificationQuestions.schemaJSON))
        #expect(questions["properties"]?["questions"]?["type"] == .string("array"))
    }
}

extension JSONValue {
    var arrayCount: Int? {
        if case .array(let values) = self { return values.count }
        return nil
    }
}
