// `refinery report RUN_ID|BATCH_ID|BENCH_ID [-o FILE.html] [--open]`: the HTML report, to stdout or a file.

import ArgumentParser
import Foundation
import Refinery
import RefineryCommandSupport

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report of a recorded run, batch or bench.",
        discussion: """
            A run: timeline, scores, answers, cost. A batch: status, cost and latency over items. A bench: \
            accuracy against cost, paired comparisons, the per-item correctness grid.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "A run, batch or bench id (or a unique prefix).", transform: RecordID.any) var id: String
    @Option(name: [.short, .customLong("output")], help: "Write the HTML to this file instead of stdout.")
    var output: String?
    @Flag(help: "Open the written file with the system's opener (xdg-open or open).") var open = false

    /// A path that cannot take the file (a folder, a missing folder) is refused like `run --output`'s,
    /// with exit 4, instead of failing as a Foundation error after the report was built.
    func validate() throws {
        if open && output == nil { throw ValidationError("--open needs -o FILE.html.") }
        if let output,
            let problem = OutputOptions.unwritable(output, keeping: KeptFile.store(storeOptions.runService()))
        {
            throw ValidationError("-o \(output): \(problem)")
        }
    }

    func run() async throws {
        try await withExitCode {
            let html = try await RunService.current(storePath: storeOptions.store).report(.any(id))
            guard let output else {
                Output.line(html)
                return
            }
            try Output.file(
                html, to: output, flag: "-o", recovery: "Without -o, `refinery report \(id)` prints the page.")
            if open {
                let opener = Process()
                opener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                #if os(macOS)
                    opener.arguments = ["open", output]
                #else
                    opener.arguments = ["xdg-open", output]
                #endif
                try opener.run()
            }
        }
    }
}
