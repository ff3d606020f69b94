// One error model for every wire protocol: an HTTP status, the provider's error body and the
// rate-limit headers become a ``ProviderError`` with a code the engine can act on. Pure, so
// every row of the mapping is tested without a server.

package import Foundation
package import RefineryRuntime
import RefinerySyntax

/// Maps HTTP failures to ``ProviderError``.
package enum ErrorClassifier {
    /// The error for a non-2xx reply. `body` is the reply text (already redacted by the caller).
    package static func classify(
        status: Int, headers: [(String, String)], body: String, provider: String, model: String, now: Date = Date()
    ) -> ProviderError {
        let json = JSONValue.parse(body)
        let detail = errorDetail(json) ?? bodySummary(body, headers: headers)
        let errorType = (json?["error"]?["type"]?.string ?? json?["error"]?["status"]?.string ?? "").lowercased()
        let retryAfter = retryAfterSeconds(headers: headers, now: now) ?? retryDelay(json)
        let suffix = detail.isEmpty ? "" : ": \(detail)"
        func error(_ code: ProviderError.Code, _ message: String) -> ProviderError {
            ProviderError(
                code: code, message: message, provider: provider, statusCode: status, retryAfterSeconds: retryAfter)
        }
        if errorType == "overloaded_error" {
            return error(.overloaded, "\(provider) is overloaded\(suffix); retry later")
        }
        switch status {
        case 401, 403:
            return error(
                .authentication,
                "the \(provider) API rejected the credentials\(suffix); check the key's value and permissions")
        case 404:
            return error(
                .unknownModel,
                "\(provider) does not know model `\(model)`\(suffix); "
                    + "check the model name (`refinery models` lists known ones)"
            )
        case 400, 413, 422:
            if errorType.contains("not_found")
                || detail.lowercased().contains("model") && detail.lowercased().contains("not found")
            {
                return error(.unknownModel, "\(provider) does not know model `\(model)`\(suffix)")
            }
            return error(.badRequest, "\(provider) refused the request as invalid\(suffix)")
        case 408:
            return error(.timeout, "\(provider) timed out the request\(suffix)")
        case 429 where errorType == "insufficient_quota":
            // OpenAI's "You exceeded your current quota": credits or the monthly limit are used up, and no
            // retry (nor waiting a minute) helps; it was retried and advised "retry later".
            return error(
                .authentication,
                "\(provider) refused the key: its account has no quota left\(suffix); check the plan and billing")
        case 429:
            let wait =
                retryAfter.map { "; retry after \(ProviderError.waitText($0))" }
                ?? "; retry later or lower the request rate"
            return error(.rateLimited, "\(provider) rate limit reached\(suffix)\(wait)")
        case 503 where detail.lowercased().contains("loading"):
            // llama.cpp's `llama-server` until its model is in memory (`{"error":{"code":503,"message":"Loading
            // model","type":"unavailable_error"}}`), which takes from seconds to minutes.
            return error(.modelLoading, "\(provider) is still loading the model (HTTP 503)\(suffix)")
        case 503, 529:
            return error(.overloaded, "\(provider) is overloaded (HTTP \(status))\(suffix); retry later")
        case 500...599:
            return error(.server, "\(provider) server error (HTTP \(status))\(suffix)")
        case 300...399:
            // The host only: a redirect's URL may carry a login token or a session id.
            let location = headers.first { $0.0.lowercased() == "location" }.map { " to \(redirectTarget($0.1))" } ?? ""
            return error(
                .badResponse,
                "\(provider) answered with a redirect (HTTP \(status))\(location); redirects are not followed, "
                    + "so keys never reach another host: set the base URL to the final address")
        default:
            return error(.invalidResponse, "\(provider) answered with unexpected HTTP \(status)\(suffix)")
        }
    }

    /// Where a redirect's `Location` points, as a message names it: `host \`login.example.net\``, or `a relative
    /// address` (the same host), never the path or query, which may carry a session id or a token.
    static func redirectTarget(_ location: String) -> String {
        guard let url = URL(string: location.trimmingCharacters(in: .whitespaces)) else {
            return "an unreadable address"
        }
        guard let host = url.host, !host.isEmpty else { return "a relative address on the same host" }
        let port = url.port.map { ":\($0)" } ?? ""
        return "host `\(TerminalText.escaped(host + port))`"
    }

    /// Whether a reply is a web page: `text/html` (or XHTML), or a body that opens as one.
    package static func isWebPage(_ body: String, headers: [(String, String)]) -> Bool {
        let type = headers.first { $0.0.lowercased() == "content-type" }?.1.lowercased() ?? ""
        let opening = body.prefix(512).drop { $0.isWhitespace }.lowercased()
        return type.hasPrefix("text/html") || type.hasPrefix("application/xhtml") || opening.hasPrefix("<!doctype html")
            || opening.hasPrefix("<html")
    }

    /// A reply body for a message, when it holds no provider message: a web page (`text/html`, or a body
    /// that opens as one: a proxy's or load balancer's error page) as `a web page (text/html, title "502
    /// Bad Gateway")`, never its markup; anything else as its first 300 characters. The one summary of a
    /// body every failure message uses (an error status, a page instead of a stream or of JSON).
    package static func bodySummary(_ body: String, headers: [(String, String)]) -> String {
        guard isWebPage(body, headers: headers) else { return String(body.prefix(300)) }
        let type = headers.first { $0.0.lowercased() == "content-type" }?.1.lowercased() ?? ""
        let kind = type.isEmpty ? "text/html" : String(type.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces))
        guard let title = htmlTitle(body), !title.isEmpty else { return "a web page (\(kind))" }
        return "a web page (\(kind), title \"\(title)\")"
    }

    /// The text of a page's `<title>`, whitespace collapsed, at most 120 characters; `nil` without one.
    private static func htmlTitle(_ page: String) -> String? {
        let head = page.prefix(65_536)
        guard let open = head.range(of: "<title", options: .caseInsensitive),
            let start = head[open.upperBound...].firstIndex(of: ">"),
            let close = head[start...].range(of: "</title", options: .caseInsensitive)
        else { return nil }
        let text = head[head.index(after: start)..<close.lowerBound].split(whereSeparator: \.isWhitespace)
            .joined(separator: " ")
        return String(text.prefix(120))
    }

    /// The provider's own error message from an error body:
    /// `{"error":{"message":…}}` (OpenAI, Anthropic, Gemini) or `{"message":…}`.
    package static func errorDetail(_ json: JSONValue?) -> String? {
        guard let json else { return nil }
        if let message = json["error"]?["message"]?.string { return message }
        if let message = json["error"]?.string { return message }
        return json["message"]?.string
    }

    /// Longest pause an endpoint's rate-limit headers put on its calls (a day): a larger value is a server
    /// bug, and pausing for it would hang the run. The wait a failed call reports is not capped: the
    /// engine compares what was asked with the call's timeout and says what it did about it.
    package static let maxRetryAfterSeconds = 86_400.0

    /// How long the server asks us to wait: `retry-after-ms`, `Retry-After` (seconds or an
    /// HTTP-date), then the latest `x-ratelimit-reset-*` (`1s`, `6m0s`, `20ms`): the headers do
    /// not say which budget ran out, so the wait covers both. As asked, however long (a server's
    /// `86400` is reported as a day, its `1e300` as that); `nil` for a negative, infinite or garbage value.
    package static func retryAfterSeconds(headers: [(String, String)], now: Date = Date()) -> Double? {
        func value(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name }?.1.trimmingCharacters(in: .whitespaces)
        }
        func bounded(_ seconds: Double?) -> Double? {
            guard let seconds, seconds.isFinite, seconds >= 0 else { return nil }
            return seconds
        }
        if let milliseconds = value("retry-after-ms").flatMap(Double.init), let seconds = bounded(milliseconds / 1000) {
            return seconds
        }
        if let retryAfter = value("retry-after") {
            if let seconds = bounded(Double(retryAfter)) { return seconds }
            if let date = parseHTTPDate(retryAfter) { return bounded(max(0, date.timeIntervalSince(now))) }
        }
        let resets = headers.filter { $0.0.lowercased().hasPrefix("x-ratelimit-reset") }.compactMap {
            bounded(parseDuration($0.1))
        }
        return resets.max()
    }

    /// The wait a Google API (Gemini) asks for in its error body rather than a header: a
    /// `type.googleapis.com/google.rpc.RetryInfo` entry of `error.details` with `retryDelay` (`"37s"`,
    /// `"0.5s"`). As asked, however long.
    package static func retryDelay(_ json: JSONValue?) -> Double? {
        for detail in json?["error"]?["details"]?.array ?? []
        where detail["@type"]?.string?.hasSuffix("google.rpc.RetryInfo") == true {
            guard let delay = detail["retryDelay"]?.string.flatMap(parseDuration), delay.isFinite, delay >= 0
            else { continue }
            return delay
        }
        return nil
    }

    /// Parses Go-style durations as OpenAI sends them: `1s`, `6m0s`, `20ms`, `1h2m3.5s`, or bare seconds.
    package static func parseDuration(_ text: String) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) { return seconds }
        var total = 0.0
        var number = ""
        var index = text.startIndex
        var sawUnit = false
        while index < text.endIndex {
            let character = text[index]
            if character.isNumber || character == "." {
                number.append(character)
                index = text.index(after: index)
                continue
            }
            guard let amount = Double(number) else { return nil }
            let rest = text[index...]
            let (factor, length): (Double, Int) =
                if rest.hasPrefix("ms") { (0.001, 2) } else if rest.hasPrefix("h") {
                    (3600, 1)
                } else if rest.hasPrefix("m") {
                    (60, 1)
                } else if rest.hasPrefix("s") { (1, 1) } else { (0, 0) }
            guard length > 0 else { return nil }
            total += amount * factor
            number = ""
            sawUnit = true
            index = text.index(index, offsetBy: length)
        }
        return sawUnit && number.isEmpty ? total : nil
    }

    /// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 requires.
    package static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

extension ErrorClassifier {
    /// The error for an error reported inside a 200 reply, by the provider's error type
    /// (Anthropic `overloaded_error`, OpenAI `rate_limit_exceeded`, Gemini `RESOURCE_EXHAUSTED`, ...).
    /// `context` says where it came: `mid-stream`, `in its reply`, `instead of a stream`.
    package static func classify(
        errorType: String, message: String, provider: String, context: String = "mid-stream"
    ) -> ProviderError {
        let type = errorType.lowercased()
        let detail = message.isEmpty ? type : message
        let code: ProviderError.Code =
            switch type {
            case "overloaded_error", "unavailable", "server_overloaded": .overloaded
            case "rate_limit_error", "rate_limit_exceeded", "resource_exhausted": .rateLimited
            case "authentication_error", "permission_error", "unauthenticated", "permission_denied", "invalid_api_key":
                .authentication
            case "not_found_error", "not_found", "model_not_found": .unknownModel
            case "invalid_request_error", "invalid_argument", "request_too_large", "failed_precondition": .badRequest
            case "deadline_exceeded", "timeout": .timeout
            default: .server
            }
        return ProviderError(
            code: code, message: "\(provider) reported an error \(context): \(detail)", provider: provider)
    }
}

extension ErrorClassifier {
    /// How long the provider asks every further call to wait, read from any reply: a 429/503/529's
    /// retry hint, or an exhausted budget in the rate-limit headers (OpenAI
    /// `x-ratelimit-remaining-requests: 0` with `x-ratelimit-reset-requests: 20s`; Anthropic
    /// `anthropic-ratelimit-tokens-remaining: 0` with an RFC 3339 `…-reset` time). `nil` when
    /// calls may go ahead. At most ``maxRetryAfterSeconds``.
    package static func rateLimitPause(status: Int, headers: [(String, String)], now: Date = Date()) -> Double? {
        if [429, 503, 529].contains(status) {
            return retryAfterSeconds(headers: headers, now: now).map { min($0, maxRetryAfterSeconds) }
        }
        func value(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name }?.1.trimmingCharacters(in: .whitespaces)
        }
        var waits: [Double] = []
        for kind in ["requests", "tokens", "input-tokens", "output-tokens"] {
            if value("x-ratelimit-remaining-\(kind)") == "0",
                let reset = value("x-ratelimit-reset-\(kind)").flatMap(parseDuration)
            {
                waits.append(reset)
            }
            if value("anthropic-ratelimit-\(kind)-remaining") == "0",
                let reset = value("anthropic-ratelimit-\(kind)-reset").flatMap(parseRFC3339)
            {
                waits.append(reset.timeIntervalSince(now))
            }
        }
        guard let wait = waits.max(), wait.isFinite, wait > 0 else { return nil }
        return min(wait, maxRetryAfterSeconds)
    }

    /// Parses an RFC 3339 time (`2026-11-22T03:30:00Z`, fractional seconds allowed).
    package static func parseRFC3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
