import Foundation
import Testing

@testable import RefineryCompiler

/// Keeps `Sources/RefineryCompiler/Library/BuiltinWorkflows.swift` in sync with `workflows/*.yaml`.
@Suite struct BuiltinWorkflowsTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let generatedPath = root.appendingPathComponent("Sources/RefineryCompiler/Library/BuiltinWorkflows.swift")

    static func yamlFiles(in folder: String) throws -> [(name: String, text: String)] {
        let url = root.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { $0.hasSuffix(".yaml") }
            .map { file in
                (String(file.dropLast(5)), try String(contentsOf: url.appendingPathComponent(file), encoding: .utf8))
            }
            .sorted { $0.0 < $1.0 }
    }

    /// The generated Swift source for `files`.
    static func generate(_ files: [(name: String, text: String)]) -> String {
        var out = """
            // GENERATED from workflows/*.yaml by BuiltinWorkflowsTests. Do not edit: change the YAML files,
            // then run `REFINERY_RECORD=1 REFINERY_LAYER=compiler swift test --filter BuiltinWorkflowsTests`.

            package enum BuiltinWorkflows {
                /// Every built-in workflow, sorted by name.
                package static let all: [BuiltinWorkflow] = [

            """
        for file in files {
            // Enough `#`s that the text cannot close the raw string early.
            var hashes = "#"
            while file.text.contains("\"\"\"" + hashes) { hashes += "#" }
            out += "        BuiltinWorkflow(\n"
            out += "            name: \"\(file.name)\",\n"
            // Indented like the code around it; a multi-line literal strips the closing delimiter's indent.
            let indent = String(repeating: " ", count: 16)
            let body = file.text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : indent + $0 }.joined(separator: "\n")
            out += "            text: \(hashes)\"\"\"\n\(body)\n\(indent)\"\"\"\(hashes)\n"
            out += "        ),\n"
        }
        out += "    ]\n}\n"
        return out
    }

    @Test func generatedFileMatchesWorkflowsFolder() throws {
        let expected = Self.generate(try Self.yamlFiles(in: "workflows"))
        let current = try String(contentsOf: Self.generatedPath, encoding: .utf8)
        if ProcessInfo.processInfo.environment["REFINERY_RECORD"] == "1", current != expected {
            try expected.write(to: Self.generatedPath, atomically: true, encoding: .utf8)
            return
        }
        #expect(
            current == expected,
            "BuiltinWorkflows.swift is out of date: run REFINERY_RECORD=1 REFINERY_LAYER=compiler swift test")
    }

    @Test func embeddedTextsEqualTheFiles() throws {
        let files = try Self.yamlFiles(in: "workflows")
        #expect(BuiltinWorkflows.all.map(\.name) == files.map(\.name))
        #expect(BuiltinWorkflows.all.map(\.text) == files.map(\.text))
    }

    @Test func theNineBuiltinsOfTheDesign() {
        #expect(
            BuiltinWorkflows.all.map(\.name) == [
                "consensus", "consensus-classic", "consortium", "debate", "moa", "self-consistency", "self-refine",
                "verify", "vote",
            ])
    }
}
