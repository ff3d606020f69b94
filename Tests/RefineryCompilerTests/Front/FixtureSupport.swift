import Foundation
import RefineryCompiler
import RefinerySyntax

/// Reads fixtures next to the test sources (no SwiftPM resources).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    static func names(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }

    /// A compiler whose bases and prompt files come from in-memory tables.
    static func compiler(
        bases: [String: String] = [:], files: [String: String] = [:], catalog: ModelCatalog = .builtin
    ) -> WorkflowCompiler {
        WorkflowCompiler(
            catalog: catalog,
            resolveExtends: { name in
                bases[name].map { WorkflowSource(displayName: "\(name).yaml", text: $0, path: "/base/\(name).yaml") }
            },
            readFile: { path in
                guard let text = files[path] else { throw MissingFile(path: path) }
                return Array(text.utf8)
            })
    }

    struct MissingFile: Error, CustomStringConvertible {
        var path: String
        var description: String { "no such file: \(path)" }
    }

    /// Bases used by the fixtures: `loop-a` and `loop-b` extend each other.
    static let fixtureBases = [
        "loop-a": "refinery: 1\nname: loop-a\nextends: loop-b\n",
        "loop-b": "refinery: 1\nname: loop-b\nextends: loop-a\n",
    ]
}
