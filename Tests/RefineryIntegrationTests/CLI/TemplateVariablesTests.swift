import Refinery
import RefineryCompiler
import Testing

@Suite struct TemplateVariablesTests {
    @Test func userTagsAreReplacedAndEngineTagsKept() {
        let text = "For {{audience}} ({{ audience }}, {{{audience}}}): {{prompt}} {{#reviews}}x{{/reviews}}"
        #expect(
            TemplateVariables.substitute(["audience": "<kids>"], in: text)
                == "For <kids> (<kids>, <kids>): {{prompt}} {{#reviews}}x{{/reviews}}")
    }

    @Test func templatesInsideTheRepeatBlockAreSubstituted() throws {
        let template = PromptTemplate(system: "Tone: {{tone}}", user: "{{prompt}} for {{audience}}", sha256: "h")
        let workflow = Workflow(
            name: "w", members: [Member(id: "a", model: ModelRef(provider: "openai", model: "gpt-4o"))],
            stages: [.repeat([.propose(ProposeStage(common: StageCommon(prompt: template))), .close(CloseStage())])])
        let result = try TemplateVariables.apply(["tone": "dry", "audience": "experts"], to: workflow)
        guard case .repeat(let inner) = result.stages[0], case .propose(let propose) = inner[0] else {
            Issue.record("stage shape changed")
            return
        }
        #expect(propose.common.prompt?.system == "Tone: dry")
        #expect(propose.common.prompt?.user == "{{prompt}} for experts")
        #expect(propose.common.prompt?.sha256 == "h")
    }

    @Test(arguments: ["1abc", "a-b", "", "a b"])
    func badNamesAreRefused(name: String) {
        let workflow = Workflow(name: "w", members: [], stages: [])
        #expect(throws: InputError.self) { try TemplateVariables.apply([name: "x"], to: workflow) }
    }
}
