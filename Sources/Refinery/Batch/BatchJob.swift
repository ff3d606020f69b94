// One job of a batch: an input item run by one workflow (for a bench, by one system). The jobs are
// the runner's input; their order is the input's.

import RefineryCompiler

/// An input item to run, with the workflow that runs it.
package struct BatchJob: Sendable {
    /// The item's position in the input (0-based).
    package var position: Int
    /// The item's id (its `id` field, else its line number).
    package var itemID: String
    /// The system (bench) that runs it; empty for a batch.
    package var system: String
    /// The prompt.
    package var prompt: String
    /// Template variables: the command line's `--var`s and the item's other fields.
    package var variables: [String: String]
    /// The compiled workflow that runs it (shared by every job with the same variable names).
    package var workflow: LoadedWorkflow
    /// The dataset item and the bench's grader (bench): the run is graded as it finishes.
    package var grading: (item: DatasetItem, grader: Grader)?

    package init(
        position: Int, itemID: String, system: String = "", prompt: String, variables: [String: String] = [:],
        workflow: LoadedWorkflow, grading: (item: DatasetItem, grader: Grader)? = nil
    ) {
        self.position = position
        self.itemID = itemID
        self.system = system
        self.prompt = prompt
        self.variables = variables
        self.workflow = workflow
        self.grading = grading
    }

    /// What its run is estimated to cost: what `--dry-run` sums, and what the batch budget grants it.
    func estimate(catalog: ModelCatalog) -> WorkflowEstimate {
        WorkflowEstimate.estimate(
            workflow: workflow.workflow, graph: workflow.graph, catalog: catalog,
            promptTokens: EstimateAssumptions.tokens(for: prompt))
    }

    /// The key of its ledger row.
    package var key: String { system + "\u{1F}" + itemID }
}
