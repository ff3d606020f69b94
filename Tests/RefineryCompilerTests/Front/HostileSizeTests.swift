import RefineryCompiler
import RefinerySyntax
import Testing

/// Files within the 1 MiB limit made to make the compiler and the renderer work hard: diagnosed and rendered in
/// seconds (a debug build), where each took a minute or more.
@Suite struct HostileSizeTests {
    private func diagnose(_ yaml: String) -> (codes: [String], text: String, elapsed: Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = WorkflowCompiler().compile(yaml: yaml)
        let text = DiagnosticRenderer().render(result.diagnostics, source: yaml)
        return (result.diagnostics.map(\.code), text, start.duration(to: clock.now))
    }

    /// A name of 400 KB where a model and a stage go (a file pasted in): "did you mean" measured its edit distance
    /// to every alias, priced model and stage name, 22 s for the model alone.
    @Test func aHugeUnknownNameIsDiagnosedAtOnce() {
        let name = String(repeating: "m", count: 400_000)
        let (codes, text, elapsed) = diagnose("refinery: 1\nname: huge\nmodels: [\(name)]\nstages: [\(name)]\n")
        #expect(codes == ["E200", "E300"])
        #expect(!text.contains("did you mean"))
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }

    /// Thousands of problems on one line of 300 KB (a workflow written as one flow sequence): each excerpt was made
    /// from the whole line, expanded again for each problem (a minute for 3,000).
    @Test func thousandsOfProblemsOnOneLongLineRenderAtOnce() throws {
        let models = (0..<3_000).map { "nope-model-number-\($0)-" + String(repeating: "x", count: 80) }
        let (codes, text, elapsed) = diagnose(
            "refinery: 1\nname: wide\nmodels: [\(models.joined(separator: ", "))]\nstages: [propose]\n")
        #expect(codes.filter { $0 == "E200" }.count == 3_000)
        #expect(elapsed < .seconds(10), "took \(elapsed)")
        // The last one's excerpt: a window around its column, cut on both sides, the caret under its name.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let header = try #require(lines.lastIndex { $0.contains("unknown model `nope-model-number-2999-") })
        let excerpt = lines[header + 1]
        let caret = lines[header + 2]
        #expect(excerpt.hasPrefix(" 3 | …"), "\(excerpt)")
        #expect(excerpt.hasSuffix("…"), "\(excerpt)")
        let column = try #require(caret.firstIndex(of: "^"))
        let offset = caret.distance(from: caret.startIndex, to: column)
        #expect(excerpt.dropFirst(offset).hasPrefix("nope-model-number-2999-"), "\(excerpt)\n\(caret)")
    }
}
