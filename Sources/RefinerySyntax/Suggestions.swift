// "Did you mean `x`?" for misspelt keys, stage names and strategy names, by edit distance.

/// Near-miss suggestions for misspelt names.
package enum Suggestions {
    /// The candidate closest to `word` when it is close enough to be a likely typo, else `nil`.
    package static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let word = word.lowercased()
        let length = word.unicodeScalars.count
        var best: (String, Int)?
        for candidate in candidates {
            let other = candidate.lowercased()
            // Never closer than the difference of their lengths: a candidate that far cannot be suggested, and the
            // distance to a name of 400 KB (a pasted file where a model goes) took seconds per candidate.
            guard abs(other.unicodeScalars.count - length) <= maxAllowed else { continue }
            let distance = editDistance(word, other)
            if best == nil || distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        guard let (candidate, distance) = best else { return nil }
        let allowed = max(1, min(maxAllowed, candidate.count / 3))
        return distance <= allowed ? candidate : nil
    }

    /// The most edits a suggestion may be away from the word (fewer for short candidates).
    private static let maxAllowed = 3

    /// `did you mean `x`?` or `nil`.
    package static func didYouMean(_ word: String, in candidates: some Sequence<String>) -> String? {
        closest(to: word, in: candidates).map { "did you mean `\($0)`?" }
    }

    /// Optimal-string-alignment distance (a transposition counts as one edit).
    package static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs.unicodeScalars)
        let b = Array(rhs.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
