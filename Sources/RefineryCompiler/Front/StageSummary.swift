// What the stage chain contains, gathered while reading it, for the checks that relate stages
// to the rest of the workflow (output, convergence).

import RefinerySyntax

/// Facts about a stage chain used by cross-section checks.
struct StageSummary {
    var hasSynthesize = false
    var hasEvaluate = false
    var hasVote = false
    var isEmpty = true
    /// The first `close` stage, with the file it is in.
    var firstClose: (node: YAMLNode, origin: Origin)?
}

/// What stage reading needs to know about the rest of the workflow.
struct StageContext {
    /// Member ids (`gem#1`).
    var memberIDs: Set<String>
    /// Entry names (`gem`), each selecting all of its instances.
    var entryNames: [String]
    var hasArbiter: Bool
    /// Whether `close` can end the loop early (false for the `none` strategy).
    var closeMatters: Bool

    /// Entry names, then member ids; a one-instance entry's id is its name, listed once.
    var participantNames: [String] {
        var seen = Set<String>()
        return (entryNames + memberIDs.sorted()).filter { seen.insert($0).inserted }
    }
}
