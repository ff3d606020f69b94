// What `batch` and `bench` show while they run: results as JSON lines (a file or stdout), the
// progress line on a terminal (items done/total, cost, ETA) and the summary on stderr. Ctrl-C and
// SIGTERM cancel the batch: the runs in flight are recorded cancelled and `batch resume` finishes it.

import Foundation
import Refinery
import RefineryCompiler
import RefineryStore

enum BatchDisplay {
    /// Runs `body` with the progress and result sinks, cancelled on Ctrl-C/SIGTERM/SIGHUP, and prints
    /// the summary.
    static func run(
        options: BatchOptions, output: String?,
        _ body:
            @escaping @Sendable (
                _ progress: @escaping (BatchProgress) -> Void, _ results: (BatchItemRecord) throws -> Void
            ) async throws -> BatchOutcome
    ) async throws -> BatchOutcome {
        let environment = ProcessInfo.processInfo.environment
        let quiet = options.quiet
        let outcome = try await Interrupt.cancellingOnInterrupt {
            let line = ProgressLine(quiet: quiet, environment: environment)
            var throttle = ProgressThrottle(clock: ContinuousClock())
            let sink = try ResultSink(path: output)
            defer { line.clear() }
            return try await body(
                { progress in
                    if throttle.shouldDraw(milestone: progress.done == progress.total) {
                        line.show(text: Self.text(progress))
                    }
                },
                { record in try sink.write(record) })
        }
        Output.error(Self.summary(outcome) + "\n")
        return outcome
    }

    static func text(_ progress: BatchProgress) -> String {
        var parts = ["items \(progress.done)/\(progress.total)", TextFormat.dollars(progress.costUSD)]
        if let eta = progress.etaSeconds, progress.done < progress.total { parts.append("ETA " + duration(eta)) }
        return parts.joined(separator: " · ")
    }

    static func summary(_ outcome: BatchOutcome) -> String {
        var text =
            "\(outcome.kind) \(outcome.batchID): \(outcome.status) · \(outcome.done)/\(outcome.total) items · "
            + TextFormat.dollars(outcome.costUSD)
        if let output = outcome.output { text += " · results in \(output)" }
        if let stoppedBy = outcome.stoppedBy { text += "\n  \(stoppedBy)" }
        if outcome.status != "finished" {
            text += "\n  finish it with: refinery \(outcome.kind) resume \(outcome.batchID)"
        }
        return text
    }

    static func text(_ estimate: BatchEstimate) -> String {
        var lines = [
            "\(estimate.items) items",
            "calls:  \(estimate.calls.min)–\(estimate.calls.max)",
            "tokens: in \(estimate.tokens.input.min)–\(estimate.tokens.input.max), "
                + "out \(estimate.tokens.output.min)–\(estimate.tokens.output.max)",
            "cost:   \(TextFormat.dollars(estimate.costUSD.min))–\(TextFormat.dollars(estimate.costUSD.max))",
        ]
        if !estimate.unpricedModels.isEmpty {
            lines.append("unpriced (counted as $0): " + estimate.unpricedModels.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    private static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m" }
        if total >= 60 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total)s"
    }
}

/// Where results go: a file (created or emptied) or stdout, one JSON object a line.
private struct ResultSink {
    let file: FileHandle?

    init(path: String?) throws {
        guard let path else {
            file = nil
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw InputError(code: .unreadable, message: "--output \(path): cannot create the file.")
        }
        file = handle
    }

    func write(_ record: BatchItemRecord) throws {
        let line = try Output.jsonLine(record) + "\n"
        if let file {
            try file.write(contentsOf: Data(line.utf8))
        } else {
            Output.write(line)
        }
    }
}
