// The budget of a whole batch (`--max-budget`): what its finished jobs spent and what the jobs in
// flight may still spend, so concurrent runs cannot together pass it. A job starts only when its
// estimated maximum fits in what is left; it is granted that estimate plus a share of the rest, and
// its run is capped at the grant (the engine's own budget check, call by call). The grants in flight
// never add up to more than is left, so the batch passes its cap by at most one call's estimate error.
// A job that fits in what is not spent but not beside the grants in flight waits for them to come back.

import Foundation
import RefineryCompiler

/// Spend and reservations of one batch.
package actor BatchBudget {
    package let cap: Double
    private var spent = 0.0
    private var reserved = 0.0
    /// Why no job may start any more: a run stopped at its grant, so what is left cannot carry a job.
    private var exhausted: String?

    /// A budget of `cap` dollars of which `spent` is already gone (what the batch's earlier sessions spent
    /// on the items they finished, when `cap` is the batch's recorded budget and not one given for a resume).
    package init(cap: Double, spent: Double = 0) {
        self.cap = cap
        self.spent = spent
    }

    /// Reserves a grant for a job whose estimated maximum is `estimate`: the estimate plus a `1/slots`
    /// share of what is left beyond it (room for the estimate's error), or why the job cannot start.
    package func reserve(_ estimate: Double, slots: Int) -> Swift.Result<Double, BatchStop> {
        if let exhausted { return .failure(.budget(exhausted)) }
        let left = cap - spent - reserved
        guard estimate <= left + 1e-12 else {
            let reason =
                "budget: next item ~\(DollarText.text(estimate)) would pass \(DollarText.text(cap)) "
                + "(spent \(DollarText.text(spent)), \(DollarText.text(reserved)) reserved in flight)"
            // The runs in flight rarely spend all they hold: the job waits for their grants to come back,
            // and the batch stops only when even the unspent budget cannot carry it.
            guard estimate > cap - spent + 1e-12 else { return .failure(.untilRunsFinish(reason)) }
            return .failure(.budget(reason))
        }
        let grant = estimate + max(0, left - estimate) / Double(max(1, slots))
        reserved += grant
        return .success(grant)
    }

    /// Releases a reservation and books what the job cost; `exhausted` when the job's run stopped at
    /// its grant, which ends the launching.
    package func settle(reserved amount: Double, spent cost: Double, exhausted: Bool = false) {
        reserved -= amount
        spent += cost
        if exhausted, self.exhausted == nil {
            self.exhausted =
                "budget: an item's run stopped at its share of the \(DollarText.text(cap)) batch budget "
                + "(spent \(DollarText.text(spent)))"
        }
    }
}
