/// A failed model call, classified so the engine knows whether to retry, fall back or give up.
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case authentication, missingCredentials, unknownModel, badRequest
            case rateLimited, overloaded, server, timeout, unreachable, network, truncated, invalidResponse,
                emptyResponse
            case cancelled, budgetExceeded, unsupported
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The key was rejected (401/403). Permanent.
        public static let authentication = Code(.authentication)
        /// No key is configured for the provider. Permanent.
        public static let missingCredentials = Code(.missingCredentials)
        /// The provider does not know the model (404). Permanent.
        public static let unknownModel = Code(.unknownModel)
        /// The request was refused as malformed (400/422). Permanent.
        public static let badRequest = Code(.badRequest)
        /// 429. Transient; honour `retryAfter`.
        public static let rateLimited = Code(.rateLimited)
        /// 529 / `overloaded_error` / 503. Transient.
        public static let overloaded = Code(.overloaded)
        /// 5xx. Transient.
        public static let server = Code(.server)
        /// No complete reply within the timeout. Transient.
        public static let timeout = Code(.timeout)
        /// The server could not be reached: connection refused, host unreachable, name not resolved,
        /// or no connection within the connect timeout. Nothing was sent. Transient: retried with
        /// backoff, then handed to the fallback, without waiting out the call's timeout.
        public static let unreachable = Code(.unreachable)
        /// The connection failed after it was made (reset, closed before a reply). Transient.
        public static let network = Code(.network)
        /// The stream ended before the reply was complete. Transient.
        public static let truncated = Code(.truncated)
        /// The reply could not be decoded. Transient.
        public static let invalidResponse = Code(.invalidResponse)
        /// The reply had no text. Transient.
        public static let emptyResponse = Code(.emptyResponse)
        /// The call was cancelled.
        public static let cancelled = Code(.cancelled)
        /// Not started: the budget would be exceeded.
        public static let budgetExceeded = Code(.budgetExceeded)
        /// The provider cannot do what was asked (e.g. embeddings). Permanent.
        public static let unsupported = Code(.unsupported)

        /// Whether a retry can succeed.
        public var isTransient: Bool {
            switch base {
            case .rateLimited, .overloaded, .server, .timeout, .unreachable, .network, .truncated, .invalidResponse,
                .emptyResponse:
                true
            default:
                false
            }
        }

        /// Snake-case name, stable for JSON output and the ledger.
        public var description: String {
            switch base {
            case .missingCredentials: "missing_credentials"
            case .unknownModel: "unknown_model"
            case .badRequest: "bad_request"
            case .rateLimited: "rate_limited"
            case .invalidResponse: "invalid_response"
            case .emptyResponse: "empty_response"
            case .budgetExceeded: "budget_exceeded"
            default: base.rawValue
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do. Never contains a credential.
    public var message: String
    /// The provider key (`anthropic`, `openai`, ...).
    public var provider: String
    /// HTTP status, when there was one.
    public var statusCode: Int?
    /// How long the provider asked us to wait before retrying.
    public var retryAfterSeconds: Double?
    /// The underlying failure (a transport or decoding error, a process exit), described for a
    /// human, or `nil`. It is text rather than `any Error` so the error stays `Hashable` and
    /// `Sendable`; whoever sets it must leave credentials out (it is shown and recorded like `message`).
    public var cause: String?

    /// Creates an error.
    public init(
        code: Code, message: String, provider: String, statusCode: Int? = nil, retryAfterSeconds: Double? = nil,
        cause: String? = nil
    ) {
        self.code = code
        self.message = message
        self.provider = provider
        self.statusCode = statusCode
        self.retryAfterSeconds = retryAfterSeconds
        self.cause = cause
    }

    /// Whether a retry can succeed.
    public var isTransient: Bool { code.isTransient }

    /// `provider: message (code, HTTP status)`, then `caused by: cause` when there is one.
    public var description: String {
        var text = "\(provider): \(message) (\(code)"
        if let statusCode { text += ", HTTP \(statusCode)" }
        text += ")"
        if let cause, !cause.isEmpty { text += "; caused by: \(cause)" }
        return text
    }
}
