/// Changes a caller applies between two rounds of a ``RunSession``.
public struct RoundOverrides: Sendable, Hashable, Codable {
    /// Text added to every prompt of the next round (and kept for later rounds).
    public var additionalContext: String?
    /// Member ids to drop for the rest of the run (``Member/id``, e.g. `gpt-4o#2`); an id that is no member is
    /// refused by ``RunSession/nextRound(overrides:)``.
    public var dropMembers: [String]

    /// Creates overrides; the defaults change nothing.
    public init(additionalContext: String? = nil, dropMembers: [String] = []) {
        self.additionalContext = additionalContext
        self.dropMembers = dropMembers
    }
}
