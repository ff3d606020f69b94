import Foundation
import Testing

@testable import RefineryCompiler

/// `schemas/workflow.schema.json` against the shipped workflows, the examples and invalid fixtures,
/// validated by python3's `jsonschema` (YAML read with PyYAML).
@Suite struct WorkflowSchemaTests {
    static let root = BuiltinWorkflowsTests.root
    static let fixtures = root.appendingPathComponent("Tests/RefineryCompilerTests/Graph/SchemaFixtures")

    /// Prints `OK path` or `FAIL path: message` per file; exits 3 when a module is missing.
    static let script = """
        import json, sys
        try:
            import yaml, jsonschema
        except ImportError as error:
            print("missing python module: %s" % error.name)
            sys.exit(3)
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for path in sys.argv[2:]:
            errors = list(validator.iter_errors(yaml.safe_load(open(path))))
            print(("FAIL %s: %s" % (path, errors[0].message)) if errors else ("OK " + path))
        """

    struct Validation {
        var passed: Set<String> = []
        var failed: [String: String] = [:]
    }

    /// Why the validator cannot run here, or `nil` when it can.
    static let unavailableReason: String? = {
        do {
            let (status, output) = try runPython(["-c", "import yaml, jsonschema"])
            return status == 0 ? nil : "python3 lacks jsonschema or PyYAML: \(output)"
        } catch {
            return "python3 is not installed: \(error)"
        }
    }()

    static func runPython(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func validate(_ files: [URL]) throws -> Validation {
        let schema = root.appendingPathComponent("schemas/workflow.schema.json").path
        let (status, output) = try runPython(["-c", script, schema] + files.map(\.path))
        #expect(status == 0, "\(output)")
        var result = Validation()
        for line in output.split(separator: "\n") {
            if line.hasPrefix("OK ") {
                result.passed.insert(URL(fileURLWithPath: String(line.dropFirst(3))).lastPathComponent)
            } else if line.hasPrefix("FAIL "), let colon = line.range(of: ": ") {
                let path = String(line[line.index(line.startIndex, offsetBy: 5)..<colon.lowerBound])
                result.failed[URL(fileURLWithPath: path).lastPathComponent] = String(line[colon.upperBound...])
            }
        }
        return result
    }

    static func yamlFiles(_ folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }

    @Test(.enabled(if: unavailableReason == nil, "\(unavailableReason ?? "")"))
    func shippedWorkflowsAndExamplesValidate() throws {
        let files =
            try Self.yamlFiles(Self.root.appendingPathComponent("workflows"))
            + Self.yamlFiles(Self.root.appendingPathComponent("examples"))
        #expect(files.count >= 7 + 9)
        let result = try Self.validate(files)
        #expect(result.failed == [:])
        #expect(result.passed.count == files.count)
    }

    @Test(.enabled(if: unavailableReason == nil, "\(unavailableReason ?? "")"))
    func invalidFixturesFail() throws {
        let files = try Self.yamlFiles(Self.fixtures)
        let result = try Self.validate(files)
        #expect(files.count == 13)
        #expect(result.passed == [])
        #expect(result.failed.count == files.count)
        #expect(result.failed["unknown-key.yaml"]?.contains("'modles' was unexpected") == true)
        #expect(result.failed["bad-name.yaml"] == "'My Workflow' does not match '^[a-z0-9][a-z0-9_-]*$'")
        #expect(result.failed["missing-format-version.yaml"] == "'refinery' is a required property")
        #expect(result.failed["prompt-outside-folder.yaml"]?.hasPrefix("{'propose': {'prompt': '../../etc/passwd'}} is not valid") == true)
    }

    @Test func builtinsCarryTheSchemaHeaderAndFormatVersion() {
        for builtin in BuiltinWorkflows.all {
            #expect(
                builtin.text.hasPrefix("# yaml-language-server: $schema=../schemas/workflow.schema.json\nrefinery: 1\n")
            )
            #expect(builtin.text.contains("\nname: \(builtin.name)\n"))
            #expect(builtin.text.contains("\ndescription: "))
        }
    }
}
