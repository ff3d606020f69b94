import Foundation
import Testing

extension CLIEndToEnd {
    /// A server that echoes the run's key back in its error body, in whatever encoding: the key
    /// reaches none of `--debug` stderr, jsonl stdout, the ledger file or `runs export`.
    @Suite struct EchoedKeyCLITests {
        static let key = CLIHarness.openAIKey

        static func percentEncoded(_ text: String, all: Bool) -> String {
            text.utf8.map { byte in
                let character = Character(Unicode.Scalar(byte))
                return !all && (character.isLetter || character.isNumber)
                    ? String(character) : String(format: "%%%02X", byte)
            }.joined()
        }

        static func jsonEscaped(_ text: String) -> String {
            text.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()
        }

        static func base64(_ text: String, url: Bool = false) -> String {
            let encoded = Data(text.utf8).base64EncodedString()
            guard url else { return encoded }
            return encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }

        static func jsonError(_ message: String) -> FakeReply {
            .json(
                #"{"error":{"message":"Incorrect API key provided: \#(message)","type":"invalid_request_error"}}"#,
                status: 401)
        }

        /// The error bodies, each echoing the key one way.
        static let replies: [(String, FakeReply)] = [
            ("literal", jsonError(key)),
            ("JSON \\u escapes", jsonError(jsonEscaped(key))),
            ("JSON escaped dashes", jsonError(key.replacingOccurrences(of: "-", with: "\\u002d"))),
            ("percent-encoded punctuation", jsonError(percentEncoded(key, all: false))),
            ("percent-encoded throughout", jsonError(percentEncoded(key, all: true))),
            ("base64", jsonError(base64(key))),
            ("base64 of a Bearer header", jsonError(base64("Bearer " + key))),
            ("base64url of a query", jsonError(base64("?api_key=" + key + "&x=1", url: true))),
            ("split across a line in JSON", jsonError(String(key.prefix(9)) + "\\n" + String(key.dropFirst(9)))),
            (
                "split across a line in text",
                .body(
                    status: 401, contentType: "text/plain",
                    text: "denied for key " + String(key.prefix(12)) + "\r\n    " + String(key.dropFirst(12)))
            ),
        ]

        @Test(arguments: 0..<replies.count)
        func echoedKeyIsRedactedEverywhere(index: Int) async throws {
            let (name, reply) = Self.replies[index]
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, reply)
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let result = try await binary.run(
                    [
                        "What is 2+2?", "--models", "openai/gpt-4o,openai/gpt-4o-mini", "--output-format", "jsonl",
                        "--debug", "--store", store,
                    ],
                    environment: environment, directory: sandbox.root)
                #expect(server.requests.count >= 2, "\(name): \(result.stderr)")
                // The failure itself is reported (redacted), not hidden.
                #expect(result.stdout.contains("[REDACTED]"), "\(name): \(result.stdout)")
                let runs = try await binary.listRuns(store: store, environment: environment, directory: sandbox.root)
                let id = try #require(runs.first?["id"] as? String)
                let export = try await binary.run(
                    ["runs", "export", id, "--store", store], environment: environment, directory: sandbox.root)
                #expect(export.exitCode == 0, "\(export.stderr)")
                #expect(export.stdout.contains("[REDACTED]"), "\(name): \(export.stdout.prefix(2000))")
                var ledger = Data()
                for suffix in ["", "-wal"] {
                    ledger.append(FileManager.default.contents(atPath: store + suffix) ?? Data())
                }
                let texts = [
                    ("stderr", result.stderr), ("stdout", result.stdout), ("runs export", export.stdout),
                    ("ledger", String(decoding: ledger, as: UTF8.self)),
                ]
                for (place, text) in texts {
                    #expect(!Self.revealsKey(text), "\(name): the key reached \(place)")
                }
            }
        }

        /// Whether `text` holds the key literally or in the echoed encoding of any case.
        static func revealsKey(_ text: String) -> Bool {
            let forms = [
                key, jsonEscaped(key), percentEncoded(key, all: true), percentEncoded(key, all: false),
                key.replacingOccurrences(of: "-", with: "\\u002d"), base64(key), String(key.dropFirst(9)),
                String(key.dropFirst(12)), String(base64("Bearer " + key).dropFirst(12).prefix(20)),
                String(base64("?api_key=" + key + "&x=1", url: true).dropFirst(14).prefix(20)),
            ]
            return forms.contains { text.contains($0) }
        }
    }
}
