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
        let state = Mutex(
            (progress: ProgressState(), throttle: ProgressThrottle(clock: ContinuousClock()), started: Set<String>()))
        let format = options.outputFormat
        let verbose = options.verbose
        let sink: @Sendable (RunEvent) -> Void = { event in
            if format == .jsonl, let line = try? Output.jsonLine(event) { Output.line(line) }
            let snapshot = state.withLock { state -> ProgressState? in
                let before = state.progress
                Self.apply(event, to: &state.progress, started: &state.started)
                guard state.progress != before else { return nil }
                let milestone = Self.isMilestone(from: before, to: state.progress)
                return state.throttle.shouldDraw(milestone: milestone) ? state.progress : nil
            }
            if verbose, case .roundFinished(let round) = event, round.phase == .round {
                progress.note(Self.roundLine(round))
            }
            if case .runFinished = event {
                progress.clear()
            } else if let snapshot {
                progress.show(snapshot)
            }
        }
        let result = try await Interrupt.cancellingOnInterrupt { try await body(sink) }
        progress.clear()
        try print(result)
        return result
    }

    /// Folds `event` into `state`. `started` holds the nodes whose call started (round and node id), kept
    /// out of the state so that comparing and copying the state stays cheap.
    static func apply(_ event: RunEvent, to state: inout ProgressState, started: inout Set<String>) {
        switch event {
        case .runStarted: state.stage = "starting"
        case .roundStarted(let round):
            // The last round's stage is over: until this round's first stage starts, the line must not read
            // "evaluate · round 2" (the new round with the old stage).
            state.stage = "starting"
            state.round = round.round
            state.callsTotal += round.plannedCalls
        case .callStarted(let call) where call.attempt == 1:
            // A round plans one call per node. A first attempt for a node that already had its call is one
            // the plan did not count: the re-ask of an unreadable reply, or the fall-back to the next model.
            // Each ends with its own finished or failed event, so the total grows with it ("calls 6/4"
            // otherwise). A transient retry (attempt 2 and later) ends as the same call and is not counted.
            if !started.insert("\(call.round)\u{1F}\(call.node)").inserted { state.callsTotal += 1 }
        case .stageStarted(let stage): state.stage = stage.stage
        case .callFinished(let call), .callFailed(let call):
            state.callsDone += 1
            state.costUSD += call.costUSD ?? 0
        // An attempt retried is no call done, but a reply the provider billed (one with no text) is paid.
        case .callRetried(let call): state.costUSD += call.costUSD ?? 0
        default: break
        }
    }

    /// A change always drawn, throttle or not: a new stage or round, or a round's last call, so the
    /// line never rests on a stale count while the run waits.
    static func isMilestone(from before: ProgressState, to after: ProgressState) -> Bool {
        before.stage != after.stage || before.round != after.round
            || (after.callsDone != before.callsDone && after.callsDone >= after.callsTotal)
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
        // The answer goes out first: a file that became unwritable during the run loses only the file.
        switch options.outputFormat {
        case .json: Output.line(try Output.json(result.report))
        case .jsonl: Output.line(try Output.jsonLine(result.report))
        case .markdown: Output.line(ResultText.markdown(result, raw: options.raw))
        case .text: Output.line(ResultText.text(result, raw: options.raw))
        }
        if let output = options.output {
            let full = RunReport(outcome: result.outcome, workflow: result.workflow, full: true)
            try Output.file(
                try Output.json(full) + "\n", to: output, flag: "--output",
                recovery: "The run is recorded: `refinery runs export \(result.outcome.runID)` prints it.")
        }
    }
}
