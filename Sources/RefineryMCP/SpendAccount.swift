// The per-process spend cap of `refinery mcp`: what has been spent and what the runs in flight may
// still spend, so concurrent calls cannot together pass the cap.

import Foundation
import RefineryCompiler

/// What this process has spent and set aside for the runs in flight.
actor SpendAccount {
    private let cap: Double
    private var spent = 0.0
    private var reserved = 0.0

    init(cap: Double) { self.cap = cap }

    /// Sets aside the budget of one run: `limit` (the per-call cap, or the caller's lower budget), cut to
    /// what is left of the process's cap. Refuses when the run's estimated maximum does not fit in it.
    func reserve(estimate: Double, limit: Double, what: String) throws(MCPToolError) -> Double {
        let left = max(0, cap - spent - reserved)
        let granted = min(limit, left)
        guard estimate <= granted + 1e-9 else {
            // Money set aside for runs in progress comes back when they end: said, so the caller can wait for them
            // (it read "$0 left" while nothing had been spent).
            let inProgress =
                reserved > 0 ? ", \(Self.dollars(reserved)) of it set aside for the runs in progress" : ""
            let which =
                granted < limit
                ? "the \(Self.dollars(left)) left of this server's \(Self.dollars(cap)) total cap (--max-budget-total"
                    + "\(inProgress))"
                : "the budget of \(Self.dollars(limit)) per call (--max-budget, or the call's own budget)"
            let wait = granted < limit && reserved > 0 ? ", or wait until the runs in progress end" : ""
            throw MCPToolError(
                "refused: \(what) has an estimated maximum cost of \(Self.dollars(estimate)), more than \(which). "
                    + "Nothing was called. Use fewer models or rounds, or a cheaper workflow\(wait).")
        }
        reserved += granted
        return granted
    }

    /// Releases a reservation and books what the run really cost.
    func settle(reserved amount: Double, spent cost: Double) {
        reserved -= amount
        spent += cost
    }

    /// Dollars with enough digits that a tiny cap does not read as $0.0000.
    static func dollars(_ value: Double) -> String {
        DollarText.text(value)
    }
}
