// Making text from a file or a model inert on a terminal: control characters shown, not obeyed.

/// Text made safe to print on a terminal: shared by the CLI's output and the diagnostic renderer.
///
/// Every C0 control but newline and tab is shown as `\xHH`, and DEL and every C1 control as `\uHHHH`,
/// so a description or an answer cannot set the window title (`ESC ] 0;…BEL`), clear the screen, move
/// the cursor, change or hide text, ring the bell or write the clipboard; so is every bidirectional
/// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069), so that text cannot show its words in
/// another order than they are read ("Trojan Source"), as `\u202E`. Escaped so, JSON text stays valid JSON that
/// decodes to the exact text: a JSON string never holds a raw C0 control (the encoder writes `\u001b`), and
/// `\uHHHH` is JSON's own escape for the rest. Only the CLI's own coloured
/// diagnostics keep their SGR sequences (`ESC [ digits ; … m`, `keepingColour`); their renderer makes the
/// file's text inside them inert itself.
package enum TerminalText {
    package static func escaped(_ text: String, keepingColour: Bool = false) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains(where: isControl) else { return text }
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if keepingColour, scalar == "\u{1B}", let end = sgrEnd(scalars, from: index) {
                result.append(contentsOf: scalars[index...end])
                index = end + 1
                continue
            }
            if isControl(scalar) {
                result.append(contentsOf: shown(scalar).unicodeScalars)
            } else {
                result.append(scalar)
            }
            index += 1
        }
        return String(result)
    }

    /// Whether `scalar` is one this type shows instead of passing on: a control but newline and tab, or a
    /// bidirectional embedding, override or isolate. The HTML report makes the same ones inert.
    package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\n" || scalar == "\t" { return false }
        return scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
            || (0x2066...0x2069).contains(scalar.value)
    }

    /// How `scalar` is shown: `\xHH` for a C0 control, else `\uHHHH` (JSON's escape: every control this type
    /// shows from DEL on is below U+10000).
    package static func shown(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let digits = scalar.value < 0x7F ? 2 : 4
        return (scalar.value < 0x7F ? "\\x" : "\\u") + String(repeating: "0", count: max(0, digits - hex.count)) + hex
    }

    /// The index of the `m` closing an SGR sequence that starts at `start` (`ESC [ [0-9;]* m`), or `nil`.
    private static func sgrEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 2 < scalars.count, scalars[start + 1] == "[" else { return nil }
        var index = start + 2
        while index < scalars.count, index - start < 32 {
            let scalar = scalars[index]
            if scalar == "m" { return index }
            guard scalar == ";" || ("0"..."9").contains(scalar) else { return nil }
            index += 1
        }
        return nil
    }
}
