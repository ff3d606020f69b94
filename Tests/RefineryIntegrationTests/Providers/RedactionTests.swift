// Planted keys must appear nowhere: not in debug/trace logs of requests and replies, not in
// errors, even when a server echoes the key back.

import Foundation
import Logging
import RefineryCompiler
import RefineryProviders
import RefineryRuntime
import Testing

@Suite struct RedactionTests {
    /// A prompt is refused for holding a loaded key only when the key is a credential's length: a local server's
    /// placeholder key (`none`, `EMPTY`) is a word a prompt may hold (it refused "none of these").
    @Test func onlyACredentialLengthKeyMakesAPromptHoldASecret() {
        let redactor = Redactor(secrets: ["none", "EMPTY", "sk-live-0123456789abcdefghij"])
        #expect(!redactor.holdsSecret("Is none of these right? Answer EMPTY if so."))
        #expect(redactor.holdsSecret("my key is sk-live-0123456789abcdefghij"))
        #expect(redactor.holdsSecret("c2stbGl2ZS0wMTIzNDU2Nzg5YWJjZGVmZ2hpag=="))
    }

    @Test func plantedKeysNeverReachLogsOrErrors() async throws {
        let capture = LogCapture()
        try await FakeServer.run { server in
            server.route(FakeOpenAI.path, FakeOpenAI.stream(["fine"]))
            server.route(
                FakeAnthropic.path,
                FakeAnthropic.error(
                    "authentication_error", "invalid x-api-key \(RegistryHarness.anthropicKey)", status: 401))
            server.route(FakeGemini.path("gemini-2.5-pro", "generateContent"), FakeGemini.reply("ok"))
            let errors = try await RegistryHarness.with(server, logger: capture.logger(level: .trace)) { registry in
                _ = try await collect(
                    registry.provider(for: ModelRef(provider: "openai", model: "gpt-4o")).stream(
                        RegistryHarness.request("openai", "gpt-4o")))
                _ = try await registry.provider(for: ModelRef(provider: "gemini", model: "gemini-2.5-pro")).complete(
                    RegistryHarness.request("gemini", "gemini-2.5-pro"))
                let error = await providerError {
                    _ = try await registry.provider(for: ModelRef(provider: "anthropic", model: "claude-x")).complete(
                        RegistryHarness.request("anthropic", "claude-x"))
                }
                return [error.map { "\($0)" } ?? "", registry.redactor.redact("echo \(RegistryHarness.openAIKey)")]
            }
            // The keys did travel to the server...
            #expect(server.requests.map(\.fullText).joined().contains(RegistryHarness.anthropicKey))
            // ...but appear in no log line and no error.
            let logs = capture.text
            #expect(capture.count >= 6)
            for key in [RegistryHarness.anthropicKey, RegistryHarness.openAIKey, RegistryHarness.geminiKey] {
                #expect(!logs.contains(key))
                #expect(!errors.joined().contains(key))
            }
            #expect(logs.contains("x-api-key: [REDACTED]"))
            #expect(logs.contains("authorization: [REDACTED]"))
            #expect(logs.contains("x-goog-api-key: [REDACTED]"))
            #expect(errors[0].contains("invalid x-api-key [REDACTED]"))
            #expect(errors[1] == "echo [REDACTED]")
        }
    }

    /// Errors read from a reply body rather than an HTTP status: an `error` event mid-stream, an
    /// `error` object in a 200 JSON reply, a JSON error answering a streaming request.
    static let echoedErrors: [(String, FakeReply, Bool)] = [
        (
            "anthropic",
            .sse([
                ("message_start", #"{"type":"message_start","message":{"model":"m","usage":{"input_tokens":1}}}"#),
                (
                    "error",
                    #"{"type":"error","error":{"type":"overloaded_error","message":"key \#(RegistryHarness.anthropicKey)"}}"#
                ),
            ]), true
        ),
        (
            "openai",
            .json(#"{"error":{"type":"server_error","message":"bad key \#(RegistryHarness.openAIKey)"}}"#), false
        ),
        (
            "openai",
            .json(#"{"error":{"type":"rate_limit_exceeded","message":"for \#(RegistryHarness.openAIKey)"}}"#), true
        ),
        (
            "gemini",
            .stream(chunks: [#"data: {"error":{"status":"UNAVAILABLE","message":"k=\#(RegistryHarness.geminiKey)"}}"# + "\n\n"]),
            true
        ),
    ]

    @Test(arguments: 0..<echoedErrors.count)
    func keysEchoedInReplyErrorsAreRedacted(index: Int) async throws {
        let (provider, reply, stream) = Self.echoedErrors[index]
        let model = ModelRef(provider: provider, model: provider == "gemini" ? "gemini-2.5-pro" : "m")
        let path =
            switch provider {
            case "anthropic": FakeAnthropic.path
            case "openai": FakeOpenAI.path
            default: FakeGemini.path("gemini-2.5-pro", "streamGenerateContent")
            }
        let capture = LogCapture()
        try await FakeServer.run { server in
            server.route(path, reply)
            let error = await providerError {
                try await RegistryHarness.with(server, logger: capture.logger(level: .trace)) { registry in
                    let request = RegistryHarness.request(provider, model.model)
                    let chosen = try registry.provider(for: model)
                    if stream { _ = try await collect(chosen.stream(request)) } else { _ = try await chosen.complete(request) }
                }
            }
            let caught = try #require(error)
            #expect(caught.message.contains("[REDACTED]"), "\(caught)")
            let context = stream ? (provider == "openai" ? "instead of a stream" : "mid-stream") : "in its reply"
            #expect(caught.message.hasPrefix("\(provider) reported an error \(context): "), "\(caught)")
            for key in [RegistryHarness.anthropicKey, RegistryHarness.openAIKey, RegistryHarness.geminiKey] {
                #expect(!"\(caught)".contains(key))
                #expect(!capture.text.contains(key))
            }
        }
    }

    /// A redirect is never followed: AsyncHTTPClient would forward `x-api-key` and
    /// `x-goog-api-key` (it strips only `Authorization`) to whatever host the reply names.
    @Test(arguments: [("anthropic", "claude-x"), ("gemini", "gemini-2.5-pro"), ("openai", "gpt-4o")])
    func redirectsAreNotFollowed(provider: String, model: String) async throws {
        try await FakeServer.run { server in
            let target = "http://localhost:\(server.port)/steal?key=\(RegistryHarness.geminiKey)"
            let redirect = FakeReply.body(status: 307, contentType: "text/plain", text: "", headers: ["Location": target])
            for path in [FakeAnthropic.path, FakeOpenAI.path, FakeGemini.path(model, "generateContent")] {
                server.route(path, redirect)
            }
            server.route("/steal", FakeOpenAI.completion("stolen"))
            let error = await providerError {
                try await RegistryHarness.with(server) { registry in
                    _ = try await registry.provider(for: ModelRef(provider: provider, model: model)).complete(
                        RegistryHarness.request(provider, model))
                }
            }
            let caught = try #require(error)
            #expect(caught.code == .badResponse)
            #expect(caught.statusCode == 307)
            #expect(caught.message.contains("answered with a redirect (HTTP 307) to host `localhost:\(server.port)`"))
            #expect(!caught.message.contains("key="))
            #expect(server.requests.map(\.path) == [server.requests.first?.path ?? ""])
            #expect(!server.requests.contains { $0.path == "/steal" })
        }
    }

    @Test func printingARedactorOrAnEnvironmentShowsNoSecret() {
        let secret = "sk-never-printed-123"
        let redactor = Redactor(secrets: [secret])
        let environment = ProviderEnvironment(environment: ["OPENAI_API_KEY": secret])
        var dumped = ""
        dump(redactor, to: &dumped)
        dump(environment, to: &dumped)
        let printed = [
            "\(redactor)", String(reflecting: redactor), "\(environment)", String(reflecting: environment), dumped,
        ]
        #expect(!printed.joined().contains(secret))
        #expect(printed[0] == "Redactor(1 secrets)")
        #expect(printed[2] == "ProviderEnvironment(OPENAI_API_KEY)")
    }

    @Test(arguments: [
        ("key sk-secret-123456 leaked", "key [REDACTED] leaked"),
        ("https://x/v1?alt=sse&key=AIzaXYZ&b=1", "https://x/v1?alt=sse&key=[REDACTED]&b=1"),
        ("https://x/?access_token=abc#frag", "https://x/?access_token=[REDACTED]#frag"),
        ("nothing to hide", "nothing to hide"),
        ("https://db/?user=u&password=hunter22&x=1", "https://db/?user=u&password=[REDACTED]&x=1"),
        ("https://blob/f?sv=1&sig=AbC%2Bd", "https://blob/f?sv=1&sig=[REDACTED]"),
        (
            "could not connect to local at http://u:pa55word@127.0.0.1:9/v1 (refused)",
            "could not connect to local at http://u:[REDACTED]@127.0.0.1:9/v1 (refused)"
        ),
        ("postgres://:p%40ss@db/x and https://user@host/", "postgres://:[REDACTED]@db/x and https://user@host/"),
    ])
    func redactorHidesSecretsAndQueryCredentials(input: String, expected: String) {
        #expect(Redactor(secrets: ["sk-secret-123456", "abc"]).redact(input) == expected)
    }

    @Test(arguments: [
        ("Authorization", true), ("x-api-key", true), ("X-Goog-Api-Key", true), ("x-auth-token", true),
        ("anthropic-version", false), ("content-type", false),
    ])
    func sensitiveHeadersAreRecognised(name: String, sensitive: Bool) {
        #expect(Redactor.isSensitiveHeader(name) == sensitive)
    }
}

/// The redactor finds a known key however a server wrote it back.
@Suite struct EncodedKeyRedactionTests {
    static let key = "sk-proj-Abc/De+f_0123456789xyz"

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    static let echoes: [(String, String)] = {
        let key = Self.key
        let escaped: String = key.unicodeScalars.map { String(format: "\\u%04X", $0.value) }.joined()
        let percent: String = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let basic: String = base64("Basic " + key)
        let basicURL: String = basic.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let encoded: String = base64(key)
        var cases: [(String, String)] = []
        cases.append(("literal", "bad key \(key)!"))
        cases.append(("JSON escapes", "bad key " + escaped))
        cases.append(("JSON slash escape", "bad key " + key.replacingOccurrences(of: "/", with: "\\/")))
        cases.append(("percent-encoded", "url?k=" + percent))
        cases.append(("base64", "token " + encoded))
        cases.append(("base64 at offset 1", base64("x" + key + "y")))
        cases.append(("base64 at offset 2", base64("xy" + key)))
        cases.append(("base64url", basicURL))
        cases.append(("split across lines", "bad key " + String(key.prefix(10)) + "\n  " + String(key.dropFirst(10))))
        cases.append(("split in JSON", "bad key " + String(key.prefix(5)) + "\\r\\n" + String(key.dropFirst(5))))
        cases.append(("wrapped base64", String(encoded.prefix(16)) + "\r\n" + String(encoded.dropFirst(16))))
        return cases
    }()

    /// The key alone in each encoding the redactor finds it in.
    static let encodings: [(String, String)] = {
        let key = Self.key
        let encoded = base64(key)
        return [
            ("literal", key),
            ("JSON escapes", key.unicodeScalars.map { String(format: "\\u%04X", $0.value) }.joined()),
            ("JSON slash escape", key.replacingOccurrences(of: "/", with: "\\/")),
            ("percent-encoded", key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
            ("base64", encoded),
            ("base64url", encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")),
            ("split across lines", String(key.prefix(10)) + "\n  " + String(key.dropFirst(10))),
            ("split in JSON", String(key.prefix(5)) + "\\r\\n" + String(key.dropFirst(5))),
        ]
    }()

    @Test(arguments: echoes)
    func encodedKeyIsHidden(name: String, text: String) {
        let redacted = Redactor(secrets: [Self.key]).redact(text)
        #expect(redacted.contains(Redactor.placeholder), "\(name): \(redacted)")
        // No run of eight characters of the key (or of its base64) survives.
        for form in [Self.key, Self.base64(Self.key)] {
            let characters = Array(form)
            for start in 0...(characters.count - 8) {
                let piece = String(characters[start..<(start + 8)])
                #expect(!redacted.contains(piece), "\(name): `\(piece)` survived in \(redacted)")
            }
        }
    }

    /// Exactly the credential in a URL's query is replaced, in every encoding the redactor finds a known key in,
    /// and for a value it finds by the parameter's name alone: the query redactor took the value up to the next
    /// space, quote, `&` or `#`, so the `).` after `(see https://…?key=KEY).` and the `\` of a JSON-escaped
    /// quote (`…?key=KEY\"}` in JSON held in a JSON string) went with it.
    @Test(arguments: encodings)
    func exactlyTheCredentialInAQueryIsReplaced(name: String, encoded: String) {
        let redactor = Redactor(secrets: [Self.key])
        let wrappers: [(String) -> String] = [
            { "(see https://x/v1?alt=sse&key=\($0)). Next" },
            { "[docs](https://x/v1?token=\($0)), then" },
            { #"{"msg":"{\"url\":\"https://x/v1?key=\#($0)\"}"}"# },
            { "https://x/v1?alt=sse\\u0026key=\($0)\\u0026b=1" },
            { "<https://x/v1?sig=\($0)>; retry." },
        ]
        for wrap in wrappers {
            #expect(redactor.redact(wrap(encoded)) == wrap(Redactor.placeholder), "\(name): \(wrap(encoded))")
        }
    }

    /// Values the redactor knows only by their parameter's name, and key shapes, lose exactly themselves.
    @Test(arguments: [
        ("(see https://x/?key=notaloadedkey).", "(see https://x/?key=[REDACTED])."),
        ("https://x/?code=a(b)c), then", "https://x/?code=[REDACTED]), then"),
        ("https://x/?sig=ab\\/cd+e%2Bf;", "https://x/?sig=[REDACTED];"),
        ("https://x/?a=1\\u0026access_token=zz\\u0026b=2", "https://x/?a=1\\u0026access_token=[REDACTED]\\u0026b=2"),
        ("https://x/?key=abc\\u002Ddef!", "https://x/?key=[REDACTED]!"),
        ("send Authorization: Bearer abcdefgh12345.", "send Authorization: [REDACTED]."),
        ("set key=0123456789abcdefghij.", "set [REDACTED]."),
        ("https://x/?key=&b=1", "https://x/?key=&b=1"),
    ])
    func exactlyAValueFoundByItsNameIsReplaced(input: String, expected: String) {
        #expect(Redactor().redact(input) == expected)
    }

    @Test func ordinaryTextIsLeftAlone() {
        let text = "A task-oriented answer: 50% of %20 and \\u0041, with Zm9vYmFy base64."
        #expect(Redactor(secrets: [Self.key]).redact(text) == text)
    }
}
