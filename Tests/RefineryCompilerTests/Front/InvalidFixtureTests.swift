import RefineryCompiler
import RefinerySyntax
import Testing

/// One malformed workflow per file in `Fixtures/invalid`, with the errors it must produce.
struct InvalidFixture: Sendable, CustomStringConvertible {
    var file: String
    /// Every error expected, as `CODE@line:column`, in order.
    var errors: [String]
    /// The file the errors point into, when not the fixture itself (a base of an `extends` chain).
    var errorFile: String?

    init(_ file: String, _ errors: String..., in errorFile: String? = nil) {
        self.file = file
        self.errors = errors
        self.errorFile = errorFile
    }

    var description: String { file }
}

@Suite struct InvalidFixtureTests {
    static let table: [InvalidFixture] = [
        InvalidFixture("anonymize-not-bool.yaml", "E101@8:22"),
        InvalidFixture("bad-duration.yaml", "E107@4:20"),
        InvalidFixture("bad-evaluate-mode.yaml", "E106@7:27"),
        InvalidFixture("bad-member-name.yaml", "E203@5:11"),
        InvalidFixture("bad-name.yaml", "E104@2:7"),
        InvalidFixture("bad-reasoning-effort.yaml", "E106@7:35"),
        InvalidFixture("by-arbiter-no-arbiter.yaml", "E307@8:23"),
        InvalidFixture("by-unknown-member.yaml", "E306@5:20"),
        InvalidFixture("by-empty-list.yaml", "E306@5:20"),
        InvalidFixture("char-low-above-high.yaml", "E403@7:13"),
        InvalidFixture("close-outside-repeat.yaml", "E302@7:5"),
        InvalidFixture("confidence-no-synth.yaml", "E309@6:13"),
        InvalidFixture("confidence-threshold-range.yaml", "E401@5:49"),
        InvalidFixture("deep-nesting.yaml", "Y006@4:77"),
        InvalidFixture("duplicate-key.yaml", "Y004@4:1"),
        InvalidFixture("empty-models.yaml", "E204@3:9"),
        InvalidFixture("empty-repeat.yaml", "E305@6:5"),
        // The cycle closes in the base `loop-b`, whose `extends: loop-a` is reported.
        InvalidFixture("extends-cycle.yaml", "E501@3:10", in: "loop-b.yaml"),
        InvalidFixture("extends-unknown.yaml", "E500@3:10"),
        InvalidFixture("fallback-unknown-model.yaml", "E200@5:31"),
        InvalidFixture("format-2.yaml", "E103@1:11"),
        InvalidFixture("instances-zero.yaml", "E105@5:16"),
        InvalidFixture("iterations-not-mapping.yaml", "E101@4:13"),
        InvalidFixture("malformed-stage.yaml", "E301@5:5"),
        InvalidFixture("member-missing-model.yaml", "E100@5:5"),
        InvalidFixture("merge-key.yaml", "Y009@5:3"),
        InvalidFixture("negative-count.yaml", "E105@3:18"),
        InvalidFixture("min-above-max.yaml", "E400@4:20"),
        InvalidFixture("missing-format.yaml", "E100@1:1"),
        InvalidFixture("missing-name.yaml", "E100@1:1"),
        InvalidFixture("model-trailing-colon.yaml", "E201@5:5"),
        InvalidFixture("models-not-list.yaml", "E101@3:9"),
        InvalidFixture("multiple-documents.yaml", "Y005@7:1"),
        InvalidFixture("negative-budget.yaml", "E105@5:11"),
        InvalidFixture("nested-repeat.yaml", "E304@7:9"),
        InvalidFixture("non-utf8.yaml", "Y002@3:12"),
        InvalidFixture("output-synthesis-no-synth.yaml", "E308@7:9"),
        InvalidFixture("params-unknown-key.yaml", "E102@6:7"),
        InvalidFixture("prompt-file-missing.yaml", "E503@5:24"),
        InvalidFixture("quorum-too-large.yaml", "E205@4:19"),
        InvalidFixture("stability-with-confidence.yaml", "E402@7:3"),
        InvalidFixture("stage-options-not-mapping.yaml", "E101@5:14"),
        InvalidFixture("syntax-error.yaml", "Y003@4:7"),
        InvalidFixture("synthesize-no-arbiter.yaml", "E307@7:14"),
        InvalidFixture("temperature-range.yaml", "E105@5:28"),
        InvalidFixture("two-repeats.yaml", "E303@7:5"),
        InvalidFixture("undefined-alias.yaml", "Y007@3:9"),
        InvalidFixture("unknown-member-key.yaml", "E102@5:5"),
        InvalidFixture("unknown-model.yaml", "E200@3:18"),
        InvalidFixture("unknown-output.yaml", "E106@7:9"),
        InvalidFixture("unknown-stage.yaml", "E300@5:5"),
        InvalidFixture("unknown-strategy.yaml", "E106@5:13"),
        InvalidFixture("unknown-top-key.yaml", "E102@3:1"),
        InvalidFixture("verify-questions-zero.yaml", "E105@7:26"),
        InvalidFixture("vote-threshold-range.yaml", "E401@4:53"),
        InvalidFixture("zero-count.yaml", "E105@3:18"),
    ]

    @Test(arguments: table)
    func fixtureReportsItsErrors(_ fixture: InvalidFixture) throws {
        let bytes = try Fixtures.bytes("invalid/\(fixture.file)")
        let result = Fixtures.compiler(bases: Fixtures.fixtureBases)
            .compile(WorkflowSource(displayName: fixture.file, bytes: bytes))
        #expect(result.workflow == nil)
        let errors = result.errors.map { "\($0.code)@\($0.location?.line ?? 0):\($0.location?.column ?? 0)" }
        #expect(errors == fixture.errors)
        #expect(
            result.errors.allSatisfy { $0.file == (fixture.errorFile ?? fixture.file) && $0.hint?.isEmpty == false })
    }

    @Test func everyFixtureFileIsInTheTable() throws {
        let files = try Fixtures.names(in: "invalid")
        #expect(files == Self.table.map(\.file).sorted())
        #expect(files.count >= 30)
    }

    @Test func misspellingsGetSuggestions() throws {
        let cases = [
            ("unknown-top-key.yaml", "did you mean `models`?"),
            ("unknown-member-key.yaml", "did you mean `instances`?"),
            ("unknown-stage.yaml", "did you mean `propose`?"),
            ("unknown-strategy.yaml", "did you mean `vote-threshold`?"),
            ("unknown-model.yaml", "did you mean `claude`?"),
            ("by-unknown-member.yaml", "did you mean `claude`?"),
            ("params-unknown-key.yaml", "did you mean `max_tokens`?"),
        ]
        for (file, hint) in cases {
            let result = Fixtures.compiler().compile(
                WorkflowSource(displayName: file, bytes: try Fixtures.bytes("invalid/\(file)")))
            #expect(result.errors.first?.hint == hint, "\(file)")
        }
    }

    /// A one-instance entry's member id is its name: the list of choices names it once (it named
    /// `gpt-4o` and `gpt-4o-mini` twice each).
    @Test func theParticipantsHintNamesEachChoiceOnce() throws {
        let yaml = "refinery: 1\nname: fx\nmodels: [openai/gpt-4o, openai/o3:2]\nstages: [{propose: {by: [xyzzy]}}]\n"
        let result = Fixtures.compiler().compile(WorkflowSource(displayName: "by.yaml", bytes: Array(yaml.utf8)))
        #expect(
            result.errors.first?.hint
                == "use `members`, `arbiter`, or one of: `openai/gpt-4o`, `openai/o3`, `openai/o3#1`, `openai/o3#2`")
    }
}
