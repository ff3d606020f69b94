import Foundation
import Testing

@testable import RefineryCompiler

/// The shipped workflows and examples through the YAML front end, and the schema kept in sync
/// with the keys and words the front end accepts.
@Suite struct WorkflowCompileTests {
    static let root = BuiltinWorkflowsTests.root
    static let library = WorkflowLibrary(folders: [], currentDirectory: root.path)

    static func compile(_ url: URL) -> CompileResult {
        let located = try? library.locate(url.path)
        guard let located else { return CompileResult(workflow: nil, diagnostics: []) }
        return library.compiler().compile(located.source)
    }

    static var shippedFiles: [URL] {
        get throws {
            try WorkflowSchemaTests.yamlFiles(root.appendingPathComponent("workflows"))
                + WorkflowSchemaTests.yamlFiles(root.appendingPathComponent("examples"))
        }
    }

    @Test func shippedWorkflowsAndExamplesCompileClean() throws {
        for url in try Self.shippedFiles {
            let result = Self.compile(url)
            #expect(result.workflow != nil, "\(url.lastPathComponent)")
            #expect(result.diagnostics.map { String(describing: $0) } == [], "\(url.lastPathComponent)")
            guard let workflow = result.workflow else { continue }
            let ids = ExecutionGraph(workflow: workflow).allNodes.map(\.id)
            #expect(!ids.isEmpty && Set(ids).count == ids.count, "\(url.lastPathComponent)")
        }
    }

    @Test func rolesExampleSelectsMembersByEntryName() throws {
        let result = Self.compile(Self.root.appendingPathComponent("examples/roles-and-fallbacks.yaml"))
        let workflow = try #require(result.workflow)
        #expect(workflow.members.map(\.id) == ["skeptic", "optimist", "gemini#1", "gemini#2"])
        let graph = ExecutionGraph(workflow: workflow)
        #expect(graph.prelude.stages[1].nodes.map(\.id) == ["s1.evaluate[skeptic]", "s1.evaluate[optimist]"])
        #expect(graph.callCount(rounds: 0) == 4 + 2 + 4 + 1)
    }

    @Test func invalidFixturesFailToCompile() throws {
        for url in try WorkflowSchemaTests.yamlFiles(WorkflowSchemaTests.fixtures) {
            let result = Self.compile(url)
            #expect(result.hasErrors, "\(url.lastPathComponent) compiled")
        }
    }

    @Test(arguments: BuiltinGraphTests.table)
    func builtinGraphFromYAML(row: BuiltinGraphTests.Row) throws {
        let workflow = try #require(try Self.library.compile(row.name).workflow)
        let graph = ExecutionGraph(workflow: workflow)
        let expected = ExecutionGraph(workflow: GraphFixtures.builtin(row.name))
        #expect(graph.allNodes.map(\.id) == expected.allNodes.map(\.id))
        #expect(graph.allNodes.map(\.dependencies) == expected.allNodes.map(\.dependencies))
        let estimate = WorkflowEstimate.estimate(workflow: workflow, graph: graph, catalog: .builtin, promptTokens: 50)
        #expect(estimate.calls == EstimateRange(min: row.calls.lowerBound, max: row.calls.upperBound))
        #expect(estimate.unpricedModels == [])
    }

    @Test(arguments: [("consensus-classic", 12), ("consensus", 9)])
    func oneRoundFromYAML(name: String, calls: Int) throws {
        let workflow = try #require(try Self.library.compile(name).workflow)
        #expect(workflow.members.map(\.id) == ["claude", "codex", "gemini"])
        let estimate = WorkflowEstimate.estimate(workflow: workflow, catalog: .builtin, promptTokens: 100)
        #expect(estimate.perRound.first?.calls == calls)
        // `stability: 2`: the same leader twice, so no run stops before round 2.
        #expect(estimate.calls.min == 2 * calls)
    }

    // MARK: - Schema ⇄ compiler

    static func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("schemas/workflow.schema.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Follows a path of object keys and array indexes.
    static func at(_ value: Any?, _ path: [Any]) -> Any? {
        var current = value
        for step in path {
            if let key = step as? String { current = (current as? [String: Any])?[key] }
            if let index = step as? Int {
                guard let array = current as? [Any], array.indices.contains(index) else { return nil }
                current = array[index]
            }
        }
        return current
    }

    static func keys(_ value: Any?, _ path: [Any]) -> Set<String> {
        Set(((at(value, path) as? [String: Any]) ?? [:]).keys)
    }

    static func strategyVariants(_ schema: [String: Any]) -> [[String: Any]] {
        (at(schema, ["properties", "convergence", "oneOf"]) as? [[String: Any]]) ?? []
    }

    static func schemaKeys(_ section: String, _ schema: [String: Any]) -> Set<String> {
        let semantic = strategyVariants(schema).first {
            (at($0, ["properties", "strategy", "const"]) as? String) == "semantic"
        }
        switch section {
        case "": return keys(schema, ["properties"])
        case "models[]": return keys(schema, ["$defs", "member", "oneOf", 1, "properties"])
        case "arbiter": return keys(schema, ["properties", "arbiter", "oneOf", 1, "properties"])
        case "params": return keys(schema, ["$defs", "params", "properties"])
        case "iterations", "limits": return keys(schema, ["properties", section, "properties"])
        case "convergence": return strategyVariants(schema).reduce(into: []) { $0.formUnion(keys($1, ["properties"])) }
        case "prompt": return keys(schema, ["$defs", "prompt", "oneOf", 1, "properties"])
        default:
            if section.hasPrefix("convergence.") {
                return keys(semantic, ["properties", String(section.dropFirst(12)), "properties"])
            }
            let stage = section.dropFirst("stages.".count)
            return keys(schema, ["$defs", "\(stage)Options", "oneOf", 1, "properties"])
        }
    }

    static func schemaWords(_ path: String, _ schema: [String: Any]) -> Set<String> {
        func strings(_ value: Any?) -> Set<String> { Set((value as? [String]) ?? []) }
        switch path {
        case "convergence.strategy":
            return Set(strategyVariants(schema).compactMap { at($0, ["properties", "strategy", "const"]) as? String })
        case "convergence.mode":
            let semantic = strategyVariants(schema).first { !keys($0, ["properties", "mode"]).isEmpty }
            return strings(at(semantic, ["properties", "mode", "enum"]))
        case "stages":
            return strings(at(schema, ["$defs", "stage", "oneOf", 0, "enum"]))
                .union(keys(schema, ["$defs", "stage", "oneOf", 1, "properties"]))
        case "output": return strings(at(schema, ["properties", "output", "enum"]))
        case "params.reasoning_effort":
            return strings(at(schema, ["$defs", "params", "properties", "reasoning_effort", "enum"]))
        default:  // stages.STAGE.KEY
            let parts = path.split(separator: ".").map(String.init)
            return strings(at(schema, ["$defs", "\(parts[1])Options", "oneOf", 1, "properties", parts[2], "enum"]))
        }
    }

    @Test func schemaHasExactlyTheKeysTheCompilerAccepts() throws {
        let schema = try Self.schema()
        for (section, accepted) in WorkflowCompiler.acceptedKeys.sorted(by: { $0.key < $1.key }) {
            #expect(Self.schemaKeys(section, schema) == Set(accepted), "section `\(section)`")
        }
    }

    @Test func schemaHasExactlyTheWordsTheCompilerAccepts() throws {
        let schema = try Self.schema()
        for (path, accepted) in WorkflowCompiler.acceptedValues.sorted(by: { $0.key < $1.key }) {
            #expect(Self.schemaWords(path, schema) == Set(accepted), "`\(path)`")
        }
    }
}
