import RefinerySyntax
import Testing

@Suite struct YAMLParserTests {
    private func parse(_ text: String, limits: YAMLLimits = .default) throws(YAMLSyntaxError) -> YAMLNode? {
        try YAMLParser.parse(Array(text.utf8), file: "t.yaml", limits: limits)
    }

    private func failure(_ text: String, limits: YAMLLimits = .default) -> Diagnostic? {
        failure(bytes: Array(text.utf8), limits: limits)
    }

    private func failure(bytes: [UInt8], limits: YAMLLimits = .default) -> Diagnostic? {
        do {
            _ = try YAMLParser.parse(bytes, file: "t.yaml", limits: limits)
            return nil
        } catch {
            return error.diagnostics.first
        }
    }

    @Test func mappingKeepsOrderAndRanges() throws {
        let root = try #require(try parse("b: 1\na:\n  - x\n  - 'y'\n"))
        let pairs = try #require(root.mapping)
        #expect(pairs.map { $0.key.scalar?.value } == ["b", "a"])
        #expect(pairs[0].key.range.start == SourceLocation(line: 1, column: 1))
        #expect(pairs[0].value.range.start == SourceLocation(line: 1, column: 4))
        #expect(pairs[0].value.range.end == SourceLocation(line: 1, column: 5))
        let items = try #require(pairs[1].value.sequence)
        #expect(items[1].range.start == SourceLocation(line: 4, column: 5))
        #expect(items[1].scalar == YAMLScalar(value: "y", style: .singleQuoted))
    }

    @Test func emptyInputIsNil() throws {
        #expect(try parse("") == nil)
        #expect(try parse("# only a comment\n\n") == nil)
        #expect(try parse("---\n") == nil)
    }
}
