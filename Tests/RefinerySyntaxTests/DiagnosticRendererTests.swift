import RefinerySyntax
import Testing

@Suite struct DiagnosticRendererTests {
    let source = "refinery: 1\nname: demo\nmodles:\n  - claude\n"

    @Test func rendersHeaderExcerptCaretHintAndNote() {
        let diagnostic = Diagnostic(
            code: "E102", message: "unknown key `modles` in the workflow", file: "demo.yaml",
            location: SourceLocation(line: 3, column: 1), hint: "did you mean `models`?",
            notes: [Diagnostic.Note(message: "the workflow starts here", location: SourceLocation(line: 1, column: 1))])
        let text = DiagnosticRenderer().render([diagnostic], source: source)
        #expect(
            text == """
                demo.yaml:3:1: error: unknown key `modles` in the workflow [E102]
                 3 | modles:
                   | ^
                hint: did you mean `models`?
                demo.yaml:1:1: note: the workflow starts here
                 1 | refinery: 1
                   | ^

                """)
    }

    /// A file saved on Windows (BOM, CRLF) or with old Mac line ends gets the same excerpt as
    /// an LF file: the line the location names, the caret under the column.
    @Test(arguments: ["\n", "\r\n", "\r", "\u{2028}"])
    func excerptsFollowEveryLineEnding(newline: String) throws {
        let source = "\u{FEFF}name: x" + newline + "modles: [a]" + newline + "stages: []" + newline
        let first = Diagnostic(
            code: "E104", message: "m", file: "w.yaml", location: SourceLocation(line: 1, column: 7))
        let second = Diagnostic(
            code: "E102", message: "m", file: "w.yaml", location: SourceLocation(line: 2, column: 1))
        let renderer = DiagnosticRenderer()
        #expect(renderer.render(first, source: source).contains(" 1 | name: x\n   |       ^\n"))
        #expect(renderer.render(second, source: source).contains(" 2 | modles: [a]\n   | ^\n"))
    }

    @Test func caretFollowsTheColumnAndTabs() {
        let diagnostic = Diagnostic(
            code: "E105", severity: .warning, message: "m", file: "f.yaml", location: SourceLocation(line: 1, column: 4)
        )
        let text = DiagnosticRenderer().render([diagnostic], source: "\tab: x\n")
        #expect(
            text == """
                f.yaml:1:4: warning: m [E105]
                 1 |     ab: x
                   |       ^

                """)
    }

    @Test func longLinesAreCutAroundTheCaret() {
        let line = String(repeating: "a", count: 150) + "X" + String(repeating: "b", count: 150)
        let diagnostic = Diagnostic(code: "E1", message: "m", file: "f", location: SourceLocation(line: 1, column: 151))
        let lines = DiagnosticRenderer(maxLineWidth: 40).render([diagnostic], source: line).split(separator: "\n")
        #expect(
            lines[1] == " 1 | …" + String(repeating: "a", count: 20) + "X" + String(repeating: "b", count: 19) + "…")
        #expect(lines[2] == "   | " + String(repeating: " ", count: 21) + "^")
    }

    @Test func colouredOutputWrapsPartsInEscapes() {
        let diagnostic = Diagnostic(
            code: "Y003", message: "bad", file: "f", location: SourceLocation(line: 1, column: 2))
        let text = DiagnosticRenderer(colored: true).render([diagnostic], source: "ab\n")
        #expect(
            text == "\u{1B}[1mf:1:2:\u{1B}[0m \u{1B}[1;31merror:\u{1B}[0m bad \u{1B}[2m[Y003]\u{1B}[0m\n"
                + " 1 | ab\n   |  \u{1B}[1;32m^\u{1B}[0m\n")
    }

    @Test func missingLocationOrSourceRendersHeaderOnly() {
        let diagnostic = Diagnostic(code: "E1", message: "m", file: nil, location: nil, hint: "h")
        #expect(DiagnosticRenderer().render([diagnostic], source: nil) == "<input>: error: m [E1]\nhint: h\n")
        let past = Diagnostic(code: "E1", message: "m", file: "f", location: SourceLocation(line: 9, column: 1))
        #expect(DiagnosticRenderer().render([past], source: "one line\n") == "f:9:1: error: m [E1]\n")
    }

    @Test func multipleFilesUseTheirOwnText() {
        let diagnostics = [
            Diagnostic(
                code: "E1", message: "in child", file: "child.yaml", location: SourceLocation(line: 1, column: 1)),
            Diagnostic(code: "E2", message: "in base", file: "base.yaml", location: SourceLocation(line: 2, column: 3)),
        ]
        let text = DiagnosticRenderer().render(
            diagnostics, sources: ["child.yaml": "extends: base\n", "base.yaml": "a: 1\nb: 2\n"])
        #expect(
            text == """
                child.yaml:1:1: error: in child [E1]
                 1 | extends: base
                   | ^
                base.yaml:2:3: error: in base [E2]
                 2 | b: 2
                   |   ^

                """)
    }

    @Test func parserErrorsRenderWithContextNote() throws {
        let text = "stages: [propose, refine\nname: x\n"
        do {
            _ = try YAMLParser.parse(Array(text.utf8), file: "w.yaml")
            Issue.record("expected a syntax error")
        } catch {
            #expect(
                DiagnosticRenderer().render(error.diagnostics, source: text) == """
                    w.yaml:2:5: error: YAML syntax error: did not find expected ',' or ']' [Y003]
                     2 | name: x
                       |     ^
                    hint: check the indentation and the closing brackets/quotes around this point
                    w.yaml:1:9: note: while parsing a flow sequence
                     1 | stages: [propose, refine
                       |         ^

                    """)
        }
    }
}
