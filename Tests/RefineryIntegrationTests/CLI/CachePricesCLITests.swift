import Foundation
import Testing

extension CLIEndToEnd {
    /// The prompt-cache prices a call is charged, as `refinery models` shows them and a catalog file sets them.
    @Suite struct CachePricesCLITests {
        private func setUp() throws -> (RefineryBinary, Sandbox, [String: String]) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            return (binary, sandbox, RefineryBinary.environment(home: sandbox.root))
        }

        /// `refinery models` showed input and output prices only, not the cached-input and cache-write prices
        /// that are charged (Anthropic's reads at 0.1×, 5-minute writes at 1.25×, 1-hour writes at 2×).
        @Test func modelsShowsTheCachePricesCharged() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let text = try await binary.run(["models"], environment: environment, directory: sandbox.root)
            #expect(text.exitCode == 0, "\(text.stderr)")
            #expect(
                text.stdout.contains(
                    "  anthropic/claude-opus-4-6: 5.0 / 25.0 (cached input 0.5; cache write 6.25, 1-hour 10.0)\n"),
                "\(text.stdout)")
            #expect(text.stdout.contains("  openai/gpt-4o: 2.5 / 10.0 (cached input 1.25)\n"), "\(text.stdout)")
            #expect(text.stdout.contains("  ollama/*: 0.0 / 0.0\n"), "\(text.stdout)")
            // A tenth of $3 reads as 0.3, not 0.30000000000000004.
            #expect(
                text.stdout.contains(
                    "  anthropic/claude-sonnet-4-6: 3.0 / 15.0 (cached input 0.3; cache write 3.75, 1-hour 6.0)\n"),
                "\(text.stdout)")

            let json = try await binary.run(
                ["models", "--output-format", "json"], environment: environment, directory: sandbox.root)
            #expect(json.exitCode == 0, "\(json.stderr)")
            let prices = try #require(CLIHarness.json(json.stdout)["prices"] as? [[String: Any]])
            let opus = try #require(prices.first { $0["model"] as? String == "anthropic/claude-opus-4-6" })
            #expect(opus["cached_input"] as? Double == 0.5)
            #expect(opus["cache_write"] as? Double == 6.25)
            #expect(opus["cache_write_1h"] as? Double == 10)
            let gpt = try #require(prices.first { $0["model"] as? String == "openai/gpt-4o" })
            #expect(gpt["cached_input"] as? Double == 1.25)
            #expect(gpt["cache_write"] as? Double == 2.5)
        }

        /// A catalog file sets the 1-hour write price with `cache_write_1h`; an `anthropic/...` entry that gives
        /// no cache prices is charged Anthropic's multipliers of its input price (it was charged the input price).
        @Test func aCatalogEntrySetsTheOneHourWritePrice() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "config/refinery/catalog.yaml",
                Data(
                    """
                    prices:
                      anthropic/claude-next: { input: 4, output: 20 }
                      my-proxy/claude: { input: 4, output: 20, cache_write: 5, cache_write_1h: 7 }

                    """.utf8))
            let result = try await binary.run(["models"], environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(
                result.stdout.contains(
                    "  anthropic/claude-next: 4.0 / 20.0 (cached input 0.4; cache write 5.0, 1-hour 8.0)\n"),
                "\(result.stdout)")
            #expect(
                result.stdout.contains("  my-proxy/claude: 4.0 / 20.0 (cache write 5.0, 1-hour 7.0)\n"),
                "\(result.stdout)")
        }

        /// Gemini's Pro models charge more for every token of a prompt over 200k tokens: `refinery models` shows
        /// the long-prompt prices, and a catalog entry sets them with `long_context`. Refinery had one price.
        @Test func modelsShowsTheLongPromptPrices() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "config/refinery/catalog.yaml",
                Data(
                    """
                    prices:
                      my-proxy/gemini-pro: { input: 1, output: 8, long_context: { above: 100000, input: 2, output: 12 } }

                    """.utf8))
            let text = try await binary.run(["models"], environment: environment, directory: sandbox.root)
            #expect(text.exitCode == 0, "\(text.stderr)")
            #expect(
                text.stdout.contains(
                    "  gemini/gemini-2.5-pro: 1.25 / 10.0 (cached input 0.125; prompts over 200000 tokens: 2.5 / 15.0, "
                        + "cached input 0.25)\n"),
                "\(text.stdout)")
            #expect(
                text.stdout.contains(
                    "  gemini/gemini-3.1-pro-preview: 2.0 / 12.0 (cached input 0.2; prompts over 200000 tokens: "
                        + "4.0 / 18.0, cached input 0.4)\n"),
                "\(text.stdout)")
            #expect(text.stdout.contains("  gemini/gemini-2.5-flash: 0.3 / 2.5 (cached input 0.03)\n"), "\(text.stdout)")
            #expect(
                text.stdout.contains("  my-proxy/gemini-pro: 1.0 / 8.0 (prompts over 100000 tokens: 2.0 / 12.0)\n"),
                "\(text.stdout)")

            let json = try await binary.run(
                ["models", "--output-format", "json"], environment: environment, directory: sandbox.root)
            let prices = try #require(CLIHarness.json(json.stdout)["prices"] as? [[String: Any]])
            let pro = try #require(prices.first { $0["model"] as? String == "gemini/gemini-2.5-pro" })
            let long = try #require(pro["long_context"] as? [String: Any])
            #expect(long["above"] as? Int == 200_000)
            #expect(long["input"] as? Double == 2.5)
            #expect(long["output"] as? Double == 15)
            #expect(long["cached_input"] as? Double == 0.25)
        }

        @Test func aLongContextWithoutItsThresholdExitsFour() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "config/refinery/catalog.yaml",
                Data("prices:\n  gemini/x: { input: 1, output: 8, long_context: { input: 2, output: 12 } }\n".utf8))
            let result = try await binary.run(["models"], environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("catalog.yaml:2:"), "\(result.stderr)")
            #expect(result.stderr.contains("`long_context` needs `above:`"), "\(result.stderr)")
        }

        @Test func aBadOneHourWritePriceExitsFourWithALocatedDiagnostic() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "config/refinery/catalog.yaml",
                Data("prices:\n  anthropic/claude-next: { input: 4, output: 20, cache_write_1h: -8 }\n".utf8))
            let result = try await binary.run(["models"], environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(
                result.stderr.contains("catalog.yaml:2:66: error: `cache_write_1h` (USD per million tokens) must be"),
                "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }
}
