// Dollar amounts in messages a user reads: a fixed number of decimals either hides a tiny amount
// (`--budget 0.0001` read "$0.00") or pads a large one, so amounts keep four significant digits.

import Foundation

/// Dollar amounts as text for messages and tables.
package enum DollarText {
    /// Four significant digits, at least cents and at most eight decimals, without the `$`:
    /// `0.0001`, `0.002667`, `0.036`, `5.00`, `12.35`; `0` for nothing.
    package static func plain(_ amount: Double) -> String {
        guard amount > 0 else { return "0" }
        guard amount.isFinite else { return "\(amount)" }  // log10 of infinity is no number of decimals
        let decimals = min(8, max(2, 3 - Int(log10(amount).rounded(.down))))
        var text = String(format: "%.\(decimals)f", amount)
        // Trailing zeros past the cents say nothing.
        while text.hasSuffix("0"), let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 3 {
            text.removeLast()
        }
        return text
    }

    /// ``plain(_:)`` after a `$`: `$0.000045`, `$0.0084`, `$5.00`; `$0` for nothing. Every dollar amount a
    /// user reads (terminal, report, MCP progress, messages) is written by this one function.
    package static func text(_ amount: Double) -> String {
        "$" + plain(amount)
    }
}
