// The cheap scorers of the semantic cascade (char and Jaccard) and cosine for embeddings.

/// Similarity measures between two drafts.
package enum TextSimilarity {
    /// Above this product of lengths, edit distance runs over words instead of characters, so one
    /// comparison stays in the low milliseconds even for long drafts.
    static let maxCharCells = 4_000_000

    /// Jaccard confidence reaches 1 when the smaller token set has this many tokens.
    static let jaccardFullConfidenceTokens = 10.0

    /// Char similarity: `1 − Levenshtein(a, b) / max(|a|, |b|)` over Unicode scalars, in 0...1 (1 = equal).
    /// When the texts are long (`|a|·|b|` > 4 M) the distance is computed over whitespace-separated words
    /// instead, and for still longer texts over the multisets of words (linear time). Two empty texts are
    /// equal (1).
    package static func charSimilarity(_ a: String, _ b: String) -> Double {
        if a == b { return 1 }
        let left = Array(a.unicodeScalars), right = Array(b.unicodeScalars)
        let longest = max(left.count, right.count)
        guard longest > 0 else { return 1 }
        if left.count * right.count <= maxCharCells {
            return 1 - Double(editDistance(left, right)) / Double(longest)
        }
        let leftWords = a.split(whereSeparator: \.isWhitespace), rightWords = b.split(whereSeparator: \.isWhitespace)
        let words = max(leftWords.count, rightWords.count)
        guard words > 0 else { return 1 }
        if leftWords.count * rightWords.count <= maxCharCells {
            return 1 - Double(editDistance(leftWords, rightWords)) / Double(words)
        }
        return 1 - Double(multisetDistance(leftWords, rightWords)) / Double(words)
    }

    /// For texts too long even for word-level edit distance (a quadratic table of billions of
    /// cells): the words one text has and the other lacks, counted with multiplicity, in linear
    /// time. It ignores word order, so it can only overrate similarity, never invent a difference.
    static func multisetDistance(_ a: [Substring], _ b: [Substring]) -> Int {
        var counts: [Substring: Int] = [:]
        for word in a { counts[word, default: 0] += 1 }
        for word in b { counts[word, default: 0] -= 1 }
        let surplus = counts.values.reduce(0) { $0 + max(0, $1) }
        let deficit = counts.values.reduce(0) { $0 + max(0, -$1) }
        return max(surplus, deficit)
    }

    /// Levenshtein distance with two rows.
    static func editDistance<Element: Equatable>(_ a: [Element], _ b: [Element]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Normalized token set: lowercased, split on anything that is not a letter or digit (punctuation
    /// stripped), English and Portuguese stop-words removed.
    package static func tokens(_ text: String) -> Set<String> {
        var result: Set<String> = []
        for word in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }) {
            let token = String(word)
            if !StopWords.all.contains(token) { result.insert(token) }
        }
        return result
    }

    /// Jaccard similarity of the token sets (two empty sets count as equal) and its confidence,
    /// `min(1, min(|A|, |B|) / 10)`: agreement between tiny token sets says little.
    package static func jaccard(_ a: String, _ b: String) -> (similarity: Double, confidence: Double) {
        let left = tokens(a), right = tokens(b)
        let union = left.union(right).count
        let similarity = union == 0 ? 1 : Double(left.intersection(right).count) / Double(union)
        let confidence = min(1, Double(min(left.count, right.count)) / jaccardFullConfidenceTokens)
        return (similarity, confidence)
    }

    /// Cosine similarity; `nil` when the vectors differ in length or one is zero.
    package static func cosine(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count == b.count, !a.isEmpty else { return nil }
        var dot = 0.0, normA = 0.0, normB = 0.0
        for (x, y) in zip(a, b) {
            dot += x * y
            normA += x * x
            normB += y * y
        }
        guard normA > 0, normB > 0 else { return nil }
        return dot / (normA.squareRoot() * normB.squareRoot())
    }
}
