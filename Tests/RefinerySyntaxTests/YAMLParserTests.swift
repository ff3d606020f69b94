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

    @Test func collectionRangesSpanTheirContent() throws {
        let root = try #require(try parse("a:\n  b: [1, 2]\n  c: x\nd: y\n"))
        #expect(
            root.range
                == SourceRange(start: SourceLocation(line: 1, column: 1), end: SourceLocation(line: 5, column: 1)))
        let inner = try #require(root["a"])
        #expect(inner.range.start == SourceLocation(line: 2, column: 3))
        #expect(inner.range.end == SourceLocation(line: 4, column: 1))
        #expect(
            inner["b"]?.range
                == SourceRange(start: SourceLocation(line: 2, column: 6), end: SourceLocation(line: 2, column: 12)))
    }

    @Test func diagnosticsWithoutAFileName() {
        do {
            _ = try YAMLParser.parse(Array("a: [".utf8), file: nil)
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.map(\.file) == [nil])
            #expect(
                error.description == "<input>:1:5: error: YAML syntax error: did not find expected node content [Y003]")
        }
    }

    @Test func emptyInputIsNil() throws {
        #expect(try parse("") == nil)
        #expect(try parse("# only a comment\n\n") == nil)
        #expect(try parse("---\n") == nil)
    }
}

@Suite struct YAMLParserRefusalTests {
    private func diagnostic(_ bytes: [UInt8], limits: YAMLLimits = .default) -> Diagnostic? {
        do {
            _ = try YAMLParser.parse(bytes, file: "t.yaml", limits: limits)
            return nil
        } catch {
            return error.diagnostics.first
        }
    }

    private func diagnostic(_ text: String, limits: YAMLLimits = .default) -> Diagnostic? {
        diagnostic(Array(text.utf8), limits: limits)
    }

    @Test func billionLaughsIsRefused() throws {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let found = try #require(diagnostic(text))
        #expect(found.code == "Y008")
        // a0..a3 hold 10, 91, 820 and 7,381 nodes; expanding them charges 8,289 nodes, and the
        // first `*a3` (7,381 more) on line 5 exceeds the 10,000-node budget.
        #expect(found.location == SourceLocation(line: 5, column: 10))
        #expect(found.notes.first?.message == "`&a3` is defined here")
    }

    /// Few nodes, much text: a 100 KB scalar copied by aliases. 2,000 copies (200 MB from a file of 100 KB) were
    /// within the node budget, and each was checked and printed in full in its diagnostic (the validate ran for
    /// minutes). Ten copies are 1,000,000 bytes; the eleventh passes the 1 MiB text budget.
    @Test func longTextCopiedByAliasesIsRefused() throws {
        let anchored = "text: &t \"" + String(repeating: "m", count: 100_000) + "\"\ncopies: ["
        let text = anchored + Array(repeating: "*t", count: 2_000).joined(separator: ", ") + "]\n"
        let found = try #require(diagnostic(text))
        #expect(found.code == "Y008")
        #expect(found.message == "aliases expand to more than 1048576 bytes of text")
        #expect(found.location == SourceLocation(line: 2, column: 10 + 4 * 10))
        #expect(found.notes.first?.message == "`&t` is defined here")
        let within = anchored + Array(repeating: "*t", count: 10).joined(separator: ", ") + "]\n"
        #expect(diagnostic(within) == nil)
    }

    @Test func aliasesWithinBudgetExpand() throws {
        let root = try #require(try YAMLParser.parse(Array("base: &b {x: 1}\ncopy: *b\n".utf8), file: nil))
        #expect(root["copy"]?["x"]?.int == 1)
        // The copy is located at its alias (it was at the anchor, so its problems were reported there).
        #expect(root["copy"]?.range.start == SourceLocation(line: 2, column: 7))
        #expect(root["copy"]?["x"]?.range.start == SourceLocation(line: 1, column: 14))
    }

    @Test func undefinedAlias() throws {
        let found = try #require(diagnostic("a: *nope\n"))
        #expect(found.code == "Y007")
        #expect(found.location == SourceLocation(line: 1, column: 4))
    }

    @Test func recursiveAliasIsUndefined() throws {
        let found = try #require(diagnostic("a: &x [1, *x]\n"))
        #expect(found.code == "Y007")
        #expect(found.location == SourceLocation(line: 1, column: 11))
    }

    @Test func invalidUTF8ReportsFirstBadByte() throws {
        let bytes = Array("name: ok\nsystem: caf".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        let found = try #require(diagnostic(bytes))
        #expect(found.code == "Y002")
        #expect(found.location == SourceLocation(line: 2, column: 12))
        #expect(found.message == "the file is not valid UTF-8 (byte 0xC3)")
    }

    /// A file saved as UTF-16 (Windows editors' "Unicode") is named as such, with where to change it: it was only
    /// "byte 0xFF", which sends a user looking for a stray character.
    @Test func aUTF16FileIsNamedAsSuch() throws {
        for mark: [UInt8] in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            let bytes = mark + Array("name: ok\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            let found = try #require(diagnostic(bytes))
            #expect(found.code == "Y002")
            #expect(found.message.hasSuffix(": it is UTF-16"), "\(found.message)")
            #expect(found.hint?.contains("not UTF-16") == true, "\(String(describing: found.hint))")
        }
    }

    @Test func validMultibyteTextIsAccepted() throws {
        let root = try #require(try YAMLParser.parse(Array("s: café — 日本 🎉\nt: x\n".utf8), file: nil))
        #expect(root["s"]?.string == "café — 日本 🎉")
        #expect(root.mapping?[1].key.range.start == SourceLocation(line: 2, column: 1))
    }

    @Test func oversizedInputIsRefused() throws {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_048_577)
        let found = try #require(diagnostic(bytes))
        #expect(found.code == "Y001")
        #expect(found.message == "the file is 1048577 bytes; the limit is 1048576 bytes")
    }

    @Test func deepNestingIsRefused() throws {
        let text = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let found = try #require(diagnostic(text))
        #expect(found.code == "Y006")
        #expect(found.location == SourceLocation(line: 1, column: 65))
    }

    @Test func nestingAtTheLimitIsAccepted() throws {
        let text = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try YAMLParser.parse(Array(text.utf8), file: nil) != nil)
    }

    @Test func duplicateKeyPointsAtBoth() throws {
        let found = try #require(diagnostic("name: a\nmodels: []\nname: b\n"))
        #expect(found.code == "Y004")
        #expect(found.location == SourceLocation(line: 3, column: 1))
        #expect(
            found.notes == [
                Diagnostic.Note(message: "`name` is first defined here", location: SourceLocation(line: 1, column: 1))
            ])
    }

    @Test func duplicateKeyInNestedFlowMapping() throws {
        let found = try #require(diagnostic("limits: { retries: 1, retries: 2 }\n"))
        #expect(found.code == "Y004")
        #expect(found.location == SourceLocation(line: 1, column: 23))
    }

    @Test func multipleDocumentsAreRefused() throws {
        let found = try #require(diagnostic("a: 1\n---\nb: 2\n"))
        #expect(found.code == "Y005")
        #expect(found.location == SourceLocation(line: 2, column: 1))
    }

    @Test func mergeKeyIsRefused() throws {
        let found = try #require(diagnostic("base: &b {x: 1}\nchild:\n  <<: *b\n"))
        #expect(found.code == "Y009")
        #expect(found.location == SourceLocation(line: 3, column: 3))
    }

    @Test func syntaxErrorReportsProblemAndContext() throws {
        let found = try #require(diagnostic("stages: [propose, refine\nname: x\n"))
        #expect(found.code == "Y003")
        #expect(found.message == "YAML syntax error: did not find expected ',' or ']'")
        #expect(found.location == SourceLocation(line: 2, column: 5))
        #expect(
            found.notes == [
                Diagnostic.Note(message: "while parsing a flow sequence", location: SourceLocation(line: 1, column: 9))
            ])
    }

    @Test func tabIndentationIsASyntaxError() throws {
        let found = try #require(diagnostic("a:\n\tb: 1\n"))
        #expect(found.code == "Y003")
        #expect(found.location?.line == 2)
    }

    @Test func controlCharacterIsLocated() throws {
        let found = try #require(diagnostic(Array("a: 1\nb: x".utf8) + [0x07] + Array("\n".utf8)))
        #expect(found.code == "Y003")
        #expect(found.location == SourceLocation(line: 2, column: 5))
    }
}

@Suite struct YAMLScalarTests {
    private func value(_ text: String) throws -> YAMLNode {
        let root = try #require(try YAMLParser.parse(Array("v: \(text)\n".utf8), file: nil))
        return try #require(root["v"])
    }

    @Test(arguments: [("true", true), ("false", false), ("True", true), ("FALSE", false)])
    func booleans(text: String, expected: Bool) throws {
        #expect(try value(text).bool == expected)
    }

    @Test(arguments: ["yes", "no", "on", "off", "y", "'true'", "\"false\"", "1"])
    func yaml11BooleansAreNotBooleans(text: String) throws {
        #expect(try value(text).bool == nil)
    }

    @Test(arguments: [("42", 42), ("-7", -7), ("+3", 3), ("0x1F", 31), ("0o17", 15)])
    func integers(text: String, expected: Int) throws {
        #expect(try value(text).int == expected)
    }

    @Test(arguments: ["4.5", "1e3", "'42'", "\"42\"", "42abc", "0x", "1 2", "1_000"])
    func notIntegers(text: String) throws {
        #expect(try value(text).int == nil)
    }

    @Test(arguments: [("2.50", 2.5), ("8", 8.0), ("-1.5e2", -150.0), (".5", 0.5), ("1.", 1.0)])
    func doubles(text: String, expected: Double) throws {
        #expect(try value(text).double == expected)
    }

    @Test func infinityAndNaN() throws {
        #expect(try value(".inf").double == .infinity)
        #expect(try value("-.Inf").double == -.infinity)
        #expect(try value(".nan").double?.isNaN == true)
        #expect(try value("'1.5'").double == nil)
        #expect(try value("1.2.3").double == nil)
    }

    @Test(arguments: ["null", "~", "Null", "NULL", ""])
    func nulls(text: String) throws {
        let node = try value(text)
        #expect(node.isNull)
        #expect(node.string == nil)
    }

    @Test func quotedNullIsAString() throws {
        #expect(try value("'null'").isNull == false)
        #expect(try value("'null'").string == "null")
        #expect(try value("\"\"").string == "")
    }

    @Test func stylesAndTags() throws {
        let text =
            "a: plain\nb: 'single'\nc: \"double\"\nd: |\n  lit\ne: >\n  fold\n  ed\nf: !!str 12\ng: !!int \"7\"\n"
        let root = try #require(try YAMLParser.parse(Array(text.utf8), file: nil))
        let styles = root.mapping?.map { $0.value.scalar?.style }
        #expect(styles == [.plain, .singleQuoted, .doubleQuoted, .literal, .folded, .plain, .doubleQuoted])
        #expect(root["d"]?.string == "lit\n")
        #expect(root["e"]?.string == "fold ed\n")
        #expect(root["f"]?.tag == "tag:yaml.org,2002:str")
        #expect(root["f"]?.int == nil)
        #expect(root["g"]?.int == 7)
    }

    @Test func anchorsAreRecorded() throws {
        let root = try #require(try YAMLParser.parse(Array("a: &x 1\n".utf8), file: nil))
        #expect(root["a"]?.anchor == "x")
    }
}
