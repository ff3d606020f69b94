import Foundation
import Refinery
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import RefineryStore
import RefinerySyntax
import Testing

/// Every error type of the package is a `RefineryError`: one code, message, cause and location
/// scaffolding, one rendering, and the codes printed and recorded as before.
@Suite struct ErrorScaffoldingTests {
    struct Underlying: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    @Test func everyCodedErrorTypeCarriesItsCodeMessageAndCause() {
        let errors: [any RefineryError] = [
            StoreError(code: .newerSchema, message: "upgrade Refinery", cause: Underlying()),
            InputError(code: .notUTF8, message: "save the file as UTF-8"),
            EngineError(code: .invalidWorkflow, message: "add a member"),
            ProviderError(code: .missingCredentials, message: "set OPENAI_API_KEY", provider: "openai", cause: "401"),
            WorkflowLibraryError(code: .notFound, message: "no workflow 'x'", hint: "refinery list"),
        ]
        // The codes as the JSON output, the ledger and the CLI have always written them.
        #expect(
            errors.map(\.errorCode) == [
                "newer_schema", "not_utf8", "invalid_workflow", "missing_credentials", "workflow.not-found",
            ])
        #expect(errors.map(\.message).allSatisfy { !$0.isEmpty })
        #expect(errors.map(\.causeDescription) == ["disk full", nil, nil, "401", nil])
        // Their one-line texts are unchanged, and unlocated errors render as that line.
        #expect(
            errors.map(\.description) == [
                "upgrade Refinery (disk full)", "save the file as UTF-8", "add a member (invalid_workflow)",
                "openai: set OPENAI_API_KEY (missing_credentials); caused by: 401",
                "no workflow 'x' (refinery list) [workflow.not-found]",
            ])
        #expect(errors.map { $0.rendered() } == errors.map(\.description))
        #expect(ProviderError.Code.timeout.isTransient && !ProviderError.Code.authentication.isTransient)
    }

    @Test func errorsFromAUsersFileAreLocatedAndRenderTheirSourceLine() throws {
        let text = "providers: []\nbogus: 1\n"
        let located: any RefineryError = try #require(throws: ProvidersConfigError.self) {
            try ProvidersConfig.parse(text: text, file: "p.yaml")
        }
        #expect(located.errorCode == "providers.invalid")
        #expect(located.diagnostics.first?.location != nil)
        let rendered = located.rendered(sources: ["p.yaml": text])
        #expect(rendered.contains("p.yaml:2:1"))
        #expect(rendered.contains("^"))

        let yaml: any RefineryError = try #require(throws: YAMLSyntaxError.self) {
            _ = try YAMLParser.parse(Array("a: [".utf8), file: "w.yaml")
        }
        #expect(yaml.diagnostics.first?.file == "w.yaml")
        #expect(yaml.description == yaml.diagnostics.map(\.description).joined(separator: "\n"))
    }
}
