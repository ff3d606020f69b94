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
                let texts = try await Self.everywhere(
                    result, store: store, binary: binary, environment: environment, directory: sandbox.root)
                #expect(texts[2].1.contains("[REDACTED]"), "\(name): \(texts[2].1.prefix(2000))")
                for (place, text) in texts {
                    #expect(!Self.revealsKey(text), "\(name): the key reached \(place)")
                }
            }
        }

        /// Credentials written in providers.yaml rather than named by `api_key_env`: the password of a
        /// `base_url` (`http://user:password@host`, which the "could not connect to … at URL" error printed
        /// and the ledger stored) and a credential header's value (which a server echoed back).
        @Test func credentialsWrittenInProvidersYamlAreRedactedEverywhere() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let password = "pa55-word-x9"
            let header = "inline-hdr-secret-77"
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, Self.jsonError("denied for " + header + " and Bearer " + header))
                let providers = """
                    providers:
                      - { name: dead, base_url: "http://ledger:\(password)@127.0.0.1:9" }
                      - { name: echo, base_url: "\(server.baseURL)", headers: { X-Api-Key: "\(header)" } }
                      - { name: auth, base_url: "\(server.baseURL)", headers: { Authorization: "Bearer \(header)" } }
                    """
                try sandbox.write("config/refinery/providers.yaml", Data(providers.utf8))
                let environment = RefineryBinary.environment(home: sandbox.root)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let result = try await binary.run(
                    [
                        "What is 2+2?", "--models", "dead/m,echo/m,auth/m", "--output-format", "json", "--debug",
                        "--store", store,
                    ],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 3, "\(result.stderr)")
                // The failures are reported, with the URL's host and the redaction marker.
                #expect(result.stdout.contains("127.0.0.1:9"), "\(result.stdout)")
                #expect(result.stdout.contains("[REDACTED]"), "\(result.stdout)")
                let texts = try await Self.everywhere(
                    result, store: store, binary: binary, environment: environment, directory: sandbox.root)
                // A mistake in the file quotes its line, credentials hidden.
                let misspelt = providers.split(separator: "\n").map { line in
                    line.hasSuffix(" }") ? line.dropLast(2) + ", bogus: 1 }" : line
                }
                try sandbox.write("config/refinery/providers.yaml", Data(misspelt.joined(separator: "\n").utf8))
                let broken = try await binary.run(
                    ["estimate", "--models", "echo/m"], environment: environment, directory: sandbox.root)
                #expect(broken.exitCode == 4, "\(broken.stderr)")
                for index in 0..<3 {
                    #expect(broken.stderr.contains("providers[\(index)].bogus: unknown key"), "\(broken.stderr)")
                }
                for (place, text) in texts + [("a diagnostic's excerpt", broken.stderr)] {
                    #expect(!text.contains(password), "the base URL's password reached \(place)")
                    #expect(!text.contains(header), "the header's value reached \(place)")
                }
            }
        }

        /// A server that echoes the key in a successful reply, in the answer itself (streamed, split across two
        /// pieces, and encoded): the answer is printed, stored and shown to the other member with the key hidden
        /// (it was printed, exported, stored, and sent on to the reviewers).
        @Test func aKeyEchoedInAnAnswerIsHiddenEverywhere() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let echoed = [String(Self.key.prefix(10)), String(Self.key.dropFirst(10)) + " | " + Self.base64(Self.key)]
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.stream(echoed + [" | " + Self.jsonEscaped(Self.key)]))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let result = try await binary.run(
                    [
                        "What is 2+2?", "--models", "openai/gpt-4o,openai/gpt-4o-mini", "--max-rounds", "1",
                        "--output-format", "json", "--debug", "--store", store,
                    ],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 2, "\(result.stderr)")
                // The answers are there, the key hidden in them; the reviewers were shown the same.
                #expect(result.stdout.contains("[REDACTED]"), "\(result.stdout)")
                let texts = try await Self.everywhere(
                    result, store: store, binary: binary, environment: environment, directory: sandbox.root)
                // Two answers, then each shown to the other for review (and asked again for JSON).
                #expect(server.requests.count >= 4)
                for (place, text) in texts + server.requests.map({ ("a request's body", $0.body) }) {
                    #expect(!Self.revealsKey(text), "the key reached \(place)")
                }
            }
        }

        /// An endpoint whose base URL carries a credential in its query (an Azure function's `?code=`): the query
        /// stays a query, after the path (it was sent as `/v1?code=…/v1/chat/completions`), and its value is a
        /// credential, hidden in `--debug`'s log of the request, the ledger and every output (it was in the log).
        @Test func aCredentialInTheBaseURLQueryIsSentAsAQueryAndHiddenEverywhere() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let code = "func-code-QmFzZTY0c2VjcmV0"
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.stream(["4"]))
                let providers = """
                    providers:
                      - { name: azure, base_url: "\(server.baseURL)/v1?code=\(code)&api-version=2024-02-01" }
                    """
                try sandbox.write("config/refinery/providers.yaml", Data(providers.utf8))
                let environment = RefineryBinary.environment(home: sandbox.root)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let result = try await binary.run(
                    ["What is 2+2?", "--models", "azure/m", "--output-format", "json", "--debug", "--store", store],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                let request = try #require(server.requests.first)
                #expect(request.path == FakeOpenAI.path)
                #expect(request.query == "code=\(code)&api-version=2024-02-01")
                // The request was logged, its URL's code hidden; the harmless api-version shown.
                #expect(result.stderr.contains("api-version=2024-02-01"), "\(result.stderr)")
                let texts = try await Self.everywhere(
                    result, store: store, binary: binary, environment: environment, directory: sandbox.root)
                for (place, text) in texts {
                    #expect(!text.contains(code), "the base URL's code reached \(place)")
                }
            }
        }

        /// A providers.yaml that cannot be read quotes its lines in the diagnostics, but not the credentials on
        /// them, whatever their shape: the file's own credentials are unknown when it does not load, so a
        /// header's value named like a credential (`Authorization: Token …`, `Private-Token: …`) is hidden by its
        /// key, in broken YAML too, and so is a key of the environment copied into it. They were printed.
        @Test func aBrokenProvidersFileQuotesItsLinesWithoutTheirCredentials() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let token = "plain-token-value-4711"
            let files = [
                // Broken YAML (the flow mapping is not closed).
                """
                providers:
                  - { name: x, base_url: "http://h", headers: { Authorization: "Token \(token)", Private-Token: \(token)x }
                """,
                // Valid YAML, an unknown key on the same line; the environment's key copied into a header.
                """
                providers:
                  - { name: x, api_key_env: MY_VAR, base_url: "http://h", headers: { Authorization: Token \(token), \
                "X-Token": '\(token)', X-Copy: \(Self.key) }, bogus: 1 }
                """,
            ]
            for file in files {
                try sandbox.write("config/refinery/providers.yaml", Data(file.utf8))
                let result = try await binary.run(
                    ["estimate", "--models", "x/m"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9"),
                    directory: sandbox.root)
                #expect(result.exitCode == 4, "\(result.stderr)")
                #expect(result.stderr.contains("Authorization: "), "\(result.stderr)")
                #expect(!result.stderr.contains(token) && !Self.revealsKey(result.stderr), "\(result.stderr)")
            }
        }

        /// A batch or bench item that holds the key (in its prompt, or base64 in a column the templates show)
        /// is refused before any call, at its row, as a run's prompt is: it was sent to the model. So is a run's
        /// `--var` holding it.
        @Test func aBatchOrBenchItemHoldingTheKeyIsRefusedAtItsRow() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let workflow = #"""
                refinery: 1
                name: w
                models: [openai/gpt-4o]
                stages:
                  - propose:
                      prompt: { user: "{{note}} {{{prompt}}}" }

                """#
            try sandbox.write("w.yaml", Data(workflow.utf8))
            let rows = [
                #"{"id": "a", "question": "What is 2+2?", "answer": "4", "note": "ok"}"#,
                #"{"id": "b", "question": "Use \#(Self.key) for 3+3", "answer": "6", "note": "ok"}"#,
                #"{"id": "c", "question": "What is 4+4?", "answer": "8", "note": "\#(Self.base64(Self.key))"}"#,
            ]
            try sandbox.write("prompt.jsonl", Data((rows[0...1].joined(separator: "\n") + "\n").utf8))
            try sandbox.write("column.jsonl", Data(([rows[0], rows[2]].joined(separator: "\n") + "\n").utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("4"))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                for (arguments, row) in [
                    (["batch", "w.yaml", "--input", "prompt.jsonl"], "prompt.jsonl:2: item `b`"),
                    (["batch", "w.yaml", "--input", "column.jsonl"], "column.jsonl:2: item `c`"),
                    (["bench", "w.yaml", "--dataset", "prompt.jsonl", "--var", "note=x"], "prompt.jsonl:2: item `b`"),
                ] {
                    let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
                    #expect(result.exitCode == 4, "\(arguments): \(result.stderr)")
                    #expect(result.stderr.contains(row + " holds the value of a credential"), "\(result.stderr)")
                    #expect(!Self.revealsKey(result.stdout + result.stderr), "\(arguments)")
                }
                // A run's --var the template shows, likewise.
                let run = try await binary.run(
                    ["run", "w.yaml", "What is 2+2?", "--var", "note=" + Self.key], environment: environment,
                    directory: sandbox.root)
                #expect(run.exitCode == 4, "\(run.stderr)")
                #expect(run.stderr.contains("--var note holds the value of a credential"), "\(run.stderr)")
                #expect(!Self.revealsKey(run.stdout + run.stderr))
                #expect(server.requests.isEmpty, "\(server.requests.map(\.body))")
            }
        }

        /// Every place a run's text lands, named: its stderr and stdout, `runs export` of the run, and the
        /// ledger's bytes (the file and its write-ahead log).
        static func everywhere(
            _ result: RefineryBinary.Result, store: String, binary: RefineryBinary, environment: [String: String],
            directory: URL
        ) async throws -> [(String, String)] {
            let runs = try await binary.listRuns(store: store, environment: environment, directory: directory)
            let id = try #require(runs.first?["id"] as? String)
            let export = try await binary.run(
                ["runs", "export", id, "--store", store], environment: environment, directory: directory)
            #expect(export.exitCode == 0, "\(export.stderr)")
            var ledger = Data()
            for suffix in ["", "-wal"] {
                ledger.append(FileManager.default.contents(atPath: store + suffix) ?? Data())
            }
            return [
                ("stderr", result.stderr), ("stdout", result.stdout), ("runs export", export.stdout),
                ("ledger", String(decoding: ledger, as: UTF8.self)),
            ]
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
