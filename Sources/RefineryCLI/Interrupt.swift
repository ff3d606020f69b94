// Ctrl-C, SIGTERM and SIGHUP cancel the running task (the engine finishes what it must, the ledger
// stays consistent and the run is recorded `cancelled`, resumable); a second signal exits at once.
// A service manager's stop (SIGTERM) or a closed terminal (SIGHUP) is the same request as Ctrl-C:
// left at their default action they would kill the process with the run still marked `running`.

import Dispatch
import Foundation
import Synchronization

enum Interrupt {
    /// The signals that mean "stop this run".
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    static func cancellingOnInterrupt<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let (interrupts, continuation) = AsyncStream.makeStream(of: Void.self)
        let (registrations, registered) = AsyncStream.makeStream(of: Void.self)
        let count = Mutex(0)
        let sources = signals.map { number in
            // Ignored first, so the default action (terminate) never runs; the dispatch source still sees it.
            signal(number, SIG_IGN)
            // A global queue with a @Sendable handler: no main-actor code runs on it (LINUX-NOTES).
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { @Sendable in
                let seen = count.withLock { value -> Int in
                    value += 1
                    return value
                }
                if seen > 1 { exit(1) }
                let again = number == SIGINT ? "Ctrl-C" : number == SIGTERM ? "SIGTERM" : "SIGHUP"
                Output.error("\nrefinery: cancelling (\(again) again to quit at once)\n")
                continuation.yield()
            }
            source.setRegistrationHandler { @Sendable in registered.yield() }
            source.resume()
            return source
        }
        // `resume` only asks the dispatch manager to listen; until it does, the signal is ignored (above) and
        // lost. The run starts once every source listens: a Ctrl-C after its first call is out always cancels
        // it (under load the manager lagged, and an interrupt sent as the first request arrived was dropped).
        var listening = 0
        for await _ in registrations {
            listening += 1
            if listening == sources.count { break }
        }
        // A parent that started us with these signals blocked (Foundation.Process from async code does,
        // LINUX-NOTES) would otherwise keep them pending forever.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for number in signals { sigaddset(&unblocked, number) }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        defer {
            for source in sources { source.cancel() }
            for number in signals { signal(number, SIG_DFL) }
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                for await _ in interrupts { return nil }
                return nil
            }
            while let next = try await group.next() {
                if let value = next {
                    group.cancelAll()
                    return value
                }
                group.cancelAll()
            }
            throw CancellationError()
        }
    }
}
