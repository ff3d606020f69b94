// Live progress on stderr (DESIGN §4): one line rewritten in place while a run goes, only when
// stderr is a terminal and not --quiet; colour only when NO_COLOR is unset.

import Foundation
import RefineryCompiler
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
    /// `COLUMNS`, for a terminal that does not report its size.
    let columnsVariable: Int?

    init(quiet: Bool, environment: [String: String]) {
        enabled = !quiet && isatty(STDERR_FILENO) == 1
        color = enabled && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        columnsVariable = environment["COLUMNS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// The width of the terminal on stderr, asked at each draw (it may have been resized): its window size,
    /// else `COLUMNS`; `nil` when neither says.
    private var columns: Int? {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), $0) }
        if status == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return columnsVariable
    }

    /// `text` cut to fit in `columns - 1` characters, ending in `…` when cut: a line as wide as the terminal
    /// wraps (the cursor moves past the last column), and a wrapped line is not rewritten in place, so every
    /// update would add lines.
    static func fitted(_ text: String, columns: Int?) -> String {
        guard let columns, columns > 1, text.count > columns - 1 else { return text }
        return String(text.prefix(columns - 2)) + "…"
    }

    /// The line for `state`, without terminal control characters.
    static func text(_ state: ProgressState) -> String {
        var parts = [state.stage]
        if state.round > 0 { parts.append("round \(state.round)") }
        parts.append("calls \(state.callsDone)/\(state.callsTotal)")
        parts.append(DollarText.text(state.costUSD))
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
        let text = Self.fitted(TerminalText.escaped(text), columns: columns)
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
