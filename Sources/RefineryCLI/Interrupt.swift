// Ctrl-C, SIGTERM and SIGHUP cancel the running task (the engine finishes what it must, the ledger
// stays consistent and the run is recorded `cancelled`, resumable); a second signal exits at once.
// A service manager's stop (SIGTERM) or a closed terminal (SIGHUP) is the same request as Ctrl-C:
// left at their default action they would kill the process with the run still marked `running`.

import Dispatch
import Foundation
import Refinery

enum Interrupt {
    static func cancellingOnInterrupt<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let (interrupts, continuation) = AsyncStream.makeStream(of: Void.self)
        let sources = await StopSignals.listen { number in
            let again = number == SIGINT ? "Ctrl-C" : number == SIGTERM ? "SIGTERM" : "SIGHUP"
            Output.error("\nrefinery: cancelling (\(again) again to quit at once)\n")
            continuation.yield()
        }
        // A parent that started us with these signals blocked (Foundation.Process from async code does,
        // LINUX-NOTES) would otherwise keep them pending forever.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for number in StopSignals.numbers { sigaddset(&unblocked, number) }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        defer {
            for source in sources { source.cancel() }
            for number in StopSignals.numbers { signal(number, SIG_DFL) }
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
