// How an OpenAI-compatible endpoint is asked for JSON. OpenAI takes `json_schema`; many local
// servers (llama.cpp's Python server, older vLLM and LM Studio builds) refuse it but take
// `json_object` (some with a `schema` beside it); a few take neither. The provider starts at the
// strongest mode the endpoint is declared or known to accept and steps down on the first refusal.

package import RefineryRuntime
import Synchronization

/// The structured-output mode of an OpenAI-compatible endpoint (providers.yaml `structured`).
public enum StructuredMode: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// `response_format: {type: json_schema, json_schema: {name, schema, strict}}` (OpenAI's structured outputs).
    case jsonSchema = "json_schema"
    /// `response_format: {type: json_object, schema}`, with the schema also spelled out in the prompt.
    case jsonObject = "json_object"
    /// No `response_format`: the schema is in the prompt, and the engine's format reminder retries a bad reply.
    case prompt

    /// The next weaker mode, `nil` after ``prompt``.
    public var weaker: StructuredMode? {
        switch self {
        case .jsonSchema: .jsonObject
        case .jsonObject: .prompt
        case .prompt: nil
        }
    }

    private var strength: Int {
        switch self {
        case .jsonSchema: 2
        case .jsonObject: 1
        case .prompt: 0
        }
    }

    /// Orders by strength: ``prompt`` < ``jsonObject`` < ``jsonSchema``.
    public static func < (lhs: StructuredMode, rhs: StructuredMode) -> Bool { lhs.strength < rhs.strength }

    /// Whether `error` is the endpoint refusing the `response_format` it was sent: a 400, 422 or
    /// 500 (llama-cpp-python reports validation errors as 500) whose text names `response_format`.
    /// Such a refusal is not transient: retrying the same request can only fail again.
    package static func isRefusal(_ error: ProviderError) -> Bool {
        guard let status = error.statusCode, [400, 422, 500].contains(status) else { return false }
        return (error.message + " " + (error.cause ?? "")).contains("response_format")
    }
}

/// The mode an endpoint is known to accept, learned during a run (shared by all its calls).
package final class StructuredModeMemory: Sendable {
    private let mode: Mutex<StructuredMode>

    package init(_ initial: StructuredMode) { mode = Mutex(initial) }

    /// The mode to try now.
    package var current: StructuredMode { mode.withLock { $0 } }

    /// Sets the mode (the one a call was built with).
    package func set(_ new: StructuredMode) { mode.withLock { $0 = new } }

    /// Records that `refused` was refused; returns the mode to try next (`nil` when there is none).
    /// Calls refused concurrently all step down once: the result never goes below `refused.weaker`.
    package func stepDown(from refused: StructuredMode) -> StructuredMode? {
        guard let next = refused.weaker else { return nil }
        return mode.withLock { mode in
            mode = min(mode, next)
            return mode
        }
    }
}
