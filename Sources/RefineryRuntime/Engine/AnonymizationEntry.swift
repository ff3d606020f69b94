/// Which member hid behind which label in one prompt, recorded so a run can be audited.
public struct AnonymizationEntry: Sendable, Hashable, Codable {
    /// The round.
    public var round: Int
    /// Who saw the label (a member id or `arbiter`).
    public var viewer: String
    /// The label shown, e.g. `B`.
    public var label: String
    /// The member behind it.
    public var memberID: String

    /// Creates an entry.
    public init(round: Int, viewer: String, label: String, memberID: String) {
        self.round = round
        self.viewer = viewer
        self.label = label
        self.memberID = memberID
    }
}
