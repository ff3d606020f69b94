// What the stage chain contains, gathered while reading it, for the checks that relate stages
// to the rest of the workflow (output, convergence).

import RefinerySyntax

/// Facts about a stage chain used by cross-section checks.
struct StageSummary {
    var hasSynthesize = false
    var hasEvaluate = false
    var hasVote = false
    /// The stages read inside the `repeat` block, whose signals `close` reads at the end of each round (`nil`
    /// without a `repeat` block): a `synthesize` after the block comes too late for `confidence`.
    var inRepeat: Set<StageName>?
    var isEmpty = true
    /// Whether a `propose` stage has been read so far (stages are read in chain order).
    var hasPropose = false
    /// Whether the `repeat` block being read has a `propose` anywhere: from round 2 its stages see the answers of
    /// the round before, wherever the `propose` stands in the block.
    var repeatProposes = false
    /// Stages that work on answers read before any `propose` could feed them, reported once the whole chain is
    /// read (not when a stage could not be read: a misspelt `propse` is the problem then).
    var unfed: [(stage: String, node: YAMLNode, origin: Origin)] = []
    /// Whether a stage of the chain could not be read (unknown or malformed).
    var hasUnreadStage = false
    /// The first `close` stage, with the file it is in.
    var firstClose: (node: YAMLNode, origin: Origin)?

    /// Whether the chain produces what `close` needs from a stage of this kind: inside the `repeat` block when
    /// there is one (close reads its own round's signals), anywhere otherwise.
    func closeSees(_ stage: StageName, anywhere: Bool) -> Bool {
        inRepeat.map { $0.contains(stage) } ?? anywhere
    }
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
    /// Each member's models (primary, then fallbacks), by member id.
    var memberModels: [String: [ModelRef]] = [:]
    /// The arbiter's models (primary, then fallbacks).
    var arbiterModels: [ModelRef] = []

    /// The models a stage performed `by` these participants sends its parameters to.
    func models(of participants: Participants) -> [ModelRef] {
        switch participants {
        case .arbiter: return arbiterModels
        case .members: return memberModels.keys.sorted().flatMap { memberModels[$0] ?? [] }
        case .named(let names):
            return memberModels.keys.sorted().filter { id in
                names.contains { id == $0 || id.hasPrefix($0 + "#") }
            }.flatMap { memberModels[$0] ?? [] }
        }
    }

    /// Entry names, then member ids; a one-instance entry's id is its name, listed once.
    var participantNames: [String] {
        var seen = Set<String>()
        return (entryNames + memberIDs.sorted()).filter { seen.insert($0).inserted }
    }
}
