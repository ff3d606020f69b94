// SIGINT, SIGTERM and SIGHUP, heard through dispatch sources: a run's Ctrl-C, a service manager's stop and
// a closed terminal are the same request ("stop this run"), and a second one exits at once. The CLI's
// commands and `refinery-mcp` both listen this way.

package import Dispatch
import Foundation
import Synchronization

/// The signals that mean "stop", and how to listen for them.
package enum StopSignals {
    /// SIGINT, SIGTERM, SIGHUP.
    package static let numbers: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Listens for the stop signals: `first` runs (on a global queue) for the first one, and a second one
    /// exits the process at once with status 1. Returns once every source listens: `resume` only asks
    /// libdispatch's manager to install its handler, and until it has, the signal is ignored (its default
    /// action, terminate, must never run) and lost; under load a Ctrl-C sent as a run's first request
    /// went out was dropped and the run went on. Cancel the returned sources to stop listening.
    package static func listen(first: @escaping @Sendable (Int32) -> Void) async -> [any DispatchSourceSignal] {
        let (registrations, registered) = AsyncStream.makeStream(of: Void.self)
        let seen = Mutex(false)
        let sources = numbers.map { number in
            signal(number, SIG_IGN)
            // A global queue with a @Sendable handler: no main-actor code runs on it (LINUX-NOTES).
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { @Sendable in
                let again = seen.withLock { seen in
                    defer { seen = true }
                    return seen
                }
                if again { exit(1) }
                first(number)
            }
            source.setRegistrationHandler { @Sendable in registered.yield() }
            source.resume()
            return source
        }
        var listening = 0
        for await _ in registrations {
            listening += 1
            if listening == sources.count { break }
        }
        return sources
    }
}
