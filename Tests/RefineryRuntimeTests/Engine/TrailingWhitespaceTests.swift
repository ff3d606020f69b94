import Testing

@testable import RefineryRuntime

/// A default prompt's trailing whitespace is trimmed on the bytes when it is ASCII: the result must
/// be what trimming `Character` by `Character` gives, for every ending (a user's prompt may end one).
@Suite("Trailing whitespace of a prompt")
struct TrailingWhitespaceTests {
    static func characterByCharacter(_ text: String) -> String {
        var text = text
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }

    static let bodies = [
        "", "task.", "é", "a\u{301}", "\u{0600}", "👍🏽", "日本", "x\u{200D}", "\u{00A0}", "\u{2003}", "a\r",
    ]
    static let tails = [
        "", " ", "\n", "\r\n", "\t \n", " \r\n\r\n", "\u{00A0}", " \u{301}", "\u{2028} ", "\u{0085}", "\r",
    ]

    @Test func bytewiseTrimmingMatchesCharacterTrimming() {
        for body in Self.bodies {
            for tail in Self.tails {
                for more in Self.tails {
                    let text = body + tail + more
                    let trimmed = PromptRenderer.droppingTrailingWhitespace(text)
                    #expect(
                        Array(trimmed.utf8) == Array(Self.characterByCharacter(text).utf8),
                        "\(Array(text.unicodeScalars))")
                }
            }
        }
    }
}
