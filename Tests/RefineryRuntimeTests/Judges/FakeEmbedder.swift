// An Embedder that returns scripted vectors, counts its calls and can be switched to failing.

import RefineryCompiler
import RefineryRuntime
import Synchronization

final class FakeEmbedder: Embedder {
    struct State {
        var vectors: [String: [Double]]
        var failing = false
        var calls: [[String]] = []
    }

    private let state: Mutex<State>

    init(vectors: [String: [Double]] = [:], failing: Bool = false) {
        state = Mutex(State(vectors: vectors, failing: failing))
    }

    /// The texts of every call, in call order.
    var calls: [[String]] { state.withLock { $0.calls } }

    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    func embed(_ texts: [String], model: ModelRef) async throws -> [[Double]] {
        try state.withLock { state in
            state.calls.append(texts)
            if state.failing {
                throw ProviderError(code: .overloaded, message: "try again later", provider: "fake", statusCode: 503)
            }
            return texts.map { state.vectors[$0] ?? [1, 0] }
        }
    }
}
