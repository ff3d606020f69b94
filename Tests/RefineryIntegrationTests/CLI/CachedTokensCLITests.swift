import Foundation
import Testing

extension CLIEndToEnd {
    /// Prompt-cache tokens as each provider reports them (the replies below have the shapes their API references
    /// document), priced at the catalog's cached-input and cache-write prices, and shown in the run's JSON
    /// (`tokens.cached_input`, `tokens.cache_write`) and in `runs export` (each call's usage). They were billed
    /// at the full input price, and Anthropic's cache writes at 1× instead of 1.25×; its 1-hour writes were priced
    /// as 5-minute ones (1.25× instead of 2×).
    @Suite struct CachedTokensCLITests {
        struct Case: Sendable, CustomStringConvertible {
            let model: String
            let reply: FakeReply
            let input: Int
            let cached: Int
            let written: Int
            var written1h = 0
            let cost: Double
            let oldCost: Double
            var description: String { model }
        }

        static let cases: [Case] = [
            // Messages API: `input_tokens` is the uncached rest; reads at $0.50, 5-minute writes at $6.25 per
            // million ($5 input, $25 output).
            Case(
                model: "anthropic/claude-opus-4-6",
                reply: .json(
                    """
                    {"id":"msg_01","type":"message","role":"assistant","model":"claude-opus-4-6",\
                    "content":[{"type":"text","text":"Four."}],"stop_reason":"end_turn","stop_sequence":null,\
                    "usage":{"input_tokens":100,"cache_creation_input_tokens":1000,"cache_read_input_tokens":4000,\
                    "output_tokens":50}}
                    """),
                input: 5100, cached: 4000, written: 1000,
                cost: (100 * 5 + 1000 * 6.25 + 4000 * 0.5 + 50 * 25) / 1e6, oldCost: (5100 * 5 + 50 * 25) / 1e6),
            // Writes split by lifetime (`usage.cache_creation`): the 1-hour ones at $10 (2× input), the 5-minute
            // ones at $6.25. All 3000 were billed at $6.25.
            Case(
                model: "anthropic/claude-opus-4-6",
                reply: .json(
                    """
                    {"id":"msg_02","type":"message","role":"assistant","model":"claude-opus-4-6",\
                    "content":[{"type":"text","text":"Four."}],"stop_reason":"end_turn","stop_sequence":null,\
                    "usage":{"input_tokens":100,"cache_creation_input_tokens":3000,"cache_read_input_tokens":4000,\
                    "cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},\
                    "output_tokens":50}}
                    """),
                input: 7100, cached: 4000, written: 3000, written1h: 2000,
                cost: (100 * 5 + 1000 * 6.25 + 2000 * 10 + 4000 * 0.5 + 50 * 25) / 1e6,
                oldCost: (100 * 5 + 3000 * 6.25 + 4000 * 0.5 + 50 * 25) / 1e6),
            // Chat Completions: `prompt_tokens` holds the cached ones; gpt-4o's cached input is $1.25 of $2.50.
            Case(
                model: "openai/gpt-4o",
                reply: .json(
                    """
                    {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o",\
                    "choices":[{"index":0,"message":{"role":"assistant","content":"Four."},"finish_reason":"stop"}],\
                    "usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,\
                    "prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},\
                    "completion_tokens_details":{"reasoning_tokens":0}}}
                    """),
                input: 2006, cached: 1920, written: 0,
                cost: (86 * 2.5 + 1920 * 1.25 + 300 * 10) / 1e6, oldCost: (2006 * 2.5 + 300 * 10) / 1e6),
            // generateContent: `promptTokenCount` holds the cached content; 2.5 Pro's is $0.125 of $1.25.
            Case(
                model: "gemini/gemini-2.5-pro",
                reply: .sse([
                    (
                        nil,
                        """
                        {"candidates":[{"content":{"parts":[{"text":"Four."}],"role":"model"},"finishReason":"STOP",\
                        "index":0}],"usageMetadata":{"promptTokenCount":3000,"candidatesTokenCount":100,\
                        "totalTokenCount":3100,"cachedContentTokenCount":2048,\
                        "promptTokensDetails":[{"modality":"TEXT","tokenCount":3000}],\
                        "cacheTokensDetails":[{"modality":"TEXT","tokenCount":2048}]},"modelVersion":"gemini-2.5-pro"}
                        """
                    )
                ]),
                input: 3000, cached: 2048, written: 0,
                cost: (952 * 1.25 + 2048 * 0.125 + 100 * 10) / 1e6, oldCost: (3000 * 1.25 + 100 * 10) / 1e6),
            // A prompt over 200k tokens: 2.5 Pro bills every token at its long-prompt prices ($2.50 input, $0.25
            // cached, $15 output). It was billed at the short-prompt prices.
            Case(
                model: "gemini/gemini-2.5-pro",
                reply: .sse([(nil, geminiReply(prompt: 250_000, cached: 50_000, output: 1000))]),
                input: 250_000, cached: 50_000, written: 0,
                cost: (200_000 * 2.5 + 50_000 * 0.25 + 1000 * 15) / 1e6,
                oldCost: (200_000 * 1.25 + 50_000 * 0.125 + 1000 * 10) / 1e6),
            // 3.1 Pro past 200k: $4 input, $0.40 cached, $18 output (it was $2, $0.20, $12).
            Case(
                model: "gemini/gemini-3.1-pro-preview",
                reply: .sse([(nil, geminiReply(prompt: 200_001, cached: 0, output: 500))]),
                input: 200_001, cached: 0, written: 0,
                cost: (200_001 * 4 + 500 * 18) / 1e6, oldCost: (200_001 * 2 + 500 * 12) / 1e6),
            // Exactly 200k is still the short-prompt price.
            Case(
                model: "gemini/gemini-3.1-pro-preview",
                reply: .sse([(nil, geminiReply(prompt: 200_000, cached: 0, output: 500))]),
                input: 200_000, cached: 0, written: 0,
                cost: (200_000 * 2 + 500 * 12) / 1e6, oldCost: (200_000 * 2 + 500 * 12) / 1e6),
        ]

        /// A generateContent stream's one chunk with this usage.
        static func geminiReply(prompt: Int, cached: Int, output: Int) -> String {
            let cache = cached > 0 ? ",\"cachedContentTokenCount\":\(cached)" : ""
            return """
                {"candidates":[{"content":{"parts":[{"text":"Four."}],"role":"model"},"finishReason":"STOP",\
                "index":0}],"usageMetadata":{"promptTokenCount":\(prompt),"candidatesTokenCount":\(output),\
                "totalTokenCount":\(prompt + output)\(cache)}}
                """
        }

        @Test(arguments: cases) func cachedInputIsPricedAndShown(_ test: Case) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.routeAny { _ in test.reply }
                var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                environment["ANTHROPIC_API_KEY"] = "sk-ant-test-abcdefghijklmnop"
                environment["GEMINI_API_KEY"] = "gemini-test-abcdefghijklmnop"
                // A provider's count above the request's bytes is not believed: a long prompt needs a long request.
                var arguments = ["q", "--models", test.model, "--output-format", "json"]
                if test.input > 100_000 {
                    try sandbox.write("long.txt", Data(String(repeating: "a ", count: 150_000).utf8))
                    arguments += ["-f", "long.txt"]
                }
                let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                let report = try CLIHarness.json(result.stdout)
                let cost = try #require(report["cost_usd"] as? Double)
                #expect(abs(cost - test.cost) < 1e-9, "cost \(cost), old pricing \(test.oldCost)")
                let tokens = try #require(report["tokens"] as? [String: Any])
                #expect(tokens["input"] as? Int == test.input)
                #expect(tokens["cached_input"] as? Int == (test.cached > 0 ? test.cached : nil))
                #expect(tokens["cache_write"] as? Int == (test.written > 0 ? test.written : nil))
                #expect(tokens["cache_write_1h"] as? Int == (test.written1h > 0 ? test.written1h : nil))

                let runID = try #require(report["run_id"] as? String)
                let export = try await binary.run(
                    ["runs", "export", runID], environment: environment, directory: sandbox.root)
                #expect(export.exitCode == 0, "\(export.stderr)")
                let calls = try #require(CLIHarness.json(export.stdout)["calls"] as? [[String: Any]])
                let usage = try #require((calls.first?["reply"] as? [String: Any])?["usage"] as? [String: Any])
                #expect(usage["input_tokens"] as? Int == test.input)
                #expect(usage["cached_input_tokens"] as? Int == (test.cached > 0 ? test.cached : nil))
                #expect(usage["cache_write_tokens"] as? Int == (test.written > 0 ? test.written : nil))
                #expect(usage["cache_write1h_tokens"] as? Int == (test.written1h > 0 ? test.written1h : nil))

                // The ledger books the same cost: `runs list` and `runs show`.
                let list = try await binary.run(
                    ["runs", "list", "--output-format", "json"], environment: environment, directory: sandbox.root)
                let runs = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
                let listed = try #require(runs.first?["cost_usd"] as? Double)
                #expect(abs(listed - test.cost) < 1e-9, "runs list: \(listed)")
            }
        }
    }
}
