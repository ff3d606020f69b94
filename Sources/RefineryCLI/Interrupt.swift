// Ctrl-C cancels the running task (the engine finishes what it must and the ledger stays
// consistent); a second Ctrl-C exits at once.

import Dispatch
import Foundation
import Synchronization

enum Interrupt {
    static func cancellingOnInterrupt<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let (interrupts, continuation) = AsyncStream.makeStream(of: Void.self)
        let count = Mutex(0)
        signal(SIGINT, SIG_IGN)
        // A global queue with a @Sendable handler: no main-actor code runs on it (LINUX-NOTES).
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { @Sendable in
            let seen = count.withLock { value -> Int in
                value += 1
                return value
            }
            if seen > 1 { exit(1) }
            Output.error("\nrefinery: cancelling (Ctrl-C again to quit at once)\n")
            continuation.yield()
        }
        source.resume()
        defer {
            source.cancel()
            signal(SIGINT, SIG_DFL)
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
