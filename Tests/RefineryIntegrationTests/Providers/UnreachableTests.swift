// A server that cannot be reached fails at once with its own code, `.unreachable`, instead of
// AsyncHTTPClient retrying the connection until the call's deadline.

import Foundation
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

@Suite struct UnreachableTests {
    /// A refused port and a name that cannot resolve (`.invalid` never does, RFC 6761).
    @Test(arguments: ["http://127.0.0.1:1", "http://refinery-test.invalid:8080"])
    func anUnreachableServerFailsAtOnceAsUnreachable(baseURL: String) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try await ProviderRegistry.withRegistry(
            environment: ProviderEnvironment(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": baseURL]),
            configuration: ProvidersConfig(), logger: quietLogger, clock: .continuous
        ) { registry in
            let provider = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
            do {
                _ = try await provider.complete(RegistryHarness.request("openai", "gpt-4o", timeout: 60))
                Issue.record("a call to \(baseURL) succeeded")
            } catch {
                let error = try #require(error as? ProviderError)
                #expect(error.code == .unreachable, "\(error)")
                #expect(error.isTransient)
                #expect(error.message.contains("could not connect"))
            }
        }
        // A client retrying the connection would take the call's whole 60 s; at once is milliseconds alone, and
        // up to ~10 s while the whole suite loads the two cores.
        #expect(clock.now - start < .seconds(20))
    }
}
