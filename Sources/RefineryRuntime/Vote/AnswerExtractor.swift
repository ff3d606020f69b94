// Reading the compared value out of an answer (`vote`'s `extract`; a bench grader reads references
// the same way). Pure functions of the text: the same answer always gives the same key.

package import RefineryCompiler

/// A value read out of an answer: `key` is what votes are counted by, `display` what a reader is shown.
package struct ExtractedAnswer: Sendable, Hashable {
    package var key: String
    package var display: String
}

/// Applies an ``AnswerExtraction`` to answer texts.
package enum AnswerExtractor {
    /// The value `extraction` reads from `text`, or `nil` when there is none (an abstention).
    package static func extract(_ extraction: AnswerExtraction, from text: String) -> ExtractedAnswer? {
        switch extraction {
        case .number: number(in: text).map { ExtractedAnswer(key: $0, display: $0) }
        case .choice: choice(in: text).map { ExtractedAnswer(key: $0, display: $0) }
        case .lastLine: lastLine(of: text)
        case .json(let path): json(at: path, in: text)
        case .regex(let pattern): regex(pattern, in: text)
        }
    }

    // MARK: number

    /// The final number of a worked answer, canonical (`1,234.50` → `1234.5`, `-0` → `0`).
    package static func number(in text: String) -> String? {
        // A LaTeX fraction of two numbers is the fraction they write: `\boxed{\frac{3}{4}}` is 0.75, not 3.
        let text =
            text.contains("frac")
            ? text.replacing(latexFraction) { "\($0.output.1)\($0.output.2)/\($0.output.3)" } : text
        // Where the final answer is marked, the number after the last marker: GSM8K's `####`, a LaTeX
        // `\boxed{}`, "the answer is". Else the last number anywhere. A number the text denies ("not 5") is
        // not the one it gives.
        for marker in ["####", "\\boxed{"] {
            if let range = text.ranges(of: marker).last, let value = marked(text[range.upperBound...]) {
                return value
            }
        }
        // The word itself: "answered 12 questions" or "answers" is no marker.
        if let match = text.matches(of: #/(?i)\banswer\b(?:\s+is)?\s*[:=]?/#).last,
            let value = marked(text[match.range.upperBound...].prefix { $0 != "\n" })
        {
            return value
        }
        return numbers(in: text[...]).last(where: \.asserted)?.value
    }

    /// The number a marker gives: the first one after it, or, where the marker is followed by the sum that
    /// works it out ("the answer is 18 - 6 = 12"), the result after its `=`.
    private static func marked(_ text: Substring) -> String? {
        let rest = text.prefixMatch(of: workedSum).map { text[$0.range.upperBound...] } ?? text
        return numbers(in: rest).first(where: \.asserted)?.value
    }

    /// Numbers joined by operators up to an `=`: `18 - 6 =`, `$3 × 4 =`, `(2 + 3) * 4 =`.
    private static var workedSum: Regex<Substring> {
        #/[\s*$(]*[-−]?\$?\d[\d,.]*\)?(?:\s*[-−+*\/×÷x]\s*\(?[-−]?\$?\d[\d,.]*\)?)+\s*=/#
    }

    /// A number written in a text: its canonical value, and whether the text gives it rather than denies it.
    private struct WrittenNumber {
        var value: String
        /// False after "not" or "n't" ("it is not 5", "isn't 5").
        var asserted: Bool
    }

    /// Every number `text` writes, in order. A number spaced into groups (`1 234`, `1 1/2`) is one only where no
    /// digit comes just before it: in `7 12 345` the three are separate, as are `3` and `5/4` in `3 5/4`.
    private static func numbers(in text: Substring) -> [WrittenNumber] {
        var found: [WrittenNumber] = []
        func add(_ match: Regex<Substring>.Match) {
            found.append(WrittenNumber(value: value(of: match, in: text), asserted: asserted(match.range, in: text)))
        }
        for match in text.matches(of: numberPattern) {
            guard match.output.contains(where: groupSpaces.contains), !spacedNumberReadsAsOne(match, in: text) else {
                add(match)
                continue
            }
            text[match.range].matches(of: unspacedNumberPattern).forEach(add)
        }
        return found
    }

    /// The spaces that group digits: a space, a no-break space, a thin space, a narrow no-break space.
    private static let groupSpaces: Set<Character> = [" ", "\u{00A0}", "\u{2009}", "\u{202F}"]

    /// `1 234` or `1 1/2`, unless a digit and a space come just before it (a list of numbers), or its fraction
    /// is not a proper one (`3 5/4` is 3, then 5/4).
    private static func spacedNumberReadsAsOne(_ match: Regex<Substring>.Match, in text: Substring) -> Bool {
        let before = text[..<match.range.lowerBound]
        if let space = before.last, groupSpaces.contains(space), before.dropLast().last?.isNumber == true {
            return false
        }
        guard let slash = match.output.firstIndex(of: "/") else { return true }
        let numerator = String(match.output[..<slash].reversed().prefix(while: \.isNumber).reversed())
        guard let top = Int(numerator), let bottom = Int(match.output[match.output.index(after: slash)...]) else {
            return false
        }
        return top < bottom
    }

    /// Whether the number at `range` is given, not denied: no "not" or "n't" (a currency sign or blanks
    /// between) just before it.
    private static func asserted(_ range: Range<String.Index>, in text: Substring) -> Bool {
        let before = text[..<range.lowerBound].reversed().drop { $0.isWhitespace || $0 == "$" || $0 == "-" }
        let word = String(before.prefix { $0.isLetter || $0 == "'" || $0 == "’" }.reversed()).lowercased()
        return word != "not" && !word.hasSuffix("n't") && !word.hasSuffix("n’t")
    }

    /// `-1,234.5`, `-$5` (a sign before a dollar sign), `1234`, `1 234` (spaced groups of three, also with a thin or no-break space), `0.25`, `.5`,
    /// `−3` (a Unicode minus), `1.5e3`, `3/4`, `1 1/2` (a whole number of up to three digits and a fraction): thousands separators
    /// only in groups of three, and a spaced number only where no digit follows the space after it; an
    /// exponent of one or two digits; a fraction of whole numbers.
    private static var numberPattern: Regex<Substring> {
        #/(?:[-−]\$?)?(?:\d{1,3}[ \u00A0\u2009\u202F]\d+\/\d+(?![\d\/]|\.\d)|(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?[eE][-+]?\d{1,2}(?!\d)|\d+\/\d+(?![\d\/]|\.\d)|(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00A0\u2009\u202F]\d{3})+(?![\d\/]|[ \u00A0\u2009\u202F]\d)|\d+)(?:\.\d+)?|\.\d+)/#
    }

    /// ``numberPattern`` without the spaced forms: the numbers a spaced match holds when it is not one.
    private static var unspacedNumberPattern: Regex<Substring> {
        #/(?:[-−]\$?)?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?[eE][-+]?\d{1,2}(?!\d)|\d+\/\d+(?![\d\/]|\.\d)|(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)/#
    }

    /// `\frac{3}{4}` (also `\dfrac`, `\tfrac`, with a sign before it) of two plain numbers.
    private static var latexFraction: Regex<(Substring, Substring, Substring, Substring)> {
        #/([-−]?)\s*\\[dt]?frac\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}/#
    }

    /// The canonical number `match` spells. A decimal written without its leading zero (`.5`) is read
    /// as one only where no digit comes before its point: the `.5` of `1.2.5` stays `5`.
    private static func value(of match: Regex<Substring>.Match, in text: Substring) -> String {
        var raw = match.output
        if raw.first == ".", match.range.lowerBound > text.startIndex,
            text[text.index(before: match.range.lowerBound)].isNumber
        {
            raw = raw.dropFirst()
        }
        return canonicalNumber(String(raw))
    }

    /// Without separators, a `+`, trailing fractional zeros or a negative zero; an exponent written out
    /// (`1.5e3` → `1500`); a fraction as its decimal when that ends (`3/4` → `0.75`), else in lowest terms.
    package static func canonicalNumber(_ raw: String) -> String {
        var text = raw.replacing("−", with: "-").filter { $0 != "," && $0 != "+" && $0 != "$" }
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        if let slash = text.firstIndex(of: "/") {
            var numerator = text[..<slash]
            let denominator = text[text.index(after: slash)...]
            // A whole number and a fraction, `1 1/2`: three halves.
            if let space = numerator.lastIndex(where: groupSpaces.contains),
                let whole = Int(numerator[..<space]), let part = Int(numerator[numerator.index(after: space)...]),
                let bottom = Int(denominator), part <= 1 << 40, bottom <= 1 << 20
            {
                numerator = Substring(String(whole * bottom + part))
            }
            return fraction(numerator, denominator, negative: negative)
        }
        text = text.filter { !groupSpaces.contains($0) }
        if let mark = text.firstIndex(where: { $0 == "e" || $0 == "E" }),
            let exponent = Int(text[text.index(after: mark)...])
        {
            text = shifted(String(text[..<mark]), by: exponent)
        }
        var integer = Substring(text)
        var fraction: Substring = ""
        if let dot = text.firstIndex(of: ".") {
            integer = text[..<dot]
            fraction = text[text.index(after: dot)...]
        }
        integer = integer.drop { $0 == "0" }
        while fraction.last == "0" { fraction = fraction.dropLast() }
        let whole = integer.isEmpty ? "0" : String(integer)
        let magnitude = fraction.isEmpty ? whole : whole + "." + fraction
        return negative && magnitude != "0" ? "-" + magnitude : magnitude
    }

    /// `digits` (with or without a point) times ten to the `exponent`, written out.
    private static func shifted(_ digits: String, by exponent: Int) -> String {
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let all = whole + (parts.count > 1 ? String(parts[1]) : "")
        let point = whole.count + exponent
        if point <= 0 { return "0." + String(repeating: "0", count: -point) + all }
        if point >= all.count { return all + String(repeating: "0", count: point - all.count) }
        return String(all.prefix(point)) + "." + String(all.dropFirst(point))
    }

    /// `numerator/denominator` in lowest terms, as a decimal when it has an exact one.
    private static func fraction(_ numerator: Substring, _ denominator: Substring, negative: Bool) -> String {
        guard var top = Int(numerator), var bottom = Int(denominator), bottom != 0, top <= 1 << 40, bottom <= 1 << 40
        else { return canonicalNumber(String(denominator)) }
        var (a, b) = (top, bottom)
        while b != 0 { (a, b) = (b, a % b) }
        if a > 1 { (top, bottom) = (top / a, bottom / a) }
        var rest = bottom
        var places = 0
        while rest % 10 == 0 { rest /= 10; places += 1 }
        while rest % 2 == 0 { rest /= 2; places += 1 }
        while rest % 5 == 0 { rest /= 5; places += 1 }
        let sign = negative && top != 0 ? "-" : ""
        guard rest == 1, places <= 12 else { return sign + "\(top)/\(bottom)" }
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let (product, overflow) = top.multipliedReportingOverflow(by: scale / bottom)
        guard !overflow else { return sign + "\(top)/\(bottom)" }
        let scaled = String(product)
        let padded = String(repeating: "0", count: max(0, places + 1 - scaled.count)) + scaled
        return canonicalNumber(sign + padded.dropLast(places) + (places > 0 ? "." + padded.suffix(places) : ""))
    }

    // MARK: choice

    /// A multiple-choice letter A–J, upper case.
    package static func choice(in text: String) -> String? {
        // After "answer", a bare `a` or `I` that a word follows is the article or the pronoun ("the answer is
        // a tricky one", "Answer: I think it is C"), not a choice.
        if let match = text.matches(of: choiceMarker).last(where: { match in
            let letter = match.output.2
            guard match.output.1.isEmpty, letter == "a" || letter == "I" || letter == "i" else { return true }
            let next = text[match.range.upperBound...].drop { $0 == " " || $0 == "\t" }.first
            return !(next?.isLetter == true && next?.isLowercase == true)
        }) {
            return match.output.2.uppercased()
        }
        // A reply that is a letter and nothing else is that choice in either case (`b`, `(c)`), as a reference
        // written so is read.
        if let match = text.wholeMatch(of: #/(?i)[\s*]*\(?([a-j])\)?[.):]?[\s*]*/#) {
            return match.output.1.uppercased()
        }
        if let match = text.matches(of: #/(?m)^[\s*]*\(?([A-J])\)?[.):]?[\s*]*$/#).last {
            return String(match.output.1)
        }
        if let match = text.matches(of: #/\(([A-J])\)/#).last { return String(match.output.1) }
        // A reply that opens with an option's label, `B) 42` or `C. Paris`, chose it.
        if let match = text.prefixMatch(of: #/[\s*]*([A-J])[.)][*]*(?:\s|$)/#) { return String(match.output.1) }
        return nil
    }

    /// "Answer: C", "the answer is (b)"; "the correct option is C" and "my choice is B" mark a letter alike.
    private static var choiceMarker: Regex<(Substring, Substring, Substring)> {
        #/(?i)(?:\banswer\b(?:\s+is)?|\b(?:option|choice)\s+is)\s*[:=]?\s*(\**\(?)([a-j])\)?(?![a-z0-9])/#
    }

    // MARK: last-line

    /// The last non-empty line; compared without case, Markdown emphasis, surrounding punctuation or
    /// repeated spaces.
    package static func lastLine(of text: String) -> ExtractedAnswer? {
        guard
            let line = text.split(whereSeparator: \.isNewline).last(where: {
                !$0.allSatisfy(\.isWhitespace)
            })
        else { return nil }
        let display = line.trimmingWhitespace
        let key = normalized(display)
        return key.isEmpty ? nil : ExtractedAnswer(key: key, display: display)
    }

    /// Lower case, single spaces, without `*`, `_`, `` ` `` and surrounding punctuation or quotes.
    package static func normalized(_ text: some StringProtocol) -> String {
        let words = text.lowercased().filter { $0 != "*" && $0 != "`" && $0 != "_" }
            .split(whereSeparator: \.isWhitespace)
        let joined = words.joined(separator: " ")
        let edges: Set<Character> = [".", ",", ";", ":", "!", "?", "\"", "'", "“", "”", "‘", "’", "(", ")"]
        return String(joined.drop { edges.contains($0) }.reversed().drop { edges.contains($0) }.reversed())
    }

    // MARK: json

    private static func json(at path: [String], in text: String) -> ExtractedAnswer? {
        guard var value = LenientJSON.extract(from: text, want: .objectOrArray) else { return nil }
        for part in path {
            if case .array(let items) = value, let index = Int(part) {
                guard items.indices.contains(index) else { return nil }
                value = items[index]
            } else if let next = value[part] {
                value = next
            } else {
                return nil
            }
        }
        guard let display = canonical(value) else { return nil }
        let key: String = if case .string = value { normalized(display) } else { display }
        return key.isEmpty ? nil : ExtractedAnswer(key: key, display: display)
    }

    /// Strings as they are, numbers canonical, objects with sorted keys; `null` is no answer.
    private static func canonical(_ value: JSONValue) -> String? {
        switch value {
        case .null: return nil
        case .string(let text): return text.trimmingWhitespace
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { return String(Int(number)) }
            return canonicalNumber("\(number)")
        case .array(let items): return "[" + items.map { canonical($0) ?? "null" }.joined(separator: ",") + "]"
        case .object(let pairs):
            let fields = pairs.sorted { $0.key < $1.key }.map { "\"\($0.key)\":" + (canonical($0.value) ?? "null") }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    // MARK: regex

    private static func regex(_ pattern: String, in text: String) -> ExtractedAnswer? {
        // The compiler checked the pattern; one that fails here extracts nothing.
        guard let regex = try? Regex(pattern), let match = text.matches(of: regex).last else { return nil }
        let output = match.output
        let captured = output.count > 1 ? output[1].substring : output[0].substring
        guard let captured else { return nil }
        let display = captured.trimmingWhitespace
        let key = display.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return key.isEmpty ? nil : ExtractedAnswer(key: key, display: display)
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace and newlines.
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
