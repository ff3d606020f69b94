// Per-provider admission: a cap on concurrent calls, requests/tokens-per-minute budgets, and
// pauses the provider asks for through its rate-limit headers. The engine has its own global
// cap; this one protects each provider's account limits.

import Synchronization

/// Time source for the limiter, injectable for tests.
package struct LimiterClock: Sendable {
    /// Time elapsed since a fixed origin.
    package var now: @Sendable () -> Duration
    /// Suspends for a duration; throws when cancelled.
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(now: @escaping @Sendable () -> Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The real continuous clock.
    package static var continuous: LimiterClock {
        let clock = ContinuousClock()
        let origin = clock.now
        return LimiterClock(now: { clock.now - origin }, sleep: { try await clock.sleep(for: $0) })
    }
}

/// Limits for one provider, from `providers.yaml`: admission (`nil` means unlimited) and how
/// its replies are read (streamed or whole, and how long a stream may stall).
public struct ProviderLimits: Sendable, Hashable, Codable {
    /// Most calls in flight at once.
    public var maxConcurrent: Int?
    /// Most requests started per minute.
    public var requestsPerMinute: Int?
    /// Most (estimated) input tokens sent per minute.
    public var tokensPerMinute: Int?
    /// Whether chat calls stream their replies (server-sent events); `nil` means yes. A server
    /// that mishandles streaming can be told `stream: false`.
    public var stream: Bool?
    /// Longest silence, in seconds, between two pieces of a streamed reply before the call fails
    /// as a (retried) timeout; `nil` means ``defaultIdleTimeoutSeconds``. The call's own timeout
    /// still bounds the whole reply.
    public var idleTimeoutSeconds: Double?
    /// How an OpenAI-compatible endpoint is asked for JSON (`structured`); `nil` means start at
    /// `json_schema` and step down on the first refusal.
    public var structured: StructuredMode?
    /// Output cap of a call that sets no `max_tokens` of its own (`max_tokens`); `nil` means the
    /// provider's default.
    public var maxTokens: Int?

    /// Idle timeout when none is set: long enough for a model that thinks before it writes
    /// (Anthropic sends pings meanwhile; others send nothing), short enough that a stalled
    /// stream is noticed long before a reasoning call's total timeout.
    public static let defaultIdleTimeoutSeconds = 60.0

    /// Creates limits.
    public init(
        maxConcurrent: Int? = nil, requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, stream: Bool? = nil,
        idleTimeoutSeconds: Double? = nil, structured: StructuredMode? = nil, maxTokens: Int? = nil
    ) {
        self.structured = structured
        self.maxTokens = maxTokens
        self.maxConcurrent = maxConcurrent
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.stream = stream
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    /// Whether no limit is set.
    public var isUnlimited: Bool { maxConcurrent == nil && requestsPerMinute == nil && tokensPerMinute == nil }
}

/// Admits calls to one provider under its ``ProviderLimits``.
package final class CallGate: Sendable {
    private struct State {
        var inFlight = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
        var requests: TokenBucket?
        var tokens: TokenBucket?
        /// No call starts before this time: the provider said its budget is spent until then.
        var pausedUntil: Duration = .zero
        /// The longest wait the provider asked for, uncapped (seconds; it may be years or infinite), and when
        /// it asked: a call refused under the pause reports what the provider said, not the gate's cap of it.
        var asked: (seconds: Double, at: Duration)?
    }

    private let limits: ProviderLimits
    private let clock: LimiterClock
    private let state: Mutex<State>

    package init(limits: ProviderLimits, clock: LimiterClock = .continuous) {
        self.limits = limits
        self.clock = clock
        let now = clock.now()
        var initial = State()
        initial.requests = limits.requestsPerMinute.map { TokenBucket(perMinute: Double($0), now: now) }
        initial.tokens = limits.tokensPerMinute.map { TokenBucket(perMinute: Double($0), now: now) }
        state = Mutex(initial)
    }

    /// Calls currently admitted.
    package var inFlight: Int { state.withLock { $0.inFlight } }

    /// Whether ``acquire(tokens:maxPause:)`` charges tokens (a tokens-per-minute limit is set).
    package var countsTokens: Bool { limits.tokensPerMinute != nil }

    /// Thrown by ``acquire(tokens:maxPause:)`` when the provider's pause lasts longer than the
    /// caller may wait: the call is refused at once rather than held (with the engine's slot it
    /// occupies) for the pause.
    package struct Paused: Error, Sendable {
        /// How long the pause still lasts.
        package var remaining: Duration
        /// What is left of the wait the provider asked for, in seconds: longer than ``remaining`` when the
        /// provider asked for more than the gate holds calls back.
        package var asked: Double
    }

    /// Waits for a concurrency slot, then for the rate budgets. Pair with ``release()``. While the
    /// provider's pause (``pause(for:)``) lasts longer than `maxPause`, throws ``Paused`` instead of
    /// waiting: a call held here would keep a slot other providers' calls could use.
    package func acquire(tokens: Int, maxPause: Duration = .seconds(1)) async throws {
        try await acquireSlot()
        do {
            let now = clock.now()
            let wait = try state.withLock { state -> Duration in
                let paused = state.pausedUntil - now
                if paused > maxPause {
                    let left = Self.seconds(paused)
                    let asked = state.asked.map { $0.seconds - Self.seconds(now - $0.at) } ?? left
                    throw Paused(remaining: paused, asked: max(left, asked))
                }
                let requestWait = state.requests?.reserve(1, now: now) ?? .zero
                let tokenWait = state.tokens?.reserve(Double(tokens), now: now) ?? .zero
                return max(requestWait, tokenWait, paused)
            }
            if wait > .zero { try await clock.sleep(wait) }
        } catch {
            release()
            throw error
        }
    }

    /// Holds back every call that has not started yet for `wait` (from now): the provider's
    /// rate-limit headers said its budget is spent. Calls in flight are not touched. `asked`: the wait the
    /// provider asked for, in seconds, when `wait` is a cap of it.
    package func pause(for wait: Duration, asked: Double? = nil) {
        guard wait > .zero else { return }
        let now = clock.now()
        let until = now + wait
        state.withLock { state in
            state.pausedUntil = max(state.pausedUntil, until)
            if let asked, asked > state.asked.map({ $0.seconds - Self.seconds(now - $0.at) }) ?? 0 {
                state.asked = (asked, now)
            }
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Frees the slot taken by ``acquire(tokens:)``.
    package func release() {
        guard limits.maxConcurrent != nil else { return }
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.inFlight -= 1
                return nil
            }
            // Hand the slot straight to the next waiter; inFlight stays the same.
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }

    private func acquireSlot() async throws {
        guard let cap = limits.maxConcurrent else { return }
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Decided under the lock: `onCancel` takes it too, so a waiter is resumed exactly once.
                let admitted = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.inFlight < max(1, cap) {
                        state.inFlight += 1
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                switch admitted {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
