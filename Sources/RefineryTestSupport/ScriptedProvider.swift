// A model provider driven by a script: tests decide every reply, error, delay and garbage
// answer from the request and the engine's call context (member, node kind, round, labels).

import RefineryCompiler
package import RefineryRuntime
import Synchronization

/// One call as the script sees it.
package struct ScriptedCall: Sendable {
    /// The request as the engine sent it.
    package var request: ModelRequest
    /// The engine's bookkeeping for the call (`nil` when called outside the engine).
    package var context: CallContext?

    /// Member id or `arbiter`.
    package var participant: String { context?.participant ?? "" }
    /// Prompt kind, e.g. `propose`, `evaluatePairwise`, `synthesize`.
    package var kind: String { context?.kind ?? "" }
    /// Round number.
    package var round: Int { context?.round ?? 0 }
    /// Attempt of this request, from 1.
    package var attempt: Int { context?.attempt ?? 1 }
    /// Whether the request carries the format reminder.
    package var reminder: Bool { context?.reminder ?? false }
    /// Label → member id of the answers shown.
    package var labels: [String: String] { context?.labels ?? [:] }
    /// The user message.
    package var user: String { request.messages.last?.content ?? "" }
}

/// What the script answers.
package indirect enum ScriptedResponse: Sendable {
    /// A reply with this text and usage.
    case text(String, usage: TokenUsage = TokenUsage(inputTokens: 100, outputTokens: 50))
    /// A failure.
    case error(ProviderError)
    /// Waits on the provider's clock, then answers.
    case delayed(Duration, ScriptedResponse)
}

/// A ``ModelProvider`` whose replies come from a closure. Records every request it receives.
package final class ScriptedProvider: ModelProvider {
    private let script: @Sendable (ScriptedCall) -> ScriptedResponse
    private let clock: (any Clock<Duration>)?
    private let log = Mutex<[ScriptedCall]>([])

    /// Creates a provider. `clock` serves `.delayed` responses (defaults to a continuous clock).
    package init(clock: (any Clock<Duration>)? = nil, script: @escaping @Sendable (ScriptedCall) -> ScriptedResponse) {
        self.clock = clock
        self.script = script
    }

    /// Every call received, in arrival order.
    package var calls: [ScriptedCall] { log.withLock { $0 } }

    package func complete(_ request: ModelRequest) async throws -> ModelReply {
        let call = ScriptedCall(request: request, context: CallContext.current)
        log.withLock { $0.append(call) }
        return try await respond(script(call), model: request.model.model)
    }

    private func respond(_ response: ScriptedResponse, model: String) async throws -> ModelReply {
        switch response {
        case .text(let text, let usage):
            return ModelReply(text: text, usage: usage, model: model, finishReason: "stop")
        case .error(let error):
            throw error
        case .delayed(let duration, let then):
            try await sleep(duration)
            return try await respond(then, model: model)
        }
    }

    private func sleep(_ duration: Duration) async throws {
        if let clock {
            try await Self.sleep(on: clock, duration)
        } else {
            try await ContinuousClock().sleep(for: duration)
        }
    }

    private static func sleep<C: Clock<Duration>>(on clock: C, _ duration: Duration) async throws {
        try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil)
    }
}
