// The scheduler of `refinery batch` and `refinery bench`: jobs in, at most `concurrency` runs in
// flight in one task group, each child *returning* its job's record; only the parent loop decides
// what starts next (the budget may refuse it, a cancellation stops launching) and hands each record,
// as it arrives, to the sink. Nothing is kept per finished job, so memory does not grow with them.

/// Why a batch stopped launching jobs before the last one.
package enum BatchStop: Error, Sendable, Equatable {
    /// The next job's estimated maximum cost did not fit in what is left of the batch budget.
    case budget(String)
    /// The batch was cancelled (Ctrl-C, SIGTERM).
    case cancelled
    /// Not a stop: the job does not fit now, but what the jobs in flight hold comes back as they finish.
    /// The runner starts it once one has finished; with none in flight it is ``budget(_:)`` with this reason.
    case untilRunsFinish(String)
}

/// Runs jobs with a bounded window of concurrent runs.
package struct BatchRunner: Sendable {
    /// The most jobs in flight at once (at least 1).
    package var concurrency: Int

    package init(concurrency: Int) {
        self.concurrency = max(1, concurrency)
    }

    /// Runs `jobs` in order, at most ``concurrency`` at a time.
    ///
    /// - Parameters:
    ///   - start: called by the parent before each job: the work to run as a child task, or a
    ///     ``BatchStop`` that ends the launching (the jobs in flight still finish).
    ///   - finished: called by the parent, one at a time, with each job's result as it arrives.
    /// - Returns: why launching stopped early, or `nil` when every job ran.
    package func run<Jobs: Sequence<BatchJob>, Result: Sendable>(
        _ jobs: Jobs,
        start: (BatchJob) async -> Swift.Result<@Sendable () async -> Result, BatchStop>,
        finished: (Result) async throws -> Void
    ) async throws -> BatchStop? {
        var iterator = jobs.makeIterator()
        return try await run(next: { iterator.next() }, start: start, finished: finished)
    }

    /// Runs the jobs `next` hands out (until it returns `nil`), at most ``concurrency`` at a time: the
    /// same scheduler over a job source that is not a list in memory (`refinery worker` claims its jobs
    /// from the shared ledger as slots free up).
    ///
    /// - Parameters:
    ///   - next: called by the parent when a slot is free: the next job, or `nil` when there is none.
    ///   - start: called by the parent before each job: the work to run as a child task, or a
    ///     ``BatchStop`` that ends the launching (the jobs in flight still finish), or
    ///     ``BatchStop/untilRunsFinish(_:)``, which asks again for the same job once a job in flight finished.
    ///   - finished: called by the parent, one at a time, with each job's result as it arrives.
    /// - Returns: why launching stopped early, or `nil` when every job ran.
    package func run<Result: Sendable>(
        next: () async throws -> BatchJob?,
        start: (BatchJob) async throws -> Swift.Result<@Sendable () async -> Result, BatchStop>,
        finished: (Result) async throws -> Void
    ) async throws -> BatchStop? {
        try await withThrowingTaskGroup(of: Result.self) { group in
            var inFlight = 0
            var stop: BatchStop?
            var exhausted = false
            /// The job `start` asked to start once a job in flight finished.
            var held: BatchJob?
            launching: while true {
                while stop == nil, !exhausted, inFlight < concurrency {
                    if Task.isCancelled {
                        stop = .cancelled
                        break
                    }
                    let job: BatchJob
                    if let waiting = held {
                        job = waiting
                        held = nil
                    } else if let following = try await next() {
                        job = following
                    } else {
                        exhausted = true
                        break
                    }
                    switch try await start(job) {
                    case .success(let work):
                        group.addTask { await work() }
                        inFlight += 1
                    case .failure(.untilRunsFinish(let reason)) where inFlight == 0:
                        stop = .budget(reason)
                    case .failure(.untilRunsFinish):
                        held = job
                        guard let result = try await group.next() else { break launching }
                        inFlight -= 1
                        try await finished(result)
                    case .failure(let reason):
                        stop = reason
                    }
                }
                guard let result = try await group.next() else { break }
                inFlight -= 1
                try await finished(result)
            }
            if stop == nil, !exhausted, Task.isCancelled {
                if held != nil {
                    stop = .cancelled
                } else if try await next() != nil {
                    stop = .cancelled
                }
            }
            return stop
        }
    }
}
