// A word diff of one member's answer against its previous round, as HTML: kept words as text,
// added ones in <ins>, removed ones in <del>. Longest common subsequence over words; answers longer
// than the cap are shown without a diff, so a huge answer cannot make the report quadratic.

package enum WordDiff {
    /// Words beyond which the diff is skipped (the LCS table is words² cells).
    static let maxWords = 1500

    /// `new` as escaped HTML, marked against `old`; `nil` when either side is too long to diff.
    package static func html(old: String, new: String) -> String? {
        let before = words(old)
        let after = words(new)
        guard before.count <= maxWords, after.count <= maxWords else { return nil }
        let rows = before.count + 1
        let columns = after.count + 1
        var table = [Int](repeating: 0, count: rows * columns)
        for i in stride(from: before.count - 1, through: 0, by: -1) {
            for j in stride(from: after.count - 1, through: 0, by: -1) {
                table[i * columns + j] =
                    before[i] == after[j]
                    ? table[(i + 1) * columns + j + 1] + 1
                    : max(table[(i + 1) * columns + j], table[i * columns + j + 1])
            }
        }
        var parts: [String] = []
        var i = 0
        var j = 0
        while i < before.count || j < after.count {
            if i < before.count, j < after.count, before[i] == after[j] {
                parts.append(HTMLText.escape(after[j]))
                i += 1
                j += 1
            } else if i < before.count,
                j == after.count || table[(i + 1) * columns + j] >= table[i * columns + j + 1]
            {
                // Removals before additions, so a replaced word reads as "old → new".
                parts.append("<del>\(HTMLText.escape(before[i]))</del>")
                i += 1
            } else {
                parts.append("<ins>\(HTMLText.escape(after[j]))</ins>")
                j += 1
            }
        }
        return parts.joined(separator: " ")
    }

    private static func words(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0.isWhitespace })
    }
}
