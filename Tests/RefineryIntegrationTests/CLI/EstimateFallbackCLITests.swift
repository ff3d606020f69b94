import Foundation
import Testing

extension CLIEndToEnd {
    /// `refinery estimate` priced every call at its member's own model, while a run holds a call that moved to a
    /// fallback at the fallback's price: a cheap member with a dear fallback was estimated at the cheap price.
    @Suite struct EstimateFallbackCLITests {
        @Test func theMaxPricesEachCallAtTheDearestModelItCanFallBackTo() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            let members = "models:\n  - model: openai/gpt-4o-mini\n    fallback: [%@]\n  - openai/gpt-4o-mini\n"
            func workflow(_ fallback: String) -> Data {
                Data(
                    ("refinery: 1\nname: fb\n" + members.replacingOccurrences(of: "%@", with: fallback)
                        + "arbiter: { model: openai/gpt-4o-mini, fallback: [\(fallback)] }\n"
                        + "stages: [propose, synthesize]\n").utf8)
            }
            try sandbox.write("dear.yaml", workflow("anthropic/claude-opus-4-6"))
            try sandbox.write("cheap.yaml", workflow("ollama/llama3.2"))
            func estimate(_ file: String, _ format: String = "json") async throws -> (String, [String: Any]) {
                let result = try await binary.run(
                    ["estimate", file, "What is 2+2?", "--output-format", format], environment: environment,
                    directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                return (result.stdout, format == "json" ? try CLIHarness.json(result.stdout) : [:])
            }
            let (_, dear) = try await estimate("dear.yaml")
            let (_, cheap) = try await estimate("cheap.yaml")
            let dearCost = try #require(dear["cost_usd"] as? [String: Any])
            let cheapCost = try #require(cheap["cost_usd"] as? [String: Any])
            let (dearMin, dearMax) = (try #require(dearCost["min"] as? Double), try #require(dearCost["max"] as? Double))
            let (cheapMin, cheapMax) = (
                try #require(cheapCost["min"] as? Double), try #require(cheapCost["max"] as? Double)
            )
            // The min prices each call at its own model; the max at Opus ($5 / $25 against $0.15 / $0.60) for
            // the member and the arbiter that can fall back to it, so well over the cheap workflow's.
            #expect(dearMin == cheapMin)
            #expect(cheapMax == cheapMin)
            #expect(dearMax > cheapMax * 10, "max \(dearMax), without the dear fallback \(cheapMax)")
            #expect(
                dear["max_priced_at_fallback"] as? [String]
                    == ["openai/gpt-4o-mini → anthropic/claude-opus-4-6"])
            #expect((cheap["max_priced_at_fallback"] as? [String])?.isEmpty == true)

            let (text, _) = try await estimate("dear.yaml", "text")
            #expect(
                text.contains(
                    "Max cost prices each call at the dearest model it can fall back to: "
                        + "openai/gpt-4o-mini → anthropic/claude-opus-4-6."),
                "\(text)")
        }
    }
}
