// Live progress on stderr (DESIGN §4): one line rewritten in place while a run goes, only when
// stderr is a terminal and not --quiet; colour only when NO_COLOR is unset.

import Foundation
import RefinerySyntax

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the progress line shows.
struct ProgressState: Sendable, Equatable {
    var stage = "starting"
    var round = 0
    var callsDone = 0
    var callsTotal = 0
    var costUSD = 0.0
}

/// Renders ``ProgressState`` on stderr.
struct ProgressLine: Sendable {
    let enabled: Bool
    let color: Bool

    init(quiet: Bool, environment: [String: String]) {
        enabled = !quiet && isatty(STDERR_FILENO) == 1
        color = enabled && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }

    /// The line for `state`, without terminal control characters.
    static func text(_ state: ProgressState) -> String {
        var parts = [state.stage]
        if state.round > 0 { parts.append("round \(state.round)") }
        parts.append("calls \(state.callsDone)/\(state.callsTotal)")
        parts.append(String(format: "$%.4f", state.costUSD))
        return parts.joined(separator: " · ")
    }

    func show(_ state: ProgressState) {
        // Not even formatted when nothing is drawn (`--quiet`, not a terminal): `String(format:)`'s first use
        // costs a run's start-up a few hundred microseconds of runtime type lookups.
        guard enabled else { return }
        show(text: Self.text(state))
    }

    /// Draws `text` in place (a batch's items done, cost and ETA).
    func show(text: String) {
        guard enabled else { return }
        // The stage name can come from a workflow file: escaped like any text, then drawn in place.
        let text = TerminalText.escaped(text)
        let styled = color ? "\u{1B}[2m\(text)\u{1B}[0m" : text
        Output.errorControl("\r\u{1B}[2K\(styled)")
    }

    /// A line that stays (e.g. `--verbose` round scores), printed above the progress line.
    func note(_ text: String) {
        if enabled { Output.errorControl("\r\u{1B}[2K") }
        Output.error("\(text)\n")
    }

    func clear() {
        guard enabled else { return }
        Output.errorControl("\r\u{1B}[2K")
    }
}
