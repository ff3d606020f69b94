// Read-only conveniences over a built graph: sections by kind, node lookup, call counts.

extension ExecutionGraph {
    /// The participant id of nodes performed by the arbiter.
    public static let arbiterParticipant = "arbiter"

    /// The entry name of a member id: `gem#2` → `gem`; an id without an instance suffix is its own entry name.
    public static func entryName(ofMember id: String) -> String {
        guard let hash = id.lastIndex(of: "#") else { return id }
        let suffix = id[id.index(after: hash)...]
        guard !suffix.isEmpty, suffix.allSatisfy(\.isASCIIDigit) else { return id }
        return String(id[..<hash])
    }

    /// Which part of the graph a section is.
    public enum SectionKind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Stages before the repeat block, run once.
        case prelude
        /// The repeat block, run once per round.
        case round
        /// Stages after the repeat block, run once.
        case epilogue
    }

    /// The non-`nil` sections in execution order, with their kind.
    public var sections: [(kind: SectionKind, section: GraphSection)] {
        var result: [(kind: SectionKind, section: GraphSection)] = [(.prelude, prelude)]
        if let round { result.append((.round, round)) }
        result.append((.epilogue, epilogue))
        return result
    }

    /// Every node of every section (the round template once), in execution order.
    public var allNodes: [GraphNode] { sections.flatMap(\.section.nodes) }

    /// The node with `id`, searching every section.
    public func node(id: String) -> GraphNode? {
        allNodes.first { $0.id == id }
    }

    /// How a workflow without a repeat block names its one pass (`runs show`, `estimate`, the report).
    public static let singlePass = "single pass"

    /// Where step `round` of a `kind` section falls, as users count rounds (from 1): `round 2`; `before round 1`
    /// and `after round 3` for the stages around the repeat block; `nil` for a workflow without one, whose
    /// single pass has no rounds (its step is numbered 0 inside, never shown). The one name of a step in the
    /// run's reasons (JSON and text), its ledger errors and its report.
    public func place(round: Int, in kind: SectionKind) -> String? {
        guard self.round != nil else { return nil }
        switch kind {
        case .prelude: return "before round 1"
        case .round: return "round \(round)"
        case .epilogue: return "after round \(round - 1)"
        }
    }

    /// The section of the node `id` (a node id names its section), or `nil` for an id not in the graph.
    public func sectionKind(ofNode id: String) -> SectionKind? {
        sections.first { $0.section.nodes.contains { $0.id == id } }?.kind
    }

    /// ``place(round:in:)`` of a call to node `node` in step `round`.
    public func place(round: Int, node: String) -> String? {
        place(round: round, in: sectionKind(ofNode: node) ?? .round)
    }

    /// Which section step `round` ran in a run whose repeat block ran `roundsRun` rounds: the prelude is
    /// step 0, the rounds 1...`roundsRun`, the epilogue the step after the last round.
    public func sectionKind(ofRound round: Int, roundsRun: Int) -> SectionKind {
        guard self.round != nil else { return .prelude }
        return round == 0 ? .prelude : round <= roundsRun ? .round : .epilogue
    }

    /// Model calls of the whole run when the repeat block runs `rounds` times.
    public func callCount(rounds: Int) -> Int {
        prelude.callCount + (round?.callCount ?? 0) * Swift.max(rounds, 0) + epilogue.callCount
    }
}

extension GraphSection {
    /// Model calls made by one pass over the section (`close` nodes excluded).
    public var callCount: Int { layout.callCount }

    /// Member id → the section's last node producing that member's answer (propose, refine or
    /// verify revise by the member): what the next section reads as the member's current answer.
    public var latestAnswers: [String: String] {
        var latest: [String: String] = [:]
        for node in nodes where node.participant != ExecutionGraph.arbiterParticipant {
            if let member = node.kind.answerOf { latest[member] = node.id }
        }
        return latest
    }

    /// The section's last synthesis nodes (one for the arbiter, one per member with `by: members`).
    public var latestSyntheses: [String] {
        stages.last { stage in stage.nodes.contains { if case .synthesize = $0.kind { true } else { false } } }?
            .nodes.map(\.id) ?? []
    }
}

extension GraphStage {
    /// Model calls the stage makes per pass (`close` makes none).
    public var callCount: Int { nodes.count { $0.isCall } }
}

extension Stage {
    /// The stage with nested `repeat` blocks replaced by their contents.
    var inlined: [Stage] {
        if case .repeat(let inner) = self { return inner.flatMap(\.inlined) }
        return [self]
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
