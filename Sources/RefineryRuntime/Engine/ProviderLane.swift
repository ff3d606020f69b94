// The queue of calls ready to start for one provider.

import RefineryCompiler

/// One provider's calls that are ready to start, in order, and how many of its calls are in flight.
/// A class owned by the executor actor, so the parent loop updates it without hashing the provider's
/// name for every queue and counter it touches.
final class ProviderLane {
    /// Most calls in flight at once (0: no limit).
    let cap: Int
    var inFlight = 0
    private var queue: [CallTicket?] = []
    private var head = 0

    init(cap: Int) { self.cap = cap }

    func enqueue(_ ticket: CallTicket) { queue.append(ticket) }

    /// The next ticket, left queued.
    func peek() -> CallTicket? { head < queue.count ? queue[head] : nil }

    /// Drops the next ticket (its slot is cleared so a started call's state is not kept alive here).
    func dequeue() {
        guard head < queue.count else { return }
        queue[head] = nil
        head += 1
        if head >= 1024, head * 2 >= queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }

    /// Every queued ticket, removed.
    func removeAll() -> [CallTicket] {
        defer {
            queue = []
            head = 0
        }
        return queue[head...].compactMap { $0 }
    }
}
