import RefineryCompiler
import Testing

@testable import RefineryRuntime

@Suite("Prompt rendering")
struct PromptRendererTests {
    let renderer = PromptRenderer(overrides: nil)

    @Test func proposeIsThePromptWithOptionalContext() throws {
        #expect(try renderer.render(.propose, PromptContext(prompt: "Name a prime.")).user == "Name a prime.")
        let withContext = try renderer.render(
            .propose, PromptContext(prompt: "Name a prime.", extraContext: "Be brief."))
        #expect(withContext.user == "Name a prime.\n\n## Additional context\nBe brief.")
        #expect(withContext.system == nil)
    }

    @Test func evaluatePairwiseExactText() throws {
        let context = PromptContext(
            prompt: "What is 2+2?", answerUnderReview: LabeledText(label: "B", text: "4"), rubric: "Show the work.")
        let expected = """
            You are reviewing one answer to the task below. You do not know who wrote it; judge it on its merits.

            ## Task
            What is 2+2?

            ## Response B
            4

            ## Rubric
            Score from 1 to 10:
            - 9–10: correct, complete and clear; nothing material to add.
            - 7–8: correct and useful, with minor gaps or imprecision.
            - 5–6: partly correct or incomplete; at least one error or gap that matters.
            - 3–4: major errors, or misses the main point of the task.
            - 1–2: wrong, off-task or unusable.
            Judge correctness first, then completeness, then clarity. Length is not a merit, and a confident tone \
            is not evidence.
            Also judge: Show the work.

            ## Reply format
            Reply with only a JSON object, nothing before or after it, with the fields in this order:
            {"strengths": ["..."], "weaknesses": ["..."], "suggestions": ["..."], "rationale": "...", "score": 7}
            List concrete strengths, weaknesses and suggestions (empty lists are fine). Write the rationale \
            before you decide the score; the score is a number from 1 to 10.
            """
        #expect(try renderer.render(.evaluatePairwise, context).user == expected)
    }

    @Test func critiqueReviseExactText() throws {
        let context = PromptContext(prompt: "Summarize <b>HTML</b> & \"quotes\".", draft: "Draft with <tags> & 'q'.")
        let expected = """
            You are a refiner. Improve the draft so that it better accomplishes the task.

            ## Task
            Summarize <b>HTML</b> & "quotes".

            ## Draft
            Draft with <tags> & 'q'.

            ## Rules
            - Output ONLY the two blocks shown below: nothing before them, nothing after them.
            - In <critique>, list the draft's concrete problems against the task: errors, omissions, unclear parts.
            - In <revised>, write the complete improved draft, not a diff or a list of changes.
            - If the draft is already excellent, write "no material issues" in <critique> and repeat the draft \
            verbatim in <revised>.
            - Never invent requirements beyond the task.
            - Keep the draft's format: code stays code, prose stays prose, in the same language and structure.

            <critique>
            ...
            </critique>
            <revised>
            ...
            </revised>
            """
        #expect(try renderer.render(.critiqueRevise, context).user == expected)
    }

    @Test func verifyAnswerNeverShowsTheDraftOrTask() throws {
        let context = PromptContext(prompt: "SECRET TASK", draft: "SECRET DRAFT", question: "When was X founded?")
        #expect(
            try renderer.render(.verifyAnswer, context).user == """
                Answer the question below accurately and concisely. If you are not sure, say so instead of guessing.

                ## Question
                When was X founded?
                """)
    }

    @Test func refineListsEachReview() throws {
        let context = PromptContext(
            prompt: "T", ownAnswer: "My answer",
            reviewsReceived: [
                LabeledReview(
                    label: "Reviewer 1",
                    evaluation: Evaluation(
                        strengths: ["clear"], weaknesses: [], suggestions: ["add a source"],
                        rationale: "Good.", score: 7.5))
            ])
        let text = try renderer.render(.refine, context).user
        #expect(
            text.contains(
                """
                ## Reviews of your answer
                ### Reviewer 1: score 7.5/10
                Strengths:
                - clear
                Suggestions:
                - add a source
                Rationale: Good.

                ## Instructions
                """))
        #expect(!text.contains("Weaknesses:"))
        #expect(!text.contains("No reviews were received"))
    }

    @Test func synthesizeShowsLabelsOnlyAndAsksForEveryField() throws {
        let context = PromptContext(
            prompt: "T",
            answersToScore: [LabeledText(label: "A", text: "one"), LabeledText(label: "B", text: "two")])
        let text = try renderer.render(.synthesize, context).user
        #expect(text.contains("### Response A\none\n\n### Response B\ntwo\n\n## Instructions"))
        #expect(
            text.hasSuffix(
                #"{"synthesis": "...", "confidence": 0.8, "dissent": "...", "refinement_areas": ["..."], "#
                    + #""needs_iteration": false, "ranking": ["A", "B"]}"#))
    }

    @Test func proposeWithSynthesisShowsAreas() throws {
        let context = PromptContext(
            prompt: "T",
            synthesis: Synthesis(synthesis: "S", confidence: 0.6, dissent: "", refinementAreas: ["x", "y"]))
        let text = try renderer.render(.proposeWithSynthesis, context).user
        #expect(
            text.contains("## Synthesis of the previous round\nS\n\n## Areas to improve\n- x\n- y\n\n## Instructions"))
        #expect(!text.contains("Unresolved disagreements"))
    }

    @Test func proposeWithHistoryShowsRoundsAndReviews() throws {
        let context = PromptContext(
            prompt: "T",
            ownHistory: [
                HistoryEntry(round: 1, answer: "first", reviews: ["too short"]),
                HistoryEntry(round: 2, answer: "second"),
            ])
        let text = try renderer.render(.proposeWithHistory, context).user
        #expect(
            text.contains(
                """
                ### Round 1: your answer
                first

                ### Round 1: reviews of that answer
                - too short

                ### Round 2: your answer
                second

                ## Instructions
                """))
    }

    @Test(arguments: PromptKind.allCases)
    func everyDefaultRendersWithoutLeftoverTags(_ kind: PromptKind) throws {
        let context = PromptContext(
            prompt: "P", extraContext: "C", ownAnswer: "O", ownHistory: [HistoryEntry(round: 1, answer: "H")],
            peers: [LabeledText(label: "B", text: "peer")], synthesis: Synthesis(synthesis: "S", confidence: 0.5),
            answerUnderReview: LabeledText(label: "A", text: "a"), answersToScore: [LabeledText(label: "A", text: "a")],
            draft: "D", questions: ["Q?"], question: "Q?",
            verificationAnswers: [QuestionAnswer(question: "Q?", answer: "A.")])
        let text = try renderer.render(kind, context).user
        #expect(!text.contains("{{"))
        #expect(!text.contains("&lt;") && !text.contains("&amp;"))
        #expect(!text.isEmpty)
    }

    @Test func overridesReplaceTheDefaultsWithoutEscaping() throws {
        let renderer = PromptRenderer(
            overrides: PromptTemplate(
                system: "You judge {{labels}}.",
                user: "Task: {{prompt}}\n{{#answers}}[{{label}}] {{text}}\n{{/answers}}"))
        let rendered = try renderer.render(
            .evaluateBatched,
            PromptContext(
                prompt: "a < b & c",
                answersToScore: [LabeledText(label: "A", text: "\"x\""), LabeledText(label: "B", text: "y")]))
        #expect(rendered.system == "You judge A, B.")
        #expect(rendered.user == "Task: a < b & c\n[A] \"x\"\n[B] y\n")
    }

    @Test func systemOnlyOverrideKeepsTheDefaultUserTemplate() throws {
        let rendered = try PromptRenderer(overrides: PromptTemplate(system: "Be terse."))
            .render(.propose, PromptContext(prompt: "Q"))
        #expect(rendered == RenderedPrompt(system: "Be terse.", user: "Q"))
    }

    @Test func overrideParseErrorSaysWhere() {
        let renderer = PromptRenderer(
            overrides: PromptTemplate(path: "prompts/eval.mustache", user: "Hello\n{{#answers}}open"))
        #expect {
            try renderer.render(.evaluateBatched, PromptContext(prompt: "p"))
        } throws: { error in
            let message = (error as? PromptRenderError)?.message ?? ""
            return message.hasPrefix("user prompt template (prompts/eval.mustache): line 2")
                && message.contains("a section is never closed")
        }
    }

    @Test func overrideWithUnknownVariableIsRejected() {
        let renderer = PromptRenderer(overrides: PromptTemplate(user: "{{promt}} {{answer.label}}"))
        #expect {
            try renderer.render(.propose, PromptContext(prompt: "p"))
        } throws: { error in
            (error as? PromptRenderError)?.message.hasPrefix(
                "user prompt template: unknown variable 'promt'; the variables are: ") ?? false
        }
    }
}
