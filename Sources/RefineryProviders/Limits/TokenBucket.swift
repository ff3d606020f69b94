// A token bucket as a pure value: time is passed in, so the limiter is tested without
// sleeping. Reservations may drive the level below zero; the caller then waits for the
// returned duration, which queues callers fairly without a waiter list.

/// A token bucket that refills continuously.
package struct TokenBucket: Sendable, Hashable {
    /// Most tokens the bucket holds (the burst size).
    package let capacity: Double
    /// Tokens added per second.
    package let refillPerSecond: Double
    private var level: Double
    private var lastRefill: Duration

    /// A full bucket of `capacity` refilled at `perMinute / 60` tokens a second, observed first at `now`.
    package init(perMinute: Double, now: Duration) {
        capacity = max(1, perMinute)
        refillPerSecond = max(1, perMinute) / 60
        level = capacity
        lastRefill = now
    }

    /// Takes `cost` tokens at time `now`; returns how long the caller must wait before going ahead
    /// (zero when the bucket had enough).
    package mutating func reserve(_ cost: Double, now: Duration) -> Duration {
        let elapsed = max(0, Self.seconds(now - lastRefill))
        level = min(capacity, level + elapsed * refillPerSecond)
        lastRefill = max(now, lastRefill)
        level -= min(max(0, cost), capacity)
        guard level < 0 else { return .zero }
        return .milliseconds(Int64((-level / refillPerSecond * 1000).rounded(.up)))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
