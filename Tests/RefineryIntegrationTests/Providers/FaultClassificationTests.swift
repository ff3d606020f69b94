// Every injected fault ends as the right ProviderError code (and retry hint), so the engine
// retries what can succeed and gives up on what cannot.

import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

struct Fault: Sendable, CustomTestStringConvertible {
    var name: String
    var reply: FakeReply
    var stream = false
    var code: ProviderError.Code
    var retryAfter: Double?
    var status: Int?
    var testDescription: String { name }
}

@Suite struct FaultClassificationTests {
    static let openAIFaults: [Fault] = [
        Fault(
            name: "429 with Retry-After seconds",
            reply: FakeOpenAI.error("slow down", type: "requests", status: 429, headers: ["Retry-After": "7"]),
            code: .rateLimited, retryAfter: 7, status: 429),
        Fault(
            name: "429 with retry-after-ms",
            reply: FakeOpenAI.error("slow down", type: "requests", status: 429, headers: ["retry-after-ms": "1500"]),
            code: .rateLimited, retryAfter: 1.5, status: 429),
        Fault(
            name: "429 with x-ratelimit-reset",
            reply: FakeOpenAI.error(
                "slow down", type: "tokens", status: 429,
                headers: ["x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"]), code: .rateLimited,
            retryAfter: 360, status: 429),
        Fault(
            name: "429 without Retry-After", reply: FakeOpenAI.error("slow down", type: "requests", status: 429),
            code: .rateLimited, status: 429),
        Fault(
            name: "429 insufficient_quota (no credits: permanent, not a rate limit)",
            reply: FakeOpenAI.error("You exceeded your current quota", type: "insufficient_quota", status: 429),
            code: .authentication, status: 429),
        Fault(
            name: "500", reply: FakeOpenAI.error("boom", type: "server_error", status: 500), code: .server, status: 500),
        Fault(
            name: "503", reply: .body(status: 503, contentType: "text/plain", text: "unavailable"), code: .overloaded,
            status: 503),
        Fault(
            name: "401", reply: FakeOpenAI.error("bad key", type: "invalid_request_error", status: 401),
            code: .authentication, status: 401),
        Fault(
            name: "403", reply: FakeOpenAI.error("forbidden", type: "invalid_request_error", status: 403),
            code: .authentication, status: 403),
        Fault(
            name: "404",
            reply: FakeOpenAI.error("The model does not exist", type: "invalid_request_error", status: 404),
            code: .unknownModel, status: 404),
        Fault(
            name: "400", reply: FakeOpenAI.error("bad param", type: "invalid_request_error", status: 400),
            code: .badRequest, status: 400),
        Fault(
            name: "422", reply: FakeOpenAI.error("unprocessable", type: "invalid_request_error", status: 422),
            code: .badRequest, status: 422),
        Fault(name: "connection dropped", reply: .dropConnection, code: .network),
        Fault(name: "slow first byte", reply: .hold(limit: .seconds(120)), code: .timeout),
        Fault(
            name: "slow first byte (stream)", reply: .hold(limit: .seconds(120)), stream: true,
            code: .timeout),
        Fault(
            name: "stream cut mid-way",
            reply: .cutStream(chunks: FakeOpenAI.chunks(["a", "b"]).prefix(2).map(FakeReply.frame)), stream: true,
            code: .truncated),
        Fault(
            name: "stream ends without [DONE]",
            reply: .stream(chunks: FakeOpenAI.chunks(["a", "b"]).prefix(2).map(FakeReply.frame)), stream: true,
            code: .truncated),
        // llama-cpp-python ends a stream it interrupts for another request so, mid-sentence; the cut answer was
        // taken whole.
        Fault(
            name: "[DONE] without a finish reason",
            reply: .sse(Array(FakeOpenAI.chunks(["Once upon", " a"]).prefix(3)) + [(nil, "[DONE]")]), stream: true,
            code: .truncated),
        Fault(name: "invalid JSON", reply: .json("{not json"), code: .invalidResponse, status: 200),
        Fault(
            name: "invalid JSON in stream", reply: .stream(chunks: ["data: {oops\n\n"]), stream: true,
            code: .invalidResponse),
        Fault(
            name: "JSON error instead of a stream",
            reply: .json(#"{"error":{"message":"model is loading","type":"server_overloaded"}}"#),
            stream: true, code: .overloaded),
        Fault(name: "empty body", reply: .json(""), code: .emptyResponse, status: 200),
        Fault(name: "empty JSON body instead of a stream", reply: .json(""), stream: true, code: .emptyResponse, status: 200),
        Fault(name: "empty stream", reply: .stream(chunks: []), stream: true, code: .emptyResponse),
        Fault(name: "empty text", reply: FakeOpenAI.completion(""), code: .emptyResponse),
        // Not the API: asked again, the same page or redirect comes back (and a real key may be billed).
        Fault(name: "302 to a login page", reply: redirect, code: .badResponse, status: 302),
        Fault(name: "302 to a login page (stream)", reply: redirect, stream: true, code: .badResponse, status: 302),
        Fault(name: "200 web page (a captive portal)", reply: portal, code: .badResponse, status: 200),
        Fault(name: "200 web page (stream)", reply: portal, stream: true, code: .badResponse, status: 200),
    ]

    static let redirect = FakeReply.body(
        status: 302, contentType: "text/html", text: "<html><title>Moved</title></html>",
        headers: ["Location": "http://portal.example.net/login?session=s3cr3t"])
    static let portal = FakeReply.body(
        contentType: "text/html; charset=utf-8", text: "<!doctype html><html><title>Hotel Wi-Fi</title><body>Log in")

    @Test(arguments: openAIFaults)
    func openAIFaultIsClassified(fault: Fault) async throws {
        try await expect(
            fault, path: FakeOpenAI.path, model: ModelRef(provider: "openai", model: "gpt-4o"), timeout: 0.5)
    }

    /// Serves `fault` at `paths`, calls `model` (streamed or not) and checks the error.
    private func expect(_ fault: Fault, path: String..., model: ModelRef, timeout: Double) async throws {
        try await FakeServer.run { server in
            for path in path { server.route(path, fault.reply) }
            let error = await providerError {
                try await RegistryHarness.with(server) { registry in
                    let provider = try registry.provider(for: model)
                    // Only the timeout faults need the short deadline; the others get a generous one so a
                    // loaded machine (tests run in parallel) cannot turn a classified reply into a timeout.
                    let deadline = fault.code == .timeout ? timeout : max(timeout, 30)
                    let request = RegistryHarness.request(model.provider, model.model, timeout: deadline)
                    if fault.stream {
                        _ = try await collect(provider.stream(request))
                    } else {
                        _ = try await provider.complete(request)
                    }
                }
            }
            let caught = try #require(error)
            #expect(caught.code == fault.code, "\(caught)")
            #expect(caught.retryAfterSeconds == fault.retryAfter)
            #expect(caught.statusCode == fault.status)
            #expect(caught.provider == model.provider)
            #expect(caught.isTransient == fault.code.isTransient)
        }
    }

    /// An error status with a huge body (a proxy's 100 MB page) is that status, with its body's start: the body
    /// was held whole until it passed 64 MB, then reported as "a reply over 64 MB" (`invalid_response`, no status),
    /// not as the server error it was.
    @Test func anErrorWithAHugeBodyIsItsStatus() async throws {
        let page = FakeReply.body(status: 500, contentType: "text/plain", text: String(repeating: "E", count: 65 << 20))
        for stream in [false, true] {
            let fault = Fault(name: "500 with a 65 MB body", reply: page, stream: stream, code: .server, status: 500)
            try await expect(fault, path: FakeOpenAI.path, model: ModelRef(provider: "openai", model: "gpt-4o"), timeout: 30)
        }
    }

    static let anthropicFaults: [Fault] = [
        Fault(
            name: "529 overloaded", reply: FakeAnthropic.error("overloaded_error", "Overloaded", status: 529),
            code: .overloaded, status: 529),
        Fault(
            name: "overloaded_error body on 500",
            reply: FakeAnthropic.error("overloaded_error", "Overloaded", status: 500), code: .overloaded, status: 500),
        Fault(
            name: "429 rate_limit_error",
            reply: FakeAnthropic.error("rate_limit_error", "Too many", status: 429, headers: ["retry-after": "12"]),
            code: .rateLimited, retryAfter: 12, status: 429),
        Fault(
            name: "stream cut before message_stop",
            reply: .cutStream(chunks: FakeAnthropic.events(["a", "b"]).prefix(5).map(FakeReply.frame)),
            stream: true, code: .truncated),
    ]

    @Test(arguments: anthropicFaults)
    func anthropicFaultIsClassified(fault: Fault) async throws {
        try await expect(
            fault, path: FakeAnthropic.path, model: ModelRef(provider: "anthropic", model: "claude-x"), timeout: 5)
    }

    /// The rest of issue 4's fault list against the Anthropic wire format.
    static let moreAnthropicFaults: [Fault] = [
        Fault(
            name: "429 without Retry-After", reply: FakeAnthropic.error("rate_limit_error", "Too many", status: 429),
            code: .rateLimited, status: 429),
        Fault(
            name: "500 api_error", reply: FakeAnthropic.error("api_error", "Internal", status: 500), code: .server,
            status: 500),
        Fault(
            name: "503", reply: .body(status: 503, contentType: "text/html", text: "<html>busy</html>"),
            code: .overloaded, status: 503),
        Fault(
            name: "401 authentication_error",
            reply: FakeAnthropic.error("authentication_error", "invalid x-api-key", status: 401),
            code: .authentication, status: 401),
        Fault(
            name: "404 not_found_error", reply: FakeAnthropic.error("not_found_error", "model: x", status: 404),
            code: .unknownModel, status: 404),
        Fault(
            name: "400 invalid_request_error",
            reply: FakeAnthropic.error("invalid_request_error", "max_tokens: too big", status: 400), code: .badRequest,
            status: 400),
        Fault(name: "connection reset", reply: .dropConnection, code: .network),
        Fault(name: "slow first byte", reply: .hold(limit: .seconds(120)), code: .timeout),
        Fault(
            name: "slow first byte (stream)", reply: .hold(limit: .seconds(120)),
            stream: true, code: .timeout),
        Fault(
            name: "overloaded error event mid-stream",
            reply: .sse(
                Array(FakeAnthropic.events(["a"]).prefix(4))
                    + [("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)]),
            stream: true, code: .overloaded),
        Fault(
            name: "stream ends before the stop reason",
            reply: .sse(Array(FakeAnthropic.events(["a", "b"]).dropLast(2))), stream: true, code: .truncated),
        Fault(name: "invalid JSON", reply: .json("{\"type\": \"message\", "), code: .invalidResponse, status: 200),
        Fault(name: "empty body", reply: .json(""), code: .emptyResponse, status: 200),
        Fault(name: "empty stream", reply: .stream(chunks: []), stream: true, code: .emptyResponse),
        Fault(name: "no text", reply: FakeAnthropic.message(""), code: .emptyResponse),
    ]

    @Test(arguments: moreAnthropicFaults)
    func moreAnthropicFaultsAreClassified(fault: Fault) async throws {
        try await expect(
            fault, path: FakeAnthropic.path, model: ModelRef(provider: "anthropic", model: "claude-x"), timeout: 0.5)
    }

    /// Issue 4's fault list against the Gemini wire format (errors carry a `status` word).
    static let geminiFaults: [Fault] = [
        Fault(
            name: "429 RESOURCE_EXHAUSTED without Retry-After",
            reply: FakeGemini.error("Quota exceeded", status: "RESOURCE_EXHAUSTED", code: 429), code: .rateLimited,
            status: 429),
        Fault(
            name: "500 INTERNAL", reply: FakeGemini.error("Internal error", status: "INTERNAL", code: 500),
            code: .server, status: 500),
        Fault(
            name: "503 UNAVAILABLE",
            reply: FakeGemini.error("The model is overloaded", status: "UNAVAILABLE", code: 503),
            code: .overloaded, status: 503),
        Fault(
            name: "400 INVALID_ARGUMENT", reply: FakeGemini.error("bad", status: "INVALID_ARGUMENT", code: 400),
            code: .badRequest, status: 400),
        Fault(
            name: "403 PERMISSION_DENIED", reply: FakeGemini.error("denied", status: "PERMISSION_DENIED", code: 403),
            code: .authentication, status: 403),
        Fault(
            name: "404 NOT_FOUND", reply: FakeGemini.error("no model", status: "NOT_FOUND", code: 404),
            code: .unknownModel, status: 404),
        Fault(name: "connection reset", reply: .dropConnection, code: .network),
        Fault(name: "slow first byte", reply: .hold(limit: .seconds(120)), code: .timeout),
        Fault(
            name: "slow first byte (stream)", reply: .hold(limit: .seconds(120)), stream: true,
            code: .timeout),
        Fault(
            name: "stream cut mid-way",
            reply: .cutStream(chunks: ["data: " + #"{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}"# + "\n\n"]),
            stream: true, code: .truncated),
        Fault(
            name: "stream ends without a finish reason",
            reply: .stream(chunks: ["data: " + #"{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}"# + "\n\n"]),
            stream: true, code: .truncated),
        Fault(
            name: "error object mid-stream",
            reply: .stream(chunks: [#"data: {"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}"# + "\n\n"]),
            stream: true, code: .overloaded),
        Fault(name: "invalid JSON", reply: .json("[{"), code: .invalidResponse, status: 200),
        Fault(
            name: "invalid JSON in stream", reply: .stream(chunks: ["data: {nope\n\n"]), stream: true,
            code: .invalidResponse),
        Fault(name: "empty body", reply: .json(""), code: .emptyResponse, status: 200),
        Fault(name: "empty stream", reply: .stream(chunks: []), stream: true, code: .emptyResponse),
    ]

    @Test(arguments: geminiFaults)
    func geminiFaultIsClassified(fault: Fault) async throws {
        try await expect(
            fault, path: FakeGemini.path("gemini-2.5-pro", "generateContent"),
            FakeGemini.path("gemini-2.5-pro", "streamGenerateContent"),
            model: ModelRef(provider: "gemini", model: "gemini-2.5-pro"), timeout: 0.5)
    }

    @Test func errorsCarryTheProviderRequestID() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeAnthropic.path,
                FakeAnthropic.error(
                    "api_error", "Internal", status: 500, headers: ["request-id": "req_011CSHoEeqs5C35K2UUqR7Fy"]))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await $0.provider(for: ModelRef(provider: "anthropic", model: "claude-x"))
                        .complete(RegistryHarness.request("anthropic", "claude-x"))
                }
            }
            #expect(error?.code == .server)
            #expect(
                error?.message
                    == "anthropic server error (HTTP 500): Internal [request id req_011CSHoEeqs5C35K2UUqR7Fy]")
        }
    }

    /// A 500 whose body is a web page (a proxy's or load balancer's error page) is reported as one, by its
    /// title and content type, not by 300 characters of its markup; a page without a title, or sent as
    /// `text/plain` but opening as HTML, likewise. A JSON error body keeps the provider's message.
    @Test(arguments: [
        (
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html><head><style>body { font: 12px sans-serif; }</style>\n<title>\n  502 Bad\n Gateway "
                + "</title></head><body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>",
            #"openai server error (HTTP 500): a web page (text/html, title "502 Bad Gateway")"#
        ),
        (
            "text/plain", "<html><body><p>Internal error</p></body></html>",
            "openai server error (HTTP 500): a web page (text/plain)"
        ),
        (
            "application/json", #"{"error":{"message":"The server had an error","type":"server_error"}}"#,
            "openai server error (HTTP 500): The server had an error"
        ),
    ])
    func aWebPageErrorBodyIsNamedNotQuoted(contentType: String, body: String, message: String) async throws {
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, .body(status: 500, contentType: contentType, text: body))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await $0.provider(for: ModelRef(provider: "openai", model: "gpt-4o"))
                        .complete(RegistryHarness.request("openai", "gpt-4o"))
                }
            }
            #expect(error?.code == .server)
            #expect(error?.message == message, "\(String(describing: error))")
        }
    }

    @Test func geminiResourceExhaustedIsRateLimited() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeGemini.path("gemini-2.5-pro", "generateContent"),
                FakeGemini.error(
                    "Quota exceeded", status: "RESOURCE_EXHAUSTED", code: 429, headers: ["Retry-After": "3"]))
            let error = await providerError {
                _ = try await RegistryHarness.with(server) {
                    try await $0.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-pro")).complete(
                        RegistryHarness.request("gemini", "gemini-2.5-pro"))
                }
            }
            #expect(error?.code == .rateLimited)
            #expect(error?.retryAfterSeconds == 3)
            #expect(error?.message.contains("Quota exceeded") == true)
        }
    }

    @Test func cancellingAStreamEndsTheCall() async throws {
        try await FakeServer.run { server in
            server.route(
                FakeOpenAI.path,
                .stream(
                    chunks: FakeOpenAI.chunks(Array(repeating: "x", count: 50)).map(FakeReply.frame),
                    pause: .milliseconds(200)))
            let deltas = try await RegistryHarness.with(server) { registry in
                let stream = try registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).stream(
                    RegistryHarness.request("openai", "gpt-4o"))
                var count = 0
                for try await event in stream {
                    if case .delta = event { count += 1 }
                    if count == 2 { break }
                }
                return count
            }
            #expect(deltas == 2)
            #expect(server.requests.count == 1)
        }
    }
}
