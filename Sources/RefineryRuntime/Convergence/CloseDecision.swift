/// What a `close` stage decided.
package struct CloseDecision: Sendable, Hashable, Codable {
    /// Whether the repeat block ends after this round.
    package var shouldStop: Bool
    /// Whether the strategy's condition held (false when stopping only because of `iterations.max`).
    package var converged: Bool
    /// Which signal stopped or continued the run, with its numbers, for logs and output.
    package var signal: String
    /// The member with the highest mean score (ties: the previous leader, then member order); `nil` without scores.
    package var leader: String?
    /// When the semantic regression guard fired: the best draft seen, which replaces the current draft.
    package var rolledBackTo: String?

    /// Creates a decision.
    package init(
        shouldStop: Bool, converged: Bool, signal: String, leader: String? = nil, rolledBackTo: String? = nil
    ) {
        self.shouldStop = shouldStop
        self.converged = converged
        self.signal = signal
        self.leader = leader
        self.rolledBackTo = rolledBackTo
    }
}
