// Inputs editors and hostile files produce that the happy-path tests do not: a byte order
// mark, CRLF line endings, tabs, very deep sequences, huge scalars, Unicode line separators
// and direction overrides. Each is either parsed with correct locations or refused with a
// located diagnostic; nothing crashes.

import RefinerySyntax
import Testing

@Suite struct YAMLRobustnessTests {
    private func parse(_ text: String) throws(YAMLSyntaxError) -> YAMLNode? {
        try YAMLParser.parse(Array(text.utf8), file: "t.yaml")
    }

    private func refusal(_ bytes: [UInt8]) -> Diagnostic? {
        do {
            _ = try YAMLParser.parse(bytes, file: "t.yaml")
            return nil
        } catch {
            return error.diagnostics.first
        }
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let root = try #require(try parse("\u{FEFF}refinery: 1\nname: x\n"))
        #expect(root["refinery"]?.int == 1)
        #expect(root.mapping?.map(\.key.string) == ["refinery", "name"])
        #expect(root.mapping?[1].key.range.start == SourceLocation(line: 2, column: 1))
    }

    @Test func crlfLineEndingsKeepLinesAndValuesClean() throws {
        let root = try #require(try parse("a: 1\r\nb: two words\r\nc:\r\n  - x\r\n  - y\r\n"))
        #expect(root["b"]?.string == "two words")
        #expect(root["c"]?.sequence?.map(\.string) == ["x", "y"])
        #expect(root.mapping?[1].key.range.start == SourceLocation(line: 2, column: 1))
        #expect(root["c"]?.sequence?[1].range.start == SourceLocation(line: 5, column: 5))
    }

    @Test func crlfSyntaxErrorIsLocatedOnItsLine() throws {
        let found = try #require(refusal(Array("a: 1\r\nb: [x\r\nc: 2\r\n".utf8)))
        #expect(found.code == "Y003")
        #expect((found.location?.line ?? 0) >= 2 && (found.location?.line ?? 0) <= 4)
    }

    @Test func tabsAfterAKeyAreSeparationButNotIndentation() throws {
        let root = try #require(try parse("a:\t1\nb: x\t# comment\n"))
        #expect(root["a"]?.int == 1)
        #expect(root["b"]?.string == "x")
        let found = try #require(refusal(Array("a:\n\t- x\n".utf8)))
        #expect(found.code == "Y003")
        #expect(found.location?.line == 2)
    }

    @Test(arguments: [
        (String(repeating: "- ", count: 65) + "x\n", "Y006"),
        (String(repeating: "[", count: 10_000), "Y006"),
        (String(repeating: "{a: ", count: 10_000), "Y006"),
        ((0..<100).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined() + "\(String(repeating: " ", count: 100))v\n", "Y006"),
    ])
    func deepStructuresAreRefusedByDepth(text: String, code: String) throws {
        let found = try #require(refusal(Array(text.utf8)))
        #expect(found.code == code)
        #expect(found.location?.line ?? 0 >= 1)
    }

    @Test func sixtyFourBlockSequenceLevelsAreAccepted() throws {
        var node = try #require(try parse(String(repeating: "- ", count: 64) + "x\n"))
        var depth = 1
        while let inner = node.sequence?.first {
            node = inner
            depth += 1
        }
        #expect(depth == 65)  // 64 sequences, then the scalar
        #expect(node.string == "x")
    }

    @Test func hugeScalarsUnderTheLimitParse() throws {
        let big = String(repeating: "é", count: 400_000)  // 800,000 bytes
        let root = try #require(try parse("k: \(big)\nnext: 1\n"))
        #expect(root["k"]?.string?.count == 400_000)
        #expect(root.mapping?[1].key.range.start == SourceLocation(line: 2, column: 1))
        let quoted = try #require(try parse("k: \"\(String(repeating: "\\u00e9", count: 100_000))\"\n"))
        #expect(quoted["k"]?.string?.unicodeScalars.count == 100_000)
    }

    @Test func manyKeysAreCheckedForDuplicatesInLinearTime() throws {
        // 60,000 keys (≈ 700 KB): a quadratic duplicate check would take minutes.
        let text = (0..<60_000).map { "k\($0): \($0)\n" }.joined() + "k17: again\n"
        let found = try #require(refusal(Array(text.utf8)))
        #expect(found.code == "Y004")
        #expect(found.location == SourceLocation(line: 60_001, column: 1))
        #expect(found.notes.first?.location == SourceLocation(line: 18, column: 1))
    }

    @Test func directionOverridesAndZeroWidthCharactersStayInValues() throws {
        let root = try #require(try parse("a: \u{202E}evil\u{200B}\nb: \u{1F600}\nc: 1\n"))
        #expect(root["a"]?.string == "\u{202E}evil\u{200B}")
        #expect(root["b"]?.string == "\u{1F600}")
        #expect(root.mapping?[2].key.range.start == SourceLocation(line: 3, column: 1))
        // Columns count Unicode scalars: the emoji is one column.
        #expect(try #require(try parse("\u{1F600}: x\n"))["\u{1F600}"]?.range.start == SourceLocation(line: 1, column: 4))
    }

    @Test(arguments: ["\u{2028}", "\u{2029}", "\u{85}"])
    func unicodeLineBreaksNeverCrashAndStayLocated(separator: String) throws {
        // libyaml (YAML 1.1) treats these as line breaks; whichever way, the result is a tree or
        // a located refusal, and a following key is found at a line at or after 2.
        let text = "a: x\(separator)y\nb: 1\n"
        do throws(YAMLSyntaxError) {
            let root = try parse(text)
            #expect(root?["b"]?.int == 1)
            #expect((root?.mapping?.last?.key.range.start.line ?? 0) >= 2)
        } catch {
            #expect(error.diagnostics.first?.location != nil)
        }
    }

    @Test(arguments: [[0xEF, 0xBB], [0xFE, 0xFF, 0x00, 0x61], [0xFF, 0xFE, 0x61, 0x00], [0xC0, 0x80], [0xED, 0xA0, 0x80]])
    func otherEncodingsAndOverlongFormsAreNotUTF8(prefix: [UInt8]) throws {
        let found = try #require(refusal(prefix + Array(": x\n".utf8)))
        #expect(found.code == "Y002")
        #expect(found.location == SourceLocation(line: 1, column: 1))
    }
}
