// The drafts the semantic strategy has seen, for the successive comparison and the regression guard.

/// The original draft, the last draft, and every revision with its similarity to the original.
struct DraftHistory: Sendable {
    struct Revision: Sendable {
        var round: Int
        var text: String
        var similarityToOriginal: Double
    }

    var original: String?
    var last: String?
    var revisions: [Revision] = []
}
