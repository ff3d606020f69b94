import Mustache
import RefineryCompiler
import Testing

@testable import RefineryRuntime

/// The plain-text fast path must render exactly what swift-mustache renders.
@Suite struct PlainTemplateTests {
    private static let full = PromptContext(
        prompt: "Explain B-trees.", extraContext: "Be brief.\nTwo lines.", ownAnswer: "My answer.",
        ownHistory: [
            HistoryEntry(round: 1, answer: "First.", reviews: ["Score 7/10.", "Score 5/10."]),
            HistoryEntry(round: 2, answer: "Second."),
        ],
        peers: [LabeledText(label: "A", text: "Peer A."), LabeledText(label: "B", text: "Peer B.\n")],
        synthesis: Synthesis(
            synthesis: "Merged.", confidence: 0.8, dissent: "B disagrees.", refinementAreas: ["depth", "tone"],
            needsIteration: true, ranking: ["A", "B"]),
        answerUnderReview: LabeledText(label: "C", text: "Under review."),
        answersToScore: [LabeledText(label: "A", text: "One."), LabeledText(label: "B", text: "Two.")],
        rubric: "Cite sources.",
        reviewsReceived: [
            LabeledReview(
                label: "Reviewer 1",
                evaluation: Evaluation(
                    strengths: ["clear"], weaknesses: ["short", "vague"], suggestions: ["add"], rationale: "ok",
                    score: 7.5)),
            LabeledReview(label: "Reviewer 2", evaluation: Evaluation(score: 3)),
        ],
        draft: "A draft.", questions: ["Q1?", "Q2?"], question: "Q1?",
        verificationAnswers: [QuestionAnswer(question: "Q1?", answer: "Yes.")], questionCount: 4)

    private static let empty = PromptContext(prompt: "Only the task.")

    /// What swift-mustache renders.
    private static func mustache(_ source: String, _ context: PromptContext) throws -> String {
        try PromptRenderer.compile(source, name: "test", validate: false).get().render(context.templateValues())
    }

    @Test(arguments: PromptKind.allCases, [full, empty])
    func defaultTemplatesRenderAsMustacheDoes(kind: PromptKind, context: PromptContext) throws {
        let plain = try #require(PlainTemplate.defaults[kind])
        #expect(plain.render(context) == (try Self.mustache(DefaultPrompts.source(kind), context)))
    }

    @Test(arguments: [
        "{{prompt}}", "  {{#has_peers}}  \n{{#peers}}\t{{label}}: {{{text}}}\n{{/peers}}\n  {{/has_peers}}  \nend",
        "{{! a comment }}\nx {{! inline }} y\n  {{! standalone }}\nz", "\n\nlead {{^has_answers}}none{{/has_answers}}",
        "a{{#has_rubric}}\n{{rubric}}\n{{/has_rubric}}b", "{{#synthesis}}{{text}} / {{confidence}}{{/synthesis}}",
        "{{#history}}{{round}}{{#reviews}}[{{.}}]{{/reviews}}{{^reviews}}-{{/reviews}}{{/history}}",
        "{{ synthesis.ranking }}|{{&prompt}}|{{.prompt}}|{{has_peers}}", "{ { {x} }",
        "   \n{{#has_draft}}\n  {{draft}}  \n{{/has_draft}}\n", "{{#prompt}}[{{.}}]{{/prompt}}",
    ])
    func subsetTemplatesRenderAsMustacheDoes(source: String) throws {
        let plain = try #require(PlainTemplate(source))
        #expect(plain.render(Self.full) == (try Self.mustache(source, Self.full)))
    }

    @Test func overridesTakeTheFastPathWithTheSameText() throws {
        let source = "{{#has_peers}}\n{{#peers}}\n{{label}}: {{{text}}}\n{{/peers}}\n{{/has_peers}}\n{{prompt}}"
        let rendered = try PromptRenderer(overrides: PromptTemplate(system: "Judge {{labels}}.", user: source))
            .render(.proposeWithPeers, Self.full)
        #expect(rendered.user == "\nA: Peer A.\nB: Peer B.\n\nExplain B-trees.")
        #expect(rendered.user == (try Self.mustache(source, Self.full)))
        #expect(rendered.system == "Judge A, B.")
    }

    @Test(arguments: ["{{> partial}}", "{{=<% %>=}}", "{{uppercased(prompt)}}", "{{#a}}x", "{{/a}}", "{{x"])
    func templatesOutsideTheSubsetAreLeftToMustache(source: String) {
        #expect(PlainTemplate(source) == nil)
    }
}
