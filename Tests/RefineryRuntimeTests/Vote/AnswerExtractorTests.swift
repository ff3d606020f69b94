import RefineryCompiler
import Testing

@testable import RefineryRuntime

/// What each `extract` form reads out of an answer, and what it refuses (an abstention).
@Suite struct AnswerExtractorTests {
    @Test(arguments: [
        ("Janet sells 16 - 3 - 4 = 9 eggs.\n#### 18", "18"),
        ("So she pays $1,234.50 in all.\n#### 1,234.50", "1234.5"),
        ("The answer is $18.", "18"),
        ("Step 1: 3 + 4 = 7.\nStep 2: 7 * 2 = 14.\nAnswer: 14 apples, not 12", "14"),
        ("x = 3.50, then 4 more", "4"),
        ("Therefore \\boxed{42} is the result; 7 checks.", "42"),
        ("It drops to −5 degrees", "-5"),
        ("-0.0", "0"),
        ("007 agents", "7"),
        // An exponent and a fraction are one number (they read as `3` and `4`, the digits after the mark).
        ("Avogadro's number is about 6.02e23.", "602000000000000000000000"),
        ("The answer is 1.5e3 metres", "1500"),
        ("Roughly 2.5E-3 of the total", "0.0025"),
        ("She ate 3/4 of the pie.", "0.75"),
        ("#### -6/4", "-1.5"),
        ("About 1/3 are left", "1/3"),
        ("It is 10/5.", "2"),
        ("That is 3em wide: 12", "12"),
        // "answered" and "answers" are not the marker "answer": the final number is.
        ("She answered 12 questions and got 3 wrong, so 9 were right.", "9"),
        ("All answers: 4 and 6, which sum to 10", "10"),
        // A decimal without its leading zero, and a LaTeX fraction, are the numbers they write (they read as
        // `5` and `3`); the `.5` of a version number stays what it was.
        ("So the answer is .5", "0.5"),
        ("It comes to -.25 in all", "-0.25"),
        ("The result is \\boxed{\\frac{3}{4}}.", "0.75"),
        ("Hence $\\boxed{-\\dfrac{6}{4}}$", "-1.5"),
        ("The answer is $\\frac{1}{3}$ of it", "1/3"),
        ("Fixed in release 1.2.5", "5"),
        // A whole number and a fraction are one number (read as `1/2`, or `1` after a marker).
        ("It takes 1 1/2 hours.", "1.5"),
        ("The answer is 1 1/2", "1.5"),
        ("#### -2 3/4", "-2.75"),
        // Spaced groups of three digits are one number, with a space, a thin space or a narrow no-break space
        // (read as `234`, `567.5`, `0`); a list of numbers, or a fraction that is not a proper one, is not.
        ("The total is 1 234 dollars", "1234"),
        ("It weighs 1\u{2009}234\u{2009}567.5 kg", "1234567.5"),
        ("Total: 12\u{202F}000 €", "12000"),
        ("Pick 3 4", "4"),
        ("Scores 7 12 345", "345"),
        ("Heights 10 100 1000", "1000"),
        ("Then 3 5/4", "1.25"),
        // A number the text denies is not its answer (read as `5` after the marker, and as `12`).
        ("The answer is not 5; it is 7.", "7"),
        ("It isn't 12, it's 15", "15"),
        ("It is 9, not 10.", "9"),
        // A sign before a dollar sign is the number's (read as `5`), and a marker followed by the sum that
        // works it out gives the sum's result (read as `18` and `3`).
        ("She lost -$5 on the deal.", "-5"),
        ("The change is −$2.50", "-2.5"),
        ("The answer is 18 - 6 = 12", "12"),
        ("#### 3 * 4 = 12", "12"),
        ("Answer: $2 × 7 = $14 in all", "14"),
        ("Answer: 12 cookies, 3 left over", "12"),
    ])
    func number(text: String, expected: String) {
        #expect(AnswerExtractor.extract(.number, from: text)?.key == expected)
    }

    @Test func numberAbstainsWithoutDigits() {
        #expect(AnswerExtractor.extract(.number, from: "I cannot tell.") == nil)
        #expect(AnswerExtractor.extract(.number, from: "The answer is not 5.") == nil)
    }

    @Test(arguments: [
        ("Reasoning...\nThe answer is (b).", "B"),
        ("Option A is wrong, so\n\nC\n", "C"),
        ("I think (D) fits best, not A.", "D"),
        ("**Answer: E**", "E"),
        ("The answer is A because the others fail.", "A"),
        ("Answer: a", "A"),
        // The article and the pronoun after "answer" are no choice (they read as `A` and `I`).
        ("The answer is a tricky one. Option (C) holds.", "C"),
        ("Answer: I think it is (B).", "B"),
        // A reply that is only the letter, in lower case too: it abstained, though a reference so written is read.
        ("b", "B"),
        (" (c)\n", "C"),
        ("**d.**", "D"),
        // "option is" and "choice is" mark the letter as "answer is" does (read as nothing), and a reply that opens
        // with an option's label chose it (read as nothing).
        ("The correct option is C.", "C"),
        ("My choice is (b), since the rest fail.", "B"),
        ("B) because the others fail", "B"),
        ("**C.** Paris is the capital.", "C"),
        ("D. 42\nThe rest do not fit.", "D"),
    ])
    func choice(text: String, expected: String) {
        #expect(AnswerExtractor.extract(.choice, from: text)?.key == expected)
    }

    @Test func choiceDoesNotReadArticlesOrPronouns() {
        #expect(AnswerExtractor.extract(.choice, from: "A cat sat. I saw it.") == nil)
        #expect(AnswerExtractor.extract(.choice, from: "The best option is a tricky one.") == nil)
        #expect(AnswerExtractor.extract(.choice, from: "Option A is wrong, so\n\nC\n")?.key == "C")
    }

    @Test func lastLineComparesWithoutCaseEmphasisOrPunctuation() throws {
        let first = try #require(AnswerExtractor.extract(.lastLine, from: "Reasons.\n\n**Paris.**\n  \n"))
        let second = try #require(AnswerExtractor.extract(.lastLine, from: "paris"))
        #expect(first.key == second.key)
        #expect(first.display == "**Paris.**")
        #expect(AnswerExtractor.extract(.lastLine, from: " \n\t\n") == nil)
    }

    @Test func jsonReadsADottedPathInsideProse() {
        let text = "Here you go:\n```json\n{\"result\": {\"answer\": \"Yes\", \"items\": [3, 4.50]}}\n```"
        #expect(AnswerExtractor.extract(.json(path: ["result", "answer"]), from: text)?.key == "yes")
        #expect(AnswerExtractor.extract(.json(path: ["result", "items", "1"]), from: text)?.key == "4.5")
        #expect(AnswerExtractor.extract(.json(path: ["result", "missing"]), from: text) == nil)
        #expect(AnswerExtractor.extract(.json(path: ["a"]), from: "{\"a\": null}") == nil)
        #expect(AnswerExtractor.extract(.json(path: ["a"]), from: "no json here") == nil)
    }

    @Test func regexTakesTheFirstGroupOfTheLastMatch() {
        let text = "answer: foo\nsecond thoughts... answer: bar"
        #expect(AnswerExtractor.extract(.regex(#"answer: (\w+)"#), from: text)?.key == "bar")
        #expect(AnswerExtractor.extract(.regex(#"\d+"#), from: "1 then 22")?.key == "22")
        #expect(AnswerExtractor.extract(.regex(#"answer: (\w+)"#), from: "nothing") == nil)
    }
}

/// Counting: plurality, the tie rules, abstentions and the share.
@Suite struct PluralityVoteTests {
    static func ballots(_ texts: [String]) -> [(voter: String, text: String)] {
        texts.enumerated().map { ("m\($0.offset + 1)", $0.element) }
    }

    @Test func pluralityWinsWithItsShareOfEveryAnswerCounted() {
        let (vote, text) = VoteResult.count(
            Self.ballots(["so 41", "#### 42", "it is 42", "no idea"]), options: VoteStage(extract: .number),
            round: 1, seed: 1)
        #expect(vote.winner == "42")
        #expect(vote.winnerMember == "m2")
        #expect(text == "#### 42")
        #expect(vote.share == 0.5)
        #expect(vote.answersCounted == 4)
        #expect(vote.abstentions == ["m4"])
        #expect(vote.distribution.map(\.answer) == ["42", "41"])
        #expect(vote.distribution.map(\.members) == [["m2", "m3"], ["m1"]])
        #expect(vote.tieBrokenBy == nil)
    }

    @Test func tieRules() {
        let ballots = Self.ballots(["1", "2", "2", "1", "3"])
        let first = VoteResult.count(ballots, options: VoteStage(extract: .number, tie: .first), round: 1, seed: 1)
        #expect(first.result.winner == "1")
        #expect(first.result.tieBrokenBy == "first")
        #expect(first.result.share == 0.4)
        let none = VoteResult.count(ballots, options: VoteStage(extract: .number, tie: .none), round: 1, seed: 1)
        #expect(none.result.winner == nil)
        #expect(none.result.winnerMember == nil)
        #expect(none.winnerText == nil)
        #expect(none.result.share == 0)
        #expect(none.result.tieBrokenBy == "none")
        // Random is drawn from the seed: the same seed draws the same, and both tied values come up.
        let drawn = (0..<40).map { seed in
            VoteResult.count(ballots, options: VoteStage(extract: .number, tie: .random), round: 1, seed: UInt64(seed))
                .result.winner
        }
        #expect(Set(drawn) == ["1", "2"])
        #expect(
            drawn[7]
                == VoteResult.count(ballots, options: VoteStage(extract: .number, tie: .random), round: 1, seed: 7)
                .result.winner)
    }

    @Test func nothingExtractedIsNoWinner() {
        let (vote, text) = VoteResult.count(
            Self.ballots(["none", "nope"]), options: VoteStage(extract: .number), round: 2, seed: 1)
        #expect(vote.winner == nil)
        #expect(text == nil)
        #expect(vote.abstentions == ["m1", "m2"])
        #expect(vote.distribution.isEmpty)
        #expect(vote.share == 0)
    }
}
