// A count with its noun in the number the count takes, for every message and table that prints one:
// `1 call`, `2 calls`, not `1 calls` or `1 call(s)`.

/// Counts with their nouns.
package enum Counted {
    /// `count` and `noun`, singular for 1 and `plural` (default: `noun` + `s`) otherwise: `1 call`, `0 calls`.
    package static func text(_ count: Int, _ noun: String, plural: String? = nil) -> String {
        "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
    }
}
