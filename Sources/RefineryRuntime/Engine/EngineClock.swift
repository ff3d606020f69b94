// The injected `any Clock<Duration>`, opened once into closures so the executor and its child
// tasks can sleep and measure without generic plumbing.

/// Sleep and elapsed time on the run's clock.
struct EngineClock: Sendable {
    /// Sleeps for a duration on the injected clock; throws when cancelled.
    let sleep: @Sendable (Duration) async throws -> Void
    /// Sleeps until a point given as time since the clock was opened; throws when cancelled.
    let sleepUntil: @Sendable (Duration) async throws -> Void
    /// Time since the clock was opened.
    let elapsed: @Sendable () -> Duration

    init(_ clock: any Clock<Duration>) {
        self = Self.open(clock)
    }

    private init(
        sleep: @escaping @Sendable (Duration) async throws -> Void,
        sleepUntil: @escaping @Sendable (Duration) async throws -> Void, elapsed: @escaping @Sendable () -> Duration
    ) {
        self.sleep = sleep
        self.sleepUntil = sleepUntil
        self.elapsed = elapsed
    }

    private static func open<C: Clock<Duration>>(_ clock: C) -> EngineClock {
        let start = clock.now
        return EngineClock(
            sleep: { duration in try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil) },
            sleepUntil: { offset in try await clock.sleep(until: start.advanced(by: offset), tolerance: nil) },
            elapsed: { start.duration(to: clock.now) }
        )
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
