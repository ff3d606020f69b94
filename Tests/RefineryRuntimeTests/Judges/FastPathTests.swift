import Testing

@testable import RefineryRuntime

/// The byte-level fast paths must give exactly what the general code gives.
@Suite("Parsing and formatting fast paths")
struct FastPathTests {
    @Test(arguments: [
        ("  plain  ", "plain"), ("\t\n\r\u{0B}\u{0C} x y \n", "x y"), ("", ""), (" \n\t ", ""),
        ("\u{00A0}\u{3000} wide \u{2003}\u{00A0}", "wide"), (" \u{00A0}", ""), ("é ", "é"),
        (" ü\u{301}", "ü\u{301}"), ("\u{1C}x\u{1F}", "\u{1C}x\u{1F}"), ("a\u{2028}", "a"), ("\u{85}b", "b"),
    ])
    func trimmedStripsUnicodeWhitespaceAtBothEnds(input: String, expected: String) {
        #expect(ReplyParser.trimmed(input) == expected)
        #expect(ReplyParser.trimmed(Substring(input)) == expected)
        #expect(Self.scalarTrimmed(input) == expected)
    }

    /// The general definition: Unicode `White_Space` scalars off both ends.
    private static func scalarTrimmed(_ text: String) -> String {
        var scalars = text.unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    @Test func stringsWithAndWithoutEscapesReadTheSame() throws {
        let json = try #require(LenientJSON.extract(from: #"x {"a": "plain é", "b": "q\"uote\n\u00e9", "c": ""} y"#))
        #expect(json["a"] == .string("plain é"))
        #expect(json["b"] == .string("q\"uote\né"))
        #expect(json["c"] == .string(""))
    }

    @Test func aFenceStillWinsOverEarlierProseJSON() throws {
        let reply = "Draft {\"score\": 2}\n```json\n{\"score\": 9}\n```"
        #expect(LenientJSON.extract(from: reply)?["score"] == .number(9))
        #expect(LenientJSON.extract(from: "No fence: {\"score\": 4}")?["score"] == .number(4))
    }

    @Test(arguments: [
        (7.0, "7.0"), (10, "10.0"), (7.25, "7.2"), (7.35, "7.3"), (-3, "-3.0"), (-0.0, "-0.0"), (0, "0.0"),
    ])
    func oneDecimalMatchesPrintf(value: Double, expected: String) {
        #expect(RunExecutor.oneDecimal(value) == expected)
    }
}
