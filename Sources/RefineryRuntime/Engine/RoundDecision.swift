/// What a `close` stage decided at the end of a round.
public struct RoundDecision: Sendable, Hashable, Codable {
    /// Whether the repeat block ends after this round.
    public var shouldStop: Bool
    /// Whether the strategy's condition held (false when stopping only because of `iterations.max`).
    public var converged: Bool
    /// The signal that decided, e.g. `vote-threshold: gem#1 mean 8.50 ≥ 8.0, leader 2/2 rounds`.
    public var signal: String
    /// The round's leader (``RoundLeader``: the highest mean score; ties keep the previous leader, then
    /// member order); nil without scores.
    public var leader: String?
    /// When the semantic regression guard fired: the best draft seen, which replaces the current draft.
    public var rolledBackTo: String?

    /// Creates a decision.
    public init(shouldStop: Bool, converged: Bool, signal: String, leader: String? = nil, rolledBackTo: String? = nil) {
        self.shouldStop = shouldStop
        self.converged = converged
        self.signal = signal
        self.leader = leader
        self.rolledBackTo = rolledBackTo
    }
}
