// The HTTP clients every provider of a registry sends through: AsyncHTTPClient clients sharing one event-loop group,
// a wide round's connections spread over several of them.

package import AsyncHTTPClient
import NIOCore
import Synchronization

/// AsyncHTTPClient clients, one more for each ``connectionsPerClient`` calls in flight.
///
/// AsyncHTTPClient's pool state machine copies its whole array of connections each time a new connection is
/// established (1.37.0: `HTTPConnectionPool.StateMachine.newHTTP1ConnectionCreated` mutates a copy of its enum
/// payload), so opening C connections to one host costs O(C²): at N = 50 (2,450 calls in flight) that copy was
/// a quarter of the HTTP client's CPU, ~65 µs a request (`RefineryHTTPFloor`, Benchmarks/README.md, real path). A
/// call goes to client `inFlight / connectionsPerClient`, so a run with fewer calls in flight than that uses one
/// client and one pool, as before, and the calls of a wide round return to the clients whose idle connections
/// the previous round left.
package final class HTTPClientPool: Sendable {
    /// Calls in flight one client serves before the next one is used.
    package static let connectionsPerClient = 256

    private let configuration: HTTPClient.Configuration
    private let clients: Mutex<[HTTPClient]>
    private let inFlight = Atomic<Int>(0)

    private init(configuration: HTTPClient.Configuration) {
        self.configuration = configuration
        clients = Mutex([Self.makeClient(configuration)])
    }

    private static func makeClient(_ configuration: HTTPClient.Configuration) -> HTTPClient {
        HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Runs `body` with a pool whose clients are shut down afterwards, even when `body` throws.
    package static func withPool<T>(
        configuration: HTTPClient.Configuration = HTTPClient.Configuration(),
        isolation: isolated (any Actor)? = #isolation, _ body: (HTTPClientPool) async throws -> T
    ) async throws -> T {
        let pool = HTTPClientPool(configuration: configuration)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(pool))
        } catch {
            result = .failure(error)
        }
        // In a task of its own, as `HTTPClient.withHTTPClient` does: a cancelled caller's clients shut down all the same.
        try await Task { try await pool.shutdown() }.value
        return try result.get()
    }

    private func shutdown() async throws {
        await Self.settle(HTTPClient.defaultEventLoopGroup)
        for client in clients.withLock({ $0 }) { try await client.shutdown() }
    }

    /// Waits until every event loop of `group` has run what it had queued, twice over, so that each
    /// connection a finished call used is back in its client's pool before the pool is shut down.
    ///
    /// When a reply ends before AsyncHTTPClient has sent its request's end (a server that answers as
    /// soon as it has the body, like the zero-delay fake), AsyncHTTPClient 1.37.0 completes the request's
    /// task first, on the task's event loop, and only then hops to the connection's event loop to hand
    /// the connection back to its pool (`HTTP1ClientChannelHandler`, `sendRequestEnd`'s write promise).
    /// A shutdown in between closes the still leased connection, and the late release then traps in the
    /// pool's state machine ("A connection that we don't know was released?"): about one 8-call run in
    /// 2,400 at zero delay. The first pass lets the task's loop finish the callbacks that enqueue the
    /// release on the connection's loop; the second, behind it on that loop, lets the release run.
    private static func settle(_ group: any EventLoopGroup) async {
        for _ in 0..<2 {
            for loop in group.makeIterator() {
                try? await loop.submit {}.get()
            }
        }
    }

    /// The index of the client for a call sent while `inFlight` others are in flight.
    package static func clientIndex(inFlight: Int) -> Int { inFlight / connectionsPerClient }

    /// The client for one more call in flight; pair with ``release()`` once the call's reply is read.
    package func acquire() -> HTTPClient {
        client(Self.clientIndex(inFlight: inFlight.add(1, ordering: .relaxed).oldValue))
    }

    /// Ends a call ``acquire()`` started.
    package func release() {
        inFlight.subtract(1, ordering: .relaxed)
    }

    private func client(_ index: Int) -> HTTPClient {
        clients.withLock { clients in
            while clients.count <= index {
                clients.append(Self.makeClient(configuration))
            }
            return clients[index]
        }
    }
}
