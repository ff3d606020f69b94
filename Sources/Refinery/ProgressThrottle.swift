// How often a live progress display redraws: a run can finish dozens of calls a second, and
// rewriting the terminal line for each one costs more than it tells. Pure and clock-injected so
// the policy is tested without waiting.

/// Decides whether a progress display should redraw now: at most once per ``interval``, except
/// for milestones (a new stage or round, the last call of a round), which always draw so the
/// display never rests on a stale count.
package struct ProgressThrottle<C: Clock>: Sendable where C.Duration == Duration, C: Sendable {
    /// The shortest time between two ordinary redraws.
    package let interval: Duration
    private let clock: C
    private var lastDraw: C.Instant?

    /// A throttle reading time from `clock`; the default interval is 100 ms.
    package init(clock: C, interval: Duration = .milliseconds(100)) {
        self.clock = clock
        self.interval = interval
    }

    /// Whether to draw the state that just changed; records the draw when the answer is yes.
    /// `milestone` states are always drawn.
    package mutating func shouldDraw(milestone: Bool = false) -> Bool {
        let now = clock.now
        if !milestone, let lastDraw, lastDraw.duration(to: now) < interval { return false }
        lastDraw = now
        return true
    }
}
