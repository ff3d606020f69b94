// The registry's HTTP clients: one more per 256 calls in flight, and a wide round's calls back on the clients
// whose idle connections the previous round left.

import RefineryProviders
import Testing

@Suite struct HTTPClientPoolTests {
    @Test func aWideRoundSpreadsOverClientsAndTheNextReturnsToThem() async throws {
        try await HTTPClientPool.withPool { pool in
            let per = HTTPClientPool.connectionsPerClient
            let first = (0..<(2 * per + 88)).map { _ in ObjectIdentifier(pool.acquire()) }
            #expect(Set(first).count == 3)
            #expect(first[0] == first[per - 1])
            #expect(first[per - 1] != first[per])
            for _ in first { pool.release() }
            let again = (0..<first.count).map { _ in ObjectIdentifier(pool.acquire()) }
            #expect(again == first)
            for _ in again { pool.release() }
            // Few calls in flight use the first client alone, as one client did before.
            #expect(ObjectIdentifier(pool.acquire()) == first[0])
            pool.release()
        }
    }
}
