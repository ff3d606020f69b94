// A stage's prompt templates checked against the variables the stage provides: a name it does not
// provide (E508), a list or object shown as text (E509), located in the template file.

import RefineryCompiler
import RefinerySyntax
import Testing

@Suite struct PromptTemplateCheckTests {
    private func compile(
        stage: String, prompt: String, files: [String: String] = [:], variables: [String: String] = [:]
    ) -> CompileResult {
        var compiler = Fixtures.compiler(files: files)
        compiler.overrides.variables = variables
        return compiler.compile(
            yaml: """
                refinery: 1
                name: n
                models: [claude, codex]
                arbiter: claude
                stages:
                \(stage == "propose" ? "" : "  - propose\n")  - \(stage): { prompt: \(prompt) }

                """,
            displayName: "flows/w.yaml", path: "/work/flows/w.yaml")
    }

    private func located(_ result: CompileResult) -> [String] {
        result.diagnostics.map {
            "\($0.code) \($0.file ?? "-"):\($0.location?.line ?? 0):\($0.location?.column ?? 0)"
        }
    }

    @Test(arguments: [
        // stage, template, expected "code file:line:col"
        ("evaluate", "Reviewing {{label}}", "E508 flows/t.mustache:1:11"),
        ("evaluate", "A\n  {{answer}}", "E509 flows/t.mustache:2:3"),
        ("refine", "{{{reviews}}}", "E509 flows/t.mustache:1:1"),
        ("refine", "{{answer}}", "E508 flows/t.mustache:1:1"),
        ("propose", "{{#peers}}{{score}}{{/peers}}", "E508 flows/t.mustache:1:11"),
        ("synthesize", "{{#answers}}{{.}}{{/answers}}", "E509 flows/t.mustache:1:13"),
        ("verify", "{{ audience }}", "E508 flows/t.mustache:1:1"),
        ("evaluate", "{{answer.label}} {{answer.score}}", "E508 flows/t.mustache:1:18"),
        // Partials are never loaded: Mustache would render them as nothing.
        ("propose", "Hi\n  {{> header}}", "E510 flows/t.mustache:2:3"),
        ("propose", "{{<base}}{{prompt}}{{/base}} {{prompt}}", "E510 flows/t.mustache:1:1"),
    ])
    func aTemplateFileIsCheckedAgainstItsStage(stage: String, template: String, expected: String) {
        let result = compile(stage: stage, prompt: "t.mustache", files: ["/work/flows/t.mustache": template])
        #expect(located(result) == [expected])
    }

    @Test(arguments: [
        ("evaluate", "{{#answer}}Response {{label}}: {{{text}}}{{/answer}} {{#has_rubric}}{{rubric}}{{/has_rubric}}"),
        ("refine", "{{{own_answer}}} {{#reviews}}{{label}} {{score}} {{#strengths}}{{.}}{{/strengths}}{{/reviews}}"),
        ("propose", "{{prompt}} {{#history}}{{round}}: {{answer}} {{#reviews}}{{.}}{{/reviews}}{{/history}}"),
        ("synthesize", "{{labels}} {{#answers}}{{label}} {{text}} {{prompt}}{{/answers}}"),
        ("verify", "{{! a comment}}{{draft}} {{#verification_answers}}{{number}}{{question}}{{/verification_answers}}"),
    ])
    func templatesThatUseWhatTheStageProvidesCompile(stage: String, template: String) {
        let result = compile(stage: stage, prompt: "t.mustache", files: ["/work/flows/t.mustache": template])
        #expect(result.diagnostics == [])
    }

    @Test func theHintSaysWhichSectionAFieldBelongsTo() throws {
        let result = compile(stage: "evaluate", prompt: "t.mustache", files: ["/work/flows/t.mustache": "{{label}}"])
        let diagnostic = try #require(result.errors.first)
        #expect(diagnostic.message == "the template names `{{label}}`, which the `evaluate` stage does not provide")
        #expect(diagnostic.hint == "`label` is a field of `answer`: write it inside `{{#answer}}…{{/answer}}`")
        let shown = compile(stage: "evaluate", prompt: "t.mustache", files: ["/work/flows/t.mustache": "{{answer}}"])
        #expect(
            shown.errors.first?.hint == "show its parts inside a section: `{{#answer}}{{label}} {{text}}{{/answer}}`")
    }

    /// A one-line inline template written as it reads is located at the tag, in the file.
    @Test func inlineTemplatesAreLocatedAtTheirTag() {
        let result = compile(stage: "refine", prompt: #"{ system: "S {{prompt}}", user: "U {{answer}}" }"#)
        #expect(located(result) == ["E508 flows/w.yaml:7:58"])
    }

    /// A name an inline template uses twice is reported once (it was two E508 at the string's start); one
    /// whose text differs from the file (an escape) is located at its value.
    @Test func anInlineTemplateReportsEachNameOnce() {
        let twice = compile(stage: "propose", prompt: #"{ user: "{{topic}} and {{topic}}, {{topic}}" }"#)
        #expect(located(twice) == ["E508 flows/w.yaml:6:33"])
        let escaped = compile(stage: "propose", prompt: #"{ user: "\t{{topic}} {{topic}}" }"#)
        #expect(located(escaped) == ["E508 flows/w.yaml:6:32"])
    }

    @Test func userVariablesAreTextInEveryTemplate() {
        let template = "For {{audience}}: {{prompt}}"
        let without = compile(stage: "propose", prompt: "t.mustache", files: ["/work/flows/t.mustache": template])
        #expect(located(without) == ["E508 flows/t.mustache:1:5"])
        let with = compile(
            stage: "propose", prompt: "t.mustache", files: ["/work/flows/t.mustache": template],
            variables: ["audience": "kids"])
        #expect(with.diagnostics == [])
    }
}
