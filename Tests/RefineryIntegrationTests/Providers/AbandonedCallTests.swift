// A call Refinery gives up on closes its connection, so a server that notices (llama.cpp's,
// vLLM's) can stop computing it: a server that keeps generating for a client that left holds
// back the calls queued behind it. Each way of giving up is tried against a fake that holds the
// request open and reports when its side of the connection closes: the call's timeout (outside
// and inside the engine), the cancellation Ctrl-C causes, a stream's idle timeout mid-reply, and
// a member whose call is still running when the run no longer needs it.

import Foundation
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import RefineryTestSupport
import Testing

@Suite struct AbandonedCallTests {
    /// How long the server may wait to see the connection closed once the call is abandoned. The close
    /// is immediate (a cancelled request is failed and its connection closed on the event loop, before
    /// the call returns), but seeing it takes the fake server's event loop and the test's polling task,
    /// which a loaded machine (a build beside the tests) can hold back for seconds: 3 s was missed
    /// once in CI. Generous, since a close that never comes fails the same way.
    static let bound = Duration.seconds(30)

    /// Holds every request to `FakeOpenAI.path` for a minute; `midReply` sends the start of an
    /// event stream first (the headers and a first piece of text).
    static func holding(_ server: FakeServer, midReply: Bool) {
        server.route(
            FakeOpenAI.path,
            .hold(
                limit: .seconds(60),
                chunks: midReply ? FakeOpenAI.chunks(["Hel"], done: false).prefix(2).map(FakeReply.frame) : []))
    }

    /// The call, whole or streamed, as the provider's caller makes it; `begun` is told when the streamed
    /// reply's first piece arrives.
    static func call(
        _ provider: any ModelProvider, _ request: ModelRequest, stream: Bool, begun: (@Sendable () -> Void)? = nil
    ) async throws {
        guard stream else {
            _ = try await provider.complete(request)
            return
        }
        for try await event in provider.stream(request) {
            if case .delta = event { begun?() }
        }
    }

    /// The error of one call to `server` as the provider's caller makes it, whole or streamed.
    static func failure(
        _ server: FakeServer, configuration: ProvidersConfig = ProvidersConfig(), timeout: Double, stream: Bool
    ) async throws -> ProviderError? {
        try await RegistryHarness.with(server, configuration: configuration) { registry in
            let provider = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
            return await providerError {
                try await Self.call(
                    provider, RegistryHarness.request("openai", "gpt-4o", timeout: timeout), stream: stream)
            }
        }
    }

    /// The call's own timeout (a provider used outside the engine): it fails as `.timeout` and the
    /// connection closes, whether or not the reply had started.
    ///
    /// That deadline is the provider's own, on the wall clock (outside the engine there is no clock to
    /// inject), so a loaded machine may pass it before the request reaches the server: such a call has
    /// no connection to close yet and proves nothing. It is made again, with twice the timeout, until
    /// a request reached the server, which holds it forever; every call must time out, and the held
    /// one's connection must be closed.
    @Test(arguments: [(false, false), (true, false), (true, true)])
    func aTimedOutCallClosesItsConnection(stream: Bool, midReply: Bool) async throws {
        try await FakeServer.run { server in
            Self.holding(server, midReply: midReply)
            var timeout = 0.5
            while true {
                let error = try await Self.failure(server, timeout: timeout, stream: stream)
                #expect(error?.code == .timeout, "\(String(describing: error))")
                if !server.requests.isEmpty || timeout > Self.bound / .seconds(1) { break }
                timeout *= 2
            }
            #expect(
                try await server.waitForAbandonedConnections(1, within: Self.bound),
                "requests received: \(server.requests.count), last timeout \(timeout) s")
        }
    }

    /// Cancelling the calling task (what Ctrl-C does to a run) closes the connection at once, while
    /// the HTTP client, and the process, go on. The call is cancelled once the server holds it, and,
    /// mid-reply, once the reply's first piece has reached the caller, not after a pause that a loaded
    /// machine could outlast.
    @Test(arguments: [(false, false), (true, false), (true, true)])
    func aCancelledCallClosesItsConnection(stream: Bool, midReply: Bool) async throws {
        try await FakeServer.run { server in
            Self.holding(server, midReply: midReply)
            try await RegistryHarness.with(server) { registry in
                let provider = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                let (begun, began) = AsyncStream.makeStream(of: Void.self)
                let task = Task {
                    try await Self.call(
                        provider, RegistryHarness.request("openai", "gpt-4o", timeout: 120), stream: stream
                    ) { began.yield() }
                }
                #expect(try await server.waitForRequests(1, within: Self.bound))
                if midReply {
                    var pieces = begun.makeAsyncIterator()
                    #expect(await pieces.next() != nil)
                }
                task.cancel()
                _ = await task.result
                #expect(try await server.waitForAbandonedConnections(1, within: Self.bound))
            }
        }
    }

    /// A stream that starts, then goes silent: the idle timeout gives up on it mid-reply.
    @Test func aStalledStreamClosesItsConnectionOnTheIdleTimeout() async throws {
        try await FakeServer.run { server in
            Self.holding(server, midReply: true)
            let configuration = ProvidersConfig(limits: ["openai": ProviderLimits(idleTimeoutSeconds: 0.5)])
            let error = try await Self.failure(server, configuration: configuration, timeout: 120, stream: true)
            #expect(error?.code == .timeout, "\(String(describing: error))")
            #expect(try await server.waitForAbandonedConnections(1, within: Self.bound))
        }
    }

    /// Inside a run: member `slow` never answers; the engine's deadline abandons its call (no
    /// retries), the run goes on with `fast`, and the slow call's connection is closed long before
    /// the run's HTTP client shuts down. The deadline is on the run's test clock, moved past it once
    /// `fast` has answered and `slow`'s request is held: on the wall clock, a loaded machine could
    /// hold `fast`'s immediate answer past the same 1 s deadline, or end `slow`'s call before it was sent.
    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func theEnginesDeadlineClosesTheConnectionOfAnAbandonedCall(stream: Bool) async throws {
        let yaml = """
            refinery: 1
            name: abandoned
            models: [openai/fast, openai/slow]
            stages: [propose]
            limits: { timeout: 1s, retries: 0, quorum: 1 }
            """
        let compiled = WorkflowCompiler().compile(yaml: yaml, displayName: "abandoned.yaml")
        let workflow = try #require(compiled.workflow, "\(compiled.diagnostics)")
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path) { request in
                request.json?["model"] as? String == "slow"
                    ? .hold(limit: .seconds(60)) : FakeOpenAI.completion("Fast answer.")
            }
            let configuration = ProvidersConfig(endpoints: [], limits: ["openai": ProviderLimits(stream: stream)])
            try await RegistryHarness.with(server, configuration: configuration) { registry throws in
                let clock = TestClock()
                let (finished, finish) = AsyncStream.makeStream(of: String.self)
                let engine = Engine(
                    workflow: workflow, providers: registry, configuration: EngineConfiguration(seed: 1, clock: clock))
                async let outcome = engine.run("Say hello") { event in
                    if case .callFinished(let call) = event { finish.yield(call.model.description) }
                }
                var answered = finished.makeAsyncIterator()
                #expect(await answered.next() == "openai/fast")
                #expect(try await server.waitForRequests(2, within: Self.bound))
                // The run's timer, asleep until the slow call's deadline.
                await clock.waitForSleepers(1)
                clock.advanceToNextDeadline()
                #expect(try await outcome.answers.map(\.answer) == ["Fast answer."])
                // Checked while the registry (and its HTTP client, whose shutdown would close
                // everything anyway) is still open.
                #expect(try await server.waitForAbandonedConnections(1, within: Self.bound))
            }
        }
    }

    /// A run cancelled while its calls are out (Ctrl-C) closes their connections before it ends.
    @Test func aCancelledRunClosesTheConnectionsOfItsCalls() async throws {
        let workflow = try #require(
            WorkflowCompiler().compile(
                yaml: """
                    refinery: 1
                    name: cancelled
                    models: [openai/a, openai/b]
                    stages: [propose]
                    """
            ).workflow)
        try await FakeServer.run { server in
            Self.holding(server, midReply: false)
            try await RegistryHarness.with(server) { registry throws in
                let run = Task {
                    try await Engine(
                        workflow: workflow, providers: registry, configuration: EngineConfiguration(seed: 1)
                    ).run("Say hello")
                }
                #expect(try await server.waitForRequests(2, within: Self.bound))
                run.cancel()
                _ = await run.result
                #expect(try await server.waitForAbandonedConnections(2, within: Self.bound))
            }
        }
    }
}
