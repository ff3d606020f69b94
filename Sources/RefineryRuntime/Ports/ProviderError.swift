// A failed model call, on the package's one error scaffolding (see `RefineryError`).

public import RefinerySyntax

/// A failed model call, classified so the engine knows whether to retry, fall back or give up.
public struct ProviderError: RefineryError, Hashable {
    /// What kind of failure this is.
    public typealias Code = ErrorCode<ProviderError>

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do. Never contains a credential.
    public var message: String
    /// The provider key (`anthropic`, `openai`, ...).
    public var provider: String
    /// HTTP status, when there was one.
    public var statusCode: Int?
    /// How long the provider asked us to wait before retrying, as it asked (not capped: the engine waits
    /// at most the call's timeout, and does not retry a call asked to wait longer).
    public var retryAfterSeconds: Double?
    /// The underlying failure (a transport or decoding error, a process exit), described for a
    /// human, or `nil`. It is text rather than `any Error` so the error stays `Hashable` and
    /// `Sendable`; whoever sets it must leave credentials out (it is shown and recorded like `message`).
    public var cause: String?
    /// What the provider reported (and bills) for a reply that failed all the same: one with no text (a reasoning
    /// model that spent its whole output cap thinking), or one its safety filter withheld. `nil` when the failure
    /// produced no reply. The engine charges it to the run like any reply, retried or not.
    public var billedUsage: TokenUsage?

    /// Creates an error.
    public init(
        code: Code, message: String, provider: String, statusCode: Int? = nil, retryAfterSeconds: Double? = nil,
        cause: String? = nil, billedUsage: TokenUsage? = nil
    ) {
        self.code = code
        self.message = message
        self.provider = provider
        self.statusCode = statusCode
        self.retryAfterSeconds = retryAfterSeconds
        self.cause = cause
        self.billedUsage = billedUsage
    }

    /// Whether a retry can succeed.
    public var isTransient: Bool { code.isTransient }

    /// ``code``'s name.
    public var errorCode: String { code.name }
    /// ``cause``.
    public var causeDescription: String? { cause }

    /// `provider: message (code, HTTP status)`, then `caused by: cause` when there is one.
    public var description: String {
        var text = "\(provider): \(message) (\(code)"
        if let statusCode { text += ", HTTP \(statusCode)" }
        text += ")"
        if let cause, !cause.isEmpty { text += "; caused by: \(cause)" }
        return text
    }
}

extension ProviderError {
    /// A wait a provider asked for, as a message says it: `40 s`, `2.5 s`, `86400 s (1 day)`,
    /// `359996400 s (11.4 years)`, `1e+300 s`, or `an unbounded time` for infinity; under 10 s to the tenth
    /// above (an HTTP date three seconds ahead is `3 s`, not `2.9922306537628174 s`), else to the second above.
    /// Every message naming a provider's wait uses it.
    package static func waitText(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "an unbounded time" }
        guard seconds < 1e15 else { return "\(seconds) s" }
        let whole = seconds.rounded(.up)
        let tenths = (seconds * 10).rounded(.up) / 10
        let text = tenths == tenths.rounded() || seconds >= 10 ? "\(Int(whole)) s" : "\(tenths) s"
        let units: [(Double, String)] = [(365 * 86_400, "year"), (86_400, "day"), (3_600, "hour")]
        guard let (size, unit) = units.first(where: { seconds >= $0.0 }) else { return text }
        let count = (seconds / size * 10).rounded() / 10
        let number = count == count.rounded() ? "\(Int(count))" : "\(count)"
        return "\(text) (\(number) \(unit)\(count == 1 ? "" : "s"))"
    }
}

extension ErrorCode where Domain == ProviderError {
    /// The key was rejected (401/403). Permanent.
    public static var authentication: Self { Self("authentication") }
    /// No key is configured for the provider. Permanent.
    public static var missingCredentials: Self { Self("missing_credentials") }
    /// The provider does not know the model (404). Permanent.
    public static var unknownModel: Self { Self("unknown_model") }
    /// The request was refused as malformed (400/422). Permanent.
    public static var badRequest: Self { Self("bad_request") }
    /// 429. Transient; honour `retryAfter`.
    public static var rateLimited: Self { Self("rate_limited") }
    /// 529 / `overloaded_error` / 503. Transient.
    public static var overloaded: Self { Self("overloaded") }
    /// The server is still loading the model (llama.cpp's `llama-server` answers 503 `Loading model` until it
    /// has; Hugging Face's endpoints `… is currently loading`). Transient, and not a failure of the call: the
    /// engine asks again every second until the call's timeout has passed in all, without spending a retry.
    public static var modelLoading: Self { Self("model_loading") }
    /// 5xx. Transient.
    public static var server: Self { Self("server") }
    /// No complete reply within the timeout. Transient.
    public static var timeout: Self { Self("timeout") }
    /// The server could not be reached: connection refused, host unreachable, name not resolved,
    /// or no connection within the connect timeout. Nothing was sent. Transient: retried with
    /// backoff, then handed to the fallback, without waiting out the call's timeout.
    public static var unreachable: Self { Self("unreachable") }
    /// The connection failed after it was made (reset, closed before a reply). Transient.
    public static var network: Self { Self("network") }
    /// The stream ended before the reply was complete. Transient.
    public static var truncated: Self { Self("truncated") }
    /// The reply could not be decoded. Transient.
    public static var invalidResponse: Self { Self("invalid_response") }
    /// The endpoint answered with something that is not the API: a redirect (3xx, not followed) or a web page
    /// (`200 text/html`: a captive portal, a proxy's login page, a server's web interface), or a reply over the
    /// size read (16 MB whole, 64 MB streamed). Permanent: asking again gets the same, and with a real key may
    /// cost money again; the base URL, the network or the server must change.
    public static var badResponse: Self { Self("bad_response") }
    /// The reply had no text. Transient.
    public static var emptyResponse: Self { Self("empty_response") }
    /// The call was cancelled.
    public static var cancelled: Self { Self("cancelled") }
    /// Not started: the budget would be exceeded.
    public static var budgetExceeded: Self { Self("budget_exceeded") }
    /// The provider cannot do what was asked (e.g. embeddings). Permanent.
    public static var unsupported: Self { Self("unsupported") }

    /// Whether a retry can succeed.
    public var isTransient: Bool {
        switch name {
        case "rate_limited", "overloaded", "model_loading", "server", "timeout", "unreachable", "network", "truncated",
            "invalid_response", "empty_response":
            true
        default: false
        }
    }
}
