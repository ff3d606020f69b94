// Drives a run from the CLI: live progress from the engine's events, Ctrl-C as cancellation,
// then the result in the chosen format.

import ArgumentParser
import Foundation
import Refinery
import RefineryRuntime
import Synchronization

struct RunPresenter: Sendable {
    let options: OutputOptions
    let environment: [String: String]

    func present(
        _ body: @escaping @Sendable (@escaping @Sendable (RunEvent) -> Void) async throws -> RunResult
    ) async throws -> RunResult {
        let progress = ProgressLine(quiet: options.quiet || options.outputFormat == .jsonl, environment: environment)
        let state = Mutex(ProgressState())
        let format = options.outputFormat
        let verbose = options.verbose
        let sink: @Sendable (RunEvent) -> Void = { event in
            if format == .jsonl, let line = try? Output.jsonLine(event) { Output.line(line) }
            let (snapshot, changed) = state.withLock { state -> (ProgressState, Bool) in
                let before = state
                Self.apply(event, to: &state)
                return (state, state != before)
            }
            if verbose, case .roundFinished(let round) = event, round.phase == .round {
                progress.note(Self.roundLine(round))
            }
            if case .runFinished = event {
                progress.clear()
            } else if changed {
                progress.show(snapshot)
            }
        }
        let result = try await Interrupt.cancellingOnInterrupt { try await body(sink) }
        progress.clear()
        try print(result)
        return result
    }

    static func apply(_ event: RunEvent, to state: inout ProgressState) {
        switch event {
        case .runStarted: state.stage = "starting"
        case .roundStarted(let round):
            state.round = round.round
            state.callsTotal += round.plannedCalls
        case .stageStarted(let stage): state.stage = stage.stage
        case .callFinished(let call), .callFailed(let call):
            state.callsDone += 1
            state.costUSD += call.costUSD ?? 0
        default: break
        }
    }

    static func roundLine(_ round: RoundResult) -> String {
        let scores = round.answers.compactMap { answer in
            answer.meanScore.map { "\(answer.memberID) \(String(format: "%.2f", $0))" }
        }
        var line = "round \(round.round): " + (scores.isEmpty ? "no scores" : scores.joined(separator: ", "))
        if let decision = round.decision { line += " — \(decision.signal)" }
        return line
    }

    private func print(_ result: RunResult) throws {
        if let output = options.output {
            let full = RunReport(outcome: result.outcome, workflow: result.workflow, full: true)
            try Data((try Output.json(full) + "\n").utf8).write(to: URL(fileURLWithPath: output))
        }
        switch options.outputFormat {
        case .json: Output.line(try Output.json(result.report))
        case .jsonl: Output.line(try Output.jsonLine(result.report))
        case .markdown: Output.line(ResultText.markdown(result, raw: options.raw))
        case .text: Output.line(ResultText.text(result, raw: options.raw))
        }
    }
}
