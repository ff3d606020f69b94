// How a run's result and progress are shown.

import ArgumentParser

struct OutputOptions: ParsableArguments {
    @Option(help: "text, json, markdown or jsonl (engine events, one per line, result last).")
    var outputFormat: OutputFormat = .text

    @Option(help: "Also save the full result (every round, answer and score) as JSON to this file.")
    var output: String?

    @Flag(help: "Print every member's and the arbiter's answers.")
    var raw = false

    @Flag(name: .shortAndLong, help: "No progress display.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Per-round scores on stderr.")
    var verbose = false

    @Flag(help: "Log provider requests and replies (credentials redacted) to stderr.")
    var debug = false
}
