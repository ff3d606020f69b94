import Foundation
import RefineryCompiler
import Testing

@testable import RefineryRuntime

/// Recorded runs resume against the request hashes their ledgers hold, so the canonical JSON must
/// stay the bytes `JSONEncoder` (sorted keys, unescaped slashes) wrote through `Codable`.
@Suite struct RequestHashTests {
    /// The encoding the ledger has always used, kept here as the reference.
    private static func encoderJSON(_ request: ModelRequest) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(request)) ?? Data(), as: UTF8.self)
    }

    static let requests: [ModelRequest] = {
        let plain = ModelRequest(
            model: ModelRef(provider: "openai", model: "gpt-4o"), messages: [ChatMessage(role: .user, content: "hi")])
        var full = ModelRequest(
            model: ModelRef(provider: "anthropic", model: "claude-opus-4-6", alias: "claude"),
            system: "You are \"careful\".\nAnswer in C:\\path/with/slashes\t\u{1}\u{1F}\u{7F}",
            messages: [
                ChatMessage(role: .user, content: "Évaluez ceci : 日本語, emoji 🧪, \u{2028} \u{FEFF} \r\n"),
                ChatMessage(role: .assistant, content: ""),
                ChatMessage(role: .user, content: "{\"json\": [1, 2]} </script>"),
            ],
            params: ModelParams(
                temperature: 0.7, topP: 0.1 + 0.2, maxTokens: 100_000_000, reasoningEffort: "high", seed: -42,
                stop: ["\n\n", "END", ""]),
            responseFormat: ResponseFormat(
                name: "evaluation", schemaJSON: #"{"type":"object","properties":{"score":{"type":"number"}}}"#),
            timeoutSeconds: 120)
        var fractions = plain
        fractions.params = ModelParams(temperature: 1, topP: 1e-7, seed: 999_999_999_999_999)
        fractions.timeoutSeconds = 0.25
        full.messages.append(ChatMessage(role: .user, content: String(repeating: "long ", count: 2_000)))
        var large = plain
        large.params = ModelParams(temperature: 2e20, seed: Int.max)
        large.timeoutSeconds = 604_800.5
        var noMessages = plain
        noMessages.messages = []
        noMessages.params = ModelParams(stop: [])
        return [plain, full, fractions, large, noMessages]
    }()

    @Test(arguments: requests)
    func theCanonicalJSONIsTheBytesJSONEncoderWrote(request: ModelRequest) {
        let json = Self.encoderJSON(request)
        let canonical = RequestHash.canonical(request)
        #expect(canonical.json == json)
        #expect(canonical.hash == WorkflowCompiler.sha256Hex(Data(json.utf8)))
    }

    /// The engine's schemas, written once and kept (or, rebuilt, found by value), and one written each time.
    static let formats: [ResponseFormat] = [
        JSONSchemas.evaluation, JSONSchemas.synthesis, JSONSchemas.verificationQuestions,
        ResponseFormat(
            name: "evaluation",
            schemaJSON: String(decoding: Array(JSONSchemas.evaluation.schemaJSON.utf8), as: UTF8.self)),
        JSONSchemas.batchedEvaluation(labels: ["A", "B"]),
    ]

    @Test(arguments: formats)
    func theEnginesSchemasAreWrittenAsJSONEncoderWritesThem(format: ResponseFormat) {
        var request = Self.requests[0]
        request.responseFormat = format
        let json = Self.encoderJSON(request)
        #expect(RequestHash.canonical(request).json == json)
        #expect(RequestHash.of(request) == WorkflowCompiler.sha256Hex(Data(json.utf8)))
    }

    /// Hashes written by the `JSONEncoder` path before it was replaced: a ledger recorded then resumes.
    @Test func hashesRecordedBeforeStayTheSame() {
        let pinned = Self.requests.map { RequestHash.of($0) }
        #expect(pinned == Self.pinnedHashes)
    }

    /// Computed by `RequestHash` when it encoded through `JSONEncoder` (the code before this file was added).
    static let pinnedHashes = [
        "66439d7e6729d86ec86c52dfbee722d87e5a2c0fc45dd524920732647fef098c",
        "bb9fd63bc2636c897933dc7dc1e23ddc0243c75f1f43b2d159a7d32e3b7e3a2c",
        "cd53f47e25a4dc49431789255bd32107c2428efdde83e7775c3dbf2fcffd08fa",
        "0eb74dc0ee452dbf4311b548c03c3ae230235b3766712c1ad30e4298be497ccf",
        "cc96483e5eeafd2f79b885f31dc6c07ae2883722ef8d1690f6093b459ebef64f",
    ]
}
