// What `batch` and `bench` show while they run: results as JSON lines (a file or stdout), the
// progress line on a terminal (items done/total, cost, ETA) and the summary on stderr. Ctrl-C and
// SIGTERM cancel the batch: the runs in flight are recorded cancelled and `batch resume` finishes it.

import Foundation
import Refinery
import RefineryCompiler
import RefineryStore
import RefinerySyntax
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum BatchDisplay {
    /// Runs `body` with the progress line and a writer of result lines (to `output`, else stdout when
    /// `stdout` is true, else nowhere), cancelled on Ctrl-C/SIGTERM/SIGHUP, and prints the summary.
    /// `unit` names what the progress counts: a batch's items, a bench's runs (each item once per system).
    static func run(
        options: BatchOptions, output: String?, stdout: Bool = true, unit: String = "items",
        _ body:
            @escaping @Sendable (
                _ progress: @escaping (BatchProgress) -> Void, _ write: (String) throws -> Void
            ) async throws -> BatchOutcome
    ) async throws -> BatchOutcome {
        let environment = ProcessInfo.processInfo.environment
        let quiet = options.quiet
        var outcome = try await Interrupt.cancellingOnInterrupt {
            let line = ProgressLine(quiet: quiet, environment: environment)
            var throttle = ProgressThrottle(clock: ContinuousClock())
            let sink = ResultSink(path: output, stdout: stdout)
            defer { line.clear() }
            return try await body(
                { progress in
                    // The first report comes once the batch is recorded: the input was good, so the
                    // file may be emptied now (a bad input leaves a previous results file as it was).
                    try? sink.prepare()
                    if throttle.shouldDraw(milestone: progress.done == progress.total) {
                        line.show(text: Self.text(progress, unit: unit))
                    }
                },
                { text in try sink.write(text) })
        }
        // The summary names the file this process wrote: the ledger's outcome names the one the batch was
        // started with, and `batch resume --output NEW` writes NEW.
        outcome.output = output
        Output.error(Self.summary(outcome) + "\n")
        return outcome
    }

    /// What `--detach` prints: the id (JSON with `--output-format json`) and how to run and follow it.
    static func print(_ detached: DetachedBatch, format: OutputFormat) {
        switch format {
        case .json, .jsonl: Output.line((try? Output.json(detached)) ?? "")
        case .text, .markdown:
            Output.line(detached.batchID)
            Output.error(
                "\(detached.kind) \(detached.batchID): \(Counted.text(detached.total, "item")) enqueued in \(detached.store)\n"
                    + "  run them with: refinery worker --store \(detached.store)\n"
                    + "  follow them with: refinery batch status \(detached.batchID)\n")
        }
    }

    /// `refinery batch status` as text.
    static func text(_ status: BatchStatusReport) -> String {
        var lines = [
            "\(status.kind) \(status.batchID): \(status.status) · \(status.done)/\(status.total) done · "
                + "\(status.failed) failed · \(status.running) in flight · \(status.pending) waiting · "
                + TextFormat.dollars(status.costUSD)
        ]
        if status.status == RunService.interruptedStatus {
            lines.append(interruptedHint(kind: status.kind, id: status.batchID))
        }
        if let budget = status.budgetUSD {
            var line = "budget \(TextFormat.dollars(budget))"
            if let spent = status.spentUSD { line += " · booked \(TextFormat.dollars(spent))" }
            if let reserved = status.reservedUSD { line += " · reserved in flight \(TextFormat.dollars(reserved))" }
            lines.append(line)
        }
        for worker in status.workers {
            lines.append(
                "worker \(worker.id) on \(worker.host): \(worker.inFlight) in flight · heartbeat "
                    + String(format: "%.1f s ago", worker.heartbeatAgeSeconds)
                    + (worker.alive ? "" : " (lease expired)"))
        }
        return lines.joined(separator: "\n")
    }

    /// What to do about a batch no process runs any more.
    static func interruptedHint(kind: String, id: String) -> String {
        "  no process runs it (killed, or its machine stopped); finish it with: refinery \(kind) resume \(id)"
    }

    static func text(_ progress: BatchProgress, unit: String = "items") -> String {
        var parts = ["\(unit) \(progress.done)/\(progress.total)", TextFormat.dollars(progress.costUSD)]
        if let eta = progress.etaSeconds, progress.done < progress.total { parts.append("ETA " + duration(eta)) }
        return parts.joined(separator: " · ")
    }

    static func summary(_ outcome: BatchOutcome) -> String {
        // A bench counts its runs, each item once per system: "12/12 runs" for 6 items and two systems.
        var text =
            "\(outcome.kind) \(outcome.batchID): \(outcome.status) · "
            + "\(outcome.done)/\(Counted.text(outcome.total, outcome.kind == "bench" ? "run" : "item")) · "
            + TextFormat.dollars(outcome.costUSD)
        if let output = outcome.output { text += " · results in \(output)" }
        if let stoppedBy = outcome.stoppedBy { text += "\n  \(stoppedBy)" }
        if !outcome.notStarted.isEmpty {
            let shown = outcome.notStarted.prefix(5).joined(separator: ", ")
            let more = outcome.notStarted.count > 5 ? " and \(outcome.notStarted.count - 5) more" : ""
            text += "\n  not started: \(outcome.notStarted.count) (\(shown)\(more))"
        }
        if outcome.status == "budget_exhausted" {
            // The batch's budget holds across sessions: a resume without a budget of its own stops at once.
            text +=
                "\n  finish it with: refinery \(outcome.kind) resume \(outcome.batchID) --max-budget USD "
                + "(what the rest may spend)"
        } else if outcome.status != "finished" {
            text += "\n  finish it with: refinery \(outcome.kind) resume \(outcome.batchID)"
        }
        return text
    }

    static func text(_ estimate: BatchEstimate) -> String {
        var lines = [
            estimate.runs == estimate.items
                ? Counted.text(estimate.items, "item")
                : "\(Counted.text(estimate.items, "item")), \(Counted.text(estimate.runs, "run")) (each item once per system)",
            "calls:  \(estimate.calls.min)–\(estimate.calls.max)",
            "tokens: in \(estimate.tokens.input.min)–\(estimate.tokens.input.max), "
                + "out \(estimate.tokens.output.min)–\(estimate.tokens.output.max)",
            "cost:   \(TextFormat.dollars(estimate.costUSD.min))–\(TextFormat.dollars(estimate.costUSD.max))",
        ]
        for system in estimate.systems ?? [] {
            lines.append(
                "  \(system.system): \(Counted.text(system.runs, "run")), calls \(system.calls.min)–\(system.calls.max), "
                    + "tokens in \(system.tokens.input.min)–\(system.tokens.input.max), "
                    + "out \(system.tokens.output.min)–\(system.tokens.output.max), "
                    + "cost \(TextFormat.dollars(system.costUSD.min))–\(TextFormat.dollars(system.costUSD.max))")
        }
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

/// Where result lines go: a file (created or emptied when the batch starts, not before its input is
/// read and checked), stdout, or nowhere. The file is opened as a shell's `>` opens it: a link is
/// followed and a device or pipe (`/dev/stdout`, a FIFO) is written to as it is, never replaced by a
/// regular file. A line that cannot be written stops the batch with the system's reason (exit 1).
private final class ResultSink: Sendable {
    let path: String?
    let stdout: Bool
    private let file = Mutex<FileHandle?>(nil)

    init(path: String?, stdout: Bool) {
        self.path = path
        self.stdout = stdout
    }

    /// Creates or empties the file, once.
    func prepare() throws {
        guard let path else { return }
        try file.withLock { file in
            guard file == nil else { return }
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw Self.failure(path, errno: errno) }
            file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        }
    }

    func write(_ line: String) throws {
        if let path {
            try prepare()
            do {
                try file.withLock { try $0?.write(contentsOf: Data((line + "\n").utf8)) }
            } catch {
                throw Self.failure(path, reason: Output.reason(of: error))
            }
        } else if stdout {
            Output.write(line + "\n")
        }
    }

    private static func failure(_ path: String, errno code: Int32) -> OutputFileError {
        failure(path, reason: String(cString: strerror(code)))
    }

    private static func failure(_ path: String, reason: String) -> OutputFileError {
        OutputFileError(
            description: "cannot write --output \(path): \(reason). Every finished item is in the ledger: "
                + "`refinery batch list` names the batch, and its resume writes the file again.")
    }
}

/// A results file that cannot be written: said in one line with the system's reason (exit 1).
private struct OutputFileError: Error, CustomStringConvertible {
    let description: String
}
