/// What a `close` stage decided at the end of a round.
public struct RoundDecision: Sendable, Hashable, Codable {
    /// Whether the repeat block ends after this round.
    public var shouldStop: Bool
    /// Whether it ends because the strategy held (not because of `iterations.max`).
    public var converged: Bool
    /// The signal that decided, e.g. `vote-threshold: gem#1 mean 8.50 ≥ 8.0, leader 2/2 rounds`.
    public var signal: String
    /// The current leader's member id, when the strategy has one.
    public var leader: String?
    /// The draft the semantic regression guard rolled back to, when it fired.
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
