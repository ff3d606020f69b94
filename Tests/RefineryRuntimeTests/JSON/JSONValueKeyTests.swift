import Testing

@testable import RefineryRuntime

/// A reply's fields are looked up loosely (`Score`, `score_`, `final-score`): the byte-wise comparison of
/// ASCII keys must agree with the normalized strings it stands in for, on every pair of keys.
@Suite("JSONValue keys")
struct JSONValueKeyTests {
    static let keys: [String] = [
        "score", "Score", "SCORE", "score_", "_score", "s-c o_r-e", "final_score", "final-score", "FinalScore",
        "finalscore", "scores", "scor", "", "_", "- _", "error", "Error", "errors", "e\u{301}rror", "érror", "Érror",
        // The Kelvin sign lowercases to an ASCII `k`; a combining mark makes `_` part of another character.
        "\u{212A}ey", "key", "KEY", "k_\u{301}ey", "k_ey", "ke\r\ny", "ke\ny", "@score", "[score]", "score1", "score2",
    ]

    @Test func looseEqualityAgreesWithNormalizedKeys() {
        for a in Self.keys {
            for b in Self.keys {
                #expect(
                    JSONValue.looselyEqual(a, b) == (JSONValue.normalizedKey(a) == JSONValue.normalizedKey(b)),
                    "\(a.debugDescription) vs \(b.debugDescription)")
            }
        }
    }

    @Test func lookupPrefersTheExactKeyThenTheFirstLooseOne() {
        let value: JSONValue = .object([("Final_Score", 1), ("final-score", 2), ("finalscore", 3), ("Error", 4)])
        #expect(value["finalscore"] == 3)
        #expect(value["FINAL SCORE"] == 1)
        #expect(value["error"] == 4)
        #expect(value["errors"] == nil)
        #expect(JSONValue.object([("\u{212A}ey", 5)])["key"] == 5)
    }
}
