// Renders diagnostics the way compilers do, against the source text they point into:
//
//     review.yaml:3:1: error: unknown key `modles` [E102]
//       3 | modles:
//         | ^
//     hint: did you mean `models`?

/// Formats ``Diagnostic``s as text with source excerpts and carets.
///
/// Tabs are shown as spaces (the caret stays aligned), and lines longer than
/// ``maxLineWidth`` are cut to a window around the column. Colour is off unless asked for;
/// the caller decides from whether output is a terminal and from `NO_COLOR`.
public struct DiagnosticRenderer: Sendable {
    /// Emit ANSI colour escapes.
    public var colored: Bool
    /// Widest excerpt shown, in columns; longer lines are cut around the caret.
    public var maxLineWidth: Int
    /// Columns a tab advances to (a tab stop every `tabWidth` columns).
    public var tabWidth: Int

    /// Creates a renderer.
    public init(colored: Bool = false, maxLineWidth: Int = 100, tabWidth: Int = 4) {
        self.colored = colored
        self.maxLineWidth = max(maxLineWidth, 20)
        self.tabWidth = max(tabWidth, 1)
    }

    /// All diagnostics, each followed by its excerpt, hint and notes, separated by newlines.
    ///
    /// - Parameter source: the text of the file the diagnostics point into; `nil` renders headers only.
    public func render(_ diagnostics: [Diagnostic], source: String?) -> String {
        let lines = source.map(Self.splitLines) ?? []
        return diagnostics.map { render($0, lines: lines) }.joined()
    }

    /// All diagnostics, each rendered against the text of the file it names.
    ///
    /// Use this when diagnostics point into several files (a workflow and the bases it extends).
    /// - Parameter sources: file name (as in ``Diagnostic/file``) → text; unknown files render headers only.
    public func render(_ diagnostics: [Diagnostic], sources: [String: String]) -> String {
        var cache: [String: [Line]] = [:]
        return diagnostics.map { diagnostic in
            let file = diagnostic.file ?? ""
            if cache[file] == nil { cache[file] = sources[file].map(Self.splitLines) ?? [] }
            return render(diagnostic, lines: cache[file] ?? [])
        }.joined()
    }

    /// One diagnostic with its excerpt, hint and notes, ending in a newline.
    public func render(_ diagnostic: Diagnostic, source: String?) -> String {
        render(diagnostic, lines: source.map(Self.splitLines) ?? [])
    }

    private func render(_ diagnostic: Diagnostic, lines: [Line]) -> String {
        var out = header(
            file: diagnostic.file, location: diagnostic.location, severity: diagnostic.severity,
            message: diagnostic.message, code: diagnostic.code)
        out += excerpt(at: diagnostic.location, lines: lines)
        if let hint = diagnostic.hint {
            out += paint("hint:", Self.bold) + " " + inert(hint) + "\n"
        }
        for note in diagnostic.notes {
            out += header(
                file: diagnostic.file, location: note.location, severity: .note, message: note.message, code: nil)
            out += excerpt(at: note.location, lines: lines)
        }
        return out
    }

    private func header(
        file: String?, location: SourceLocation?, severity: Diagnostic.Severity, message: String, code: String?
    ) -> String {
        var prefix = inert(file ?? "<input>")
        if let location { prefix += ":\(location.line):\(location.column)" }
        let color =
            switch severity {
            case .error: Self.red
            case .warning: Self.yellow
            case .note: Self.cyan
            }
        var line = paint(prefix + ":", Self.bold) + " " + paint(severity.rawValue + ":", color) + " " + inert(message)
        if let code { line += " " + paint("[\(code)]", Self.dim) }
        return line + "\n"
    }

    private func excerpt(at location: SourceLocation?, lines: [Line]) -> String {
        guard let location, location.line >= 1, location.line <= lines.count else { return "" }
        let (part, skipped, cutAfter) = around(lines[location.line - 1], column: location.column)
        let cutBefore = skipped > 0
        var (text, caret) = expand(part, column: location.column - skipped)
        if text.count > maxLineWidth || cutBefore || cutAfter {
            // Keep a window around the caret so the interesting part is visible.
            let start = max(0, min(caret - maxLineWidth / 2, text.count - maxLineWidth))
            let window = text.dropFirst(start).prefix(maxLineWidth)
            caret -= start
            let before = cutBefore || start > 0
            text = (before ? "…" : "") + window + (cutAfter || start + maxLineWidth < text.count ? "…" : "")
            if before { caret += 1 }
        }
        let number = String(location.line)
        let gutter = String(repeating: " ", count: number.count)
        var out = " \(number) | \(inert(text))\n"
        out += " \(gutter) | " + String(repeating: " ", count: caret) + paint("^", Self.green) + "\n"
        return out
    }

    /// The part of `line` an excerpt at 1-based scalar `column` can show: the whole line when it is short, else a
    /// few widths on either side of the column, with the number of scalars skipped before it and whether more
    /// follows. Expanding a whole line of a megabyte for each of thousands of diagnostics on it (a file written as
    /// one flow sequence) took minutes.
    private func around(_ line: Line, column: Int) -> (part: Line, skipped: Int, cutAfter: Bool) {
        let reach = maxLineWidth * 2
        // A column past the line's end (a problem at its end) is shown from the line's start, as before.
        let skipped = column - 1 <= line.count ? max(0, column - 1 - reach) : 0
        let start = line.startIndex + skipped
        let end = min(line.endIndex, start + 2 * reach)
        return (line[start..<end], skipped, end < line.endIndex)
    }

    /// The line with tabs expanded, and the display column (0-based) of 1-based scalar `column`.
    private func expand(_ line: Line, column: Int) -> (String, Int) {
        var text = ""
        var caret: Int?
        var count = 0
        for (index, scalar) in line.enumerated() {
            if index == column - 1 { caret = count }
            if scalar == "\t" {
                let width = tabWidth - count % tabWidth
                text += String(repeating: " ", count: width)
                count += width
            } else {
                text.unicodeScalars.append(scalar)
                count += 1
            }
        }
        return (text, caret ?? count + max(0, column - 1 - line.count))
    }

    /// With colour on (a terminal), text from the file or its messages with its control characters shown
    /// as `\xHH`: the only escape sequences in the output are the renderer's own colours.
    private func inert(_ text: String) -> String {
        colored ? TerminalText.escaped(text) : text
    }

    private func paint(_ text: String, _ code: String) -> String {
        colored ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    private static let bold = "1"
    private static let dim = "2"
    private static let red = "1;31"
    private static let yellow = "1;33"
    private static let cyan = "1;36"
    private static let green = "1;32"

    /// A line of the source, as its Unicode scalars: an excerpt's part of a long line is cut without walking it.
    private typealias Line = ArraySlice<Unicode.Scalar>

    /// Lines as libyaml counts them (LF, CRLF, CR, NEL, LS, PS each end one), so excerpts match
    /// the locations. A leading byte order mark is not part of line 1 (the parser skips it).
    private static func splitLines(_ source: String) -> [Line] {
        let scalars = Array(source.unicodeScalars)
        let text = scalars.first == "\u{FEFF}" ? scalars.dropFirst() : scalars[...]
        var lines: [Line] = []
        var start = text.startIndex
        var index = start
        while index < text.endIndex {
            let scalar = text[index]
            switch scalar {
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": break
            default:
                index += 1
                continue
            }
            lines.append(text[start..<index])
            index += scalar == "\r" && index + 1 < text.endIndex && text[index + 1] == "\n" ? 2 : 1
            start = index
        }
        lines.append(text[start..<text.endIndex])
        return lines
    }
}
