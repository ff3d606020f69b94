// A batch ready to run: its ledger record, its recorded flags and its jobs in input order, each
// with the compiled workflow that runs it.

import Foundation
import RefineryCompiler
import RefineryStore

/// Everything a batch session needs before its first call.
struct BatchPlan: Sendable {
    var record: BatchRecord
    var spec: BatchSpec
    var jobs: [BatchJob]
    var debug: Bool
    /// Whether `spec.maxBudgetUSD` is the budget this session may spend (`resume --max-budget`), not the
    /// batch's recorded budget for all its sessions, of which the items finished earlier spent part.
    var budgetIsThisSessions = false

    /// The distinct workflows the jobs run (for the credential check).
    var workflows: [Workflow] {
        var seen: Set<String> = []
        var workflows: [Workflow] = []
        for job in jobs
        where seen.insert(job.system + "\u{1F}" + job.variables.keys.sorted().joined(separator: ","))
            .inserted
        {
            workflows.append(job.workflow.workflow)
        }
        return workflows
    }
}
