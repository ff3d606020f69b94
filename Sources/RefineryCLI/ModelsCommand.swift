// `refinery models`: aliases, prices, and which providers have credentials (names, never values).

import ArgumentParser
import Foundation
import Refinery
import RefineryCompiler

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List model aliases, prices and which credentials are present.")

    @Option(help: "text or json.")
    var outputFormat: ListingFormat = .text

    func run() async throws {
        try await withExitCode {
            let report = try await RunService.current().models()
            if outputFormat == .json {
                Output.line(try Output.json(report))
                return
            }
            Output.line("Aliases:")
            for alias in report.aliases {
                Output.line("  \(alias.name) → \(alias.target)" + (alias.params.isEmpty ? "" : " (\(alias.params))"))
            }
            Output.line("")
            Output.line(
                "Prices (USD per million tokens, input / output; prompt-cache reads and writes where they differ; "
                    + "long-prompt prices where they apply):")
            for price in report.prices {
                var cache: [String] = []
                if price.cachedInput != price.input { cache.append("cached input \(price.cachedInput)") }
                if price.cacheWrite != price.input || price.cacheWrite1h != price.input {
                    cache.append("cache write \(price.cacheWrite), 1-hour \(price.cacheWrite1h)")
                }
                if let long = price.longContext {
                    cache.append(
                        "prompts over \(long.above) tokens: \(long.input) / \(long.output)"
                            + (long.cachedInput != long.input ? ", cached input \(long.cachedInput)" : ""))
                }
                Output.line(
                    "  \(price.model): \(price.input) / \(price.output)"
                        + (cache.isEmpty ? "" : " (\(cache.joined(separator: "; ")))"))
            }
            Output.line("")
            Output.line("Credentials:")
            for provider in report.credentials {
                let state =
                    provider.variables.isEmpty
                    ? "no key needed"
                    : provider.present.isEmpty
                        ? "missing: set \(provider.variables.joined(separator: " or "))"
                        : "set (\(provider.present.joined(separator: ", ")))"
                Output.line("  \(provider.provider): \(state)")
            }
        }
    }
}
