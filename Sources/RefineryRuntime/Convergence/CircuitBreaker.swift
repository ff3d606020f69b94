// Stops calling a failing embedder for a while, so a provider outage does not stall every round.

/// Opens after `threshold` consecutive failures and stays open for `cooldown`; then lets one call
/// through (half-open): success closes it, failure opens it again for another cooldown.
struct CircuitBreaker: Sendable {
    let threshold: Int
    let cooldown: Duration
    private(set) var consecutiveFailures = 0
    private(set) var openUntil: Duration?

    init(threshold: Int, cooldown: Duration) {
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
    }

    /// Whether a call may be made at `now`.
    func allowsCall(at now: Duration) -> Bool {
        guard let openUntil else { return true }
        return now >= openUntil
    }

    mutating func recordSuccess() {
        consecutiveFailures = 0
        openUntil = nil
    }

    mutating func recordFailure(at now: Duration) {
        consecutiveFailures += 1
        if consecutiveFailures >= threshold {
            openUntil = now + cooldown
        }
    }
}
