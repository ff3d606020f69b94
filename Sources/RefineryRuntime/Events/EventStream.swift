// A run's events on their way to the caller's listener: the executor yields each event into an
// `AsyncStream` and goes on; a task of the stream's own reads it and calls the listener, so encoding
// and writing (JSONL, a progress line, an MCP notification) never run on the executor.

/// The events of one drive of a run, delivered in order to a listener off the executor.
struct EventStream: Sendable {
    private let continuation: AsyncStream<RunEvent>.Continuation
    private let consumer: Task<Void, Never>

    /// Starts the task that hands each event to `listener`, in the order they were yielded.
    ///
    /// Nonisolated and synchronous on purpose: the consumer task must not inherit the executor's
    /// isolation (it would run the listener on the actor again) nor the run's cancellation (a
    /// cancelled run still reports its end, and an `AsyncStream` iterated by a cancelled task stops
    /// early and drops what follows). It is awaited by ``finish()`` before the drive returns, so it
    /// never outlives the run.
    init(listener: @escaping @Sendable (RunEvent) -> Void) {
        // Unbounded: `yield` never waits and never drops. An `AsyncStream` cannot make its producer
        // wait, so a bounded buffer would lose events, and JSONL output must carry every one. Memory
        // stays bounded because a run's events are: a few per call and one per stage and round
        // (about 3 × 10,100 for the N = 100 benchmark run), and the consumer drains as they come.
        let (stream, continuation) = AsyncStream.makeStream(of: RunEvent.self, bufferingPolicy: .unbounded)
        self.continuation = continuation
        self.consumer = Task {
            for await event in stream { listener(event) }
        }
    }

    /// Hands `event` to the consumer; returns at once.
    func yield(_ event: RunEvent) {
        continuation.yield(event)
    }

    /// Ends the stream and waits until the listener has seen every event yielded before.
    func finish() async {
        continuation.finish()
        await consumer.value
    }
}
