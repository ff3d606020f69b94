// The budget of a whole batch (`--max-budget`): what its finished jobs spent and what the jobs in
// flight may still spend, so concurrent runs cannot together pass it. A job starts only when its
// estimated maximum fits in what is left, and its run is capped at that reservation (the engine's
// own budget check), so the batch never passes the cap by more than one call's estimate error.

import Foundation

/// Spend and reservations of one batch.
package actor BatchBudget {
    package let cap: Double
    private var spent = 0.0
    private var reserved = 0.0

    package init(cap: Double) { self.cap = cap }

    /// Reserves `estimate` dollars for a job, or says why it cannot start.
    package func reserve(_ estimate: Double) -> Swift.Result<Double, BatchStop> {
        let left = cap - spent - reserved
        guard estimate <= left + 1e-12 else {
            return .failure(
                .budget(
                    String(
                        format: "budget: next item ~$%.4f would pass $%.2f (spent $%.4f, $%.4f reserved in flight)",
                        estimate, cap, spent, reserved)))
        }
        reserved += estimate
        return .success(estimate)
    }

    /// Releases a reservation and books what the job cost.
    package func settle(reserved amount: Double, spent cost: Double) {
        reserved -= amount
        spent += cost
    }
}
