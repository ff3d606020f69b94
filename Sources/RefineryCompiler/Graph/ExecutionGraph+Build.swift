// Building the execution graph from a checked workflow: participants, node ids and the
// data-flow dependency rules. Pure and synchronous.

extension ExecutionGraph {
    /// Builds the graph of `workflow`: one node per model call, dependencies from data flow.
    ///
    /// ## Sections
    /// Stages before the `repeat` block form the prelude, the block is the round template,
    /// stages after it form the epilogue. Stage indexes count the flattened chain (the
    /// `repeat` wrapper itself takes no index), so `[propose, repeat: [evaluate, close]]` has
    /// `s0.propose`, `s1.evaluate`, `s2.close`.
    ///
    /// ## Nodes
    /// | stage | nodes | id |
    /// |---|---|---|
    /// | propose | one per participant | `s0.propose[claude]` |
    /// | evaluate, pairwise | one per ordered pair reviewer ≠ target | `s1.evaluate[claude>gem#1]` |
    /// | evaluate, batched | one per reviewer | `s1.evaluate[claude]` |
    /// | refine | one per participant | `s2.refine[claude]` |
    /// | synthesize | one per participant (the arbiter, or each member) | `s3.synthesize[arbiter]` |
    /// | verify | plan, `k` answers, revise, per participant | `s4.verify.plan[arbiter]`, `s4.verify.answer[arbiter#1]` |
    /// | vote | one decision node | `s5.vote` |
    /// | close | one decision node | `s6.close` |
    ///
    /// Verify answers are numbered from 1 in ids (`#1`...`#k`); the revision is `s4.verify.revise[arbiter]`.
    ///
    /// Participants come from the stage's `by`: every member, the arbiter (participant
    /// `arbiter`), or named members, where a name selects the member with that id or every
    /// instance of the entry with that name (`gem` → `gem#1`, `gem#2`, ...). Names that select
    /// nothing are ignored (the compiler reports them). Evaluation targets are the members that
    /// take part in some `propose` stage of the workflow.
    ///
    /// ## Dependencies
    /// Dependencies point only to nodes of the same section: anything produced by an earlier
    /// round or section exists before the section starts. Within a section:
    /// - `evaluate[r>t]` depends on `t`'s latest answer node (propose, refine or verify revise
    ///   of `t`) and on `r`'s own, when `r` answered earlier in the section, never on a stage
    ///   barrier; a batched `evaluate[r]` on each target's and on `r`'s own. A reviewer's own
    ///   answer is not shown to it, but its outcome decides whether the reviewer still takes
    ///   part: a member whose answer failed for good is dropped before any of its reviews
    ///   starts, so which calls a run makes never depends on which reply came first.
    /// - `refine[m]` (reviews protocol) depends on every evaluation of `m` in the section and
    ///   on `m`'s latest answer; with `critique-revise`, on `m`'s latest answer only. By the
    ///   arbiter, refine revises the latest draft.
    /// - `propose[m]` after another answer stage in the section: with `own-history` it depends
    ///   on `m`'s latest answer and the evaluations of `m`; with `peers` on every member's latest
    ///   answer; with `synthesis` on the latest synthesis (or every answer when there is none);
    ///   with `none` on `m`'s latest answer only (for the same reason as a review).
    /// - `synthesize` depends on every member's latest answer.
    /// - `verify.plan` depends on the latest draft producer (the latest synthesis or arbiter
    ///   revision; for a member, its own latest answer); each `verify.answer` on the plan only
    ///   (fresh context, no draft); `verify.revise` on the plan and every answer.
    /// - `vote` depends on every voter's latest answer.
    /// - `close` depends on every other node of the section (calls and votes).
    ///
    /// The latest draft is the output of the most recent synthesize, arbiter refine or arbiter
    /// verify node, else the first participant's latest answer.
    public init(workflow: Workflow) {
        var builder = GraphBuilder(workflow: workflow)
        var prelude: [GraphStage] = []
        var round: [GraphStage]?
        var epilogue: [GraphStage] = []
        var index = 0
        for stage in workflow.stages {
            if case .repeat(let inner) = stage {
                builder.startSection()
                var built: [GraphStage] = []
                // The compiler allows one repeat block, at top level; a nested one is inlined.
                for innerStage in inner.flatMap(\.inlined) {
                    built.append(builder.build(innerStage, index: index))
                    index += 1
                }
                round = builder.finishSection(built)
                builder.startSection()
            } else {
                let built = builder.build(stage, index: index)
                index += 1
                if round == nil { prelude.append(built) } else { epilogue.append(built) }
            }
        }
        self.init(
            prelude: GraphSection(stages: builder.finishSection(prelude)),
            round: round.map { GraphSection(stages: $0) },
            epilogue: GraphSection(stages: builder.finishSection(epilogue))
        )
    }
}

/// Walks a section's stages and keeps the data-flow state needed to wire dependencies.
private struct GraphBuilder {
    let workflow: Workflow
    /// Members that answer (take part in some propose stage), in member order.
    let answerers: [String]
    /// Member id → its latest answer node in the current section.
    var latestAnswer: [String: String] = [:]
    /// Member id → evaluation nodes that reviewed it in the current section.
    var reviewsOf: [String: [String]] = [:]
    /// Whether the current section has had an evaluate stage (whether or not it made any review).
    var evaluatedInSection = false
    /// The latest synthesis nodes in the current section.
    var latestSynthesis: [String] = []
    /// The latest synthesize, arbiter refine or arbiter verify node in the current section.
    var latestArbiterDraft: String?

    init(workflow: Workflow) {
        self.workflow = workflow
        var proposers: Set<String> = []
        func collect(_ stages: [Stage]) {
            for stage in stages {
                switch stage {
                case .propose(let options):
                    proposers.formUnion(Self.participants(options.common.by, in: workflow))
                case .repeat(let inner):
                    collect(inner)
                case .evaluate, .refine, .synthesize, .verify, .vote, .close:
                    break
                }
            }
        }
        collect(workflow.stages)
        let ordered = workflow.members.map(\.id).filter { proposers.contains($0) }
        answerers = ordered.isEmpty ? workflow.members.map(\.id) : ordered
    }

    /// Resolves `by` to participant ids: member ids in member order, `arbiter` last.
    static func participants(_ by: Participants, in workflow: Workflow) -> [String] {
        switch by {
        case .members:
            return workflow.members.map(\.id)
        case .arbiter:
            return [ExecutionGraph.arbiterParticipant]
        case .named(let names):
            let wanted = Set(names)
            var ids = workflow.members.map(\.id).filter { id in
                wanted.contains(id) || wanted.contains(ExecutionGraph.entryName(ofMember: id))
            }
            if wanted.contains(ExecutionGraph.arbiterParticipant), !ids.contains(ExecutionGraph.arbiterParticipant) {
                ids.append(ExecutionGraph.arbiterParticipant)
            }
            return ids
        }
    }

    mutating func startSection() {
        latestAnswer = [:]
        reviewsOf = [:]
        evaluatedInSection = false
        latestSynthesis = []
        latestArbiterDraft = nil
    }

    /// Wires each close node to every other node of the section.
    func finishSection(_ stages: [GraphStage]) -> [GraphStage] {
        let others = stages.flatMap(\.nodes).filter { node in
            if case .close = node.kind { false } else { true }
        }.map(\.id)
        return stages.map { stage in
            var stage = stage
            stage.nodes = stage.nodes.map { node in
                guard case .close = node.kind else { return node }
                var node = node
                node.dependencies = others
                return node
            }
            return stage
        }
    }

    mutating func build(_ stage: Stage, index: Int) -> GraphStage {
        let prefix = "s\(index)"
        let nodes: [GraphNode]
        switch stage {
        case .propose(let options):
            nodes = propose(options, prefix: prefix)
        case .evaluate(let options):
            nodes = evaluate(options, prefix: prefix)
        case .refine(let options):
            nodes = refine(options, prefix: prefix)
        case .synthesize(let options):
            nodes = synthesize(options, prefix: prefix)
        case .verify(let options):
            nodes = verify(options, prefix: prefix)
        case .vote(let options):
            let voters = Self.participants(options.common.by, in: workflow).filter {
                $0 != ExecutionGraph.arbiterParticipant
            }
            nodes = [
                GraphNode(
                    id: "\(prefix).vote", kind: .vote(voters: voters), participant: "",
                    dependencies: voters.compactMap { latestAnswer[$0] })
            ]
        case .close:
            nodes = [GraphNode(id: "\(prefix).close", kind: .close, participant: "", dependencies: [])]
        case .repeat:
            // Unreachable: `init(workflow:)` inlines nested repeat blocks.
            nodes = []
        }
        return GraphStage(index: index, stage: stage, nodes: nodes)
    }

    private var allLatestAnswers: [String] { answerers.compactMap { latestAnswer[$0] } }

    private mutating func propose(_ options: ProposeStage, prefix: String) -> [GraphNode] {
        let ids = Self.participants(options.common.by, in: workflow)
        let nodes = ids.map { member -> GraphNode in
            let deps: [String]
            switch options.context {
            case .none:
                deps = latestAnswer[member].map { [$0] } ?? []
            case .ownHistory:
                deps = (latestAnswer[member].map { [$0] } ?? []) + (reviewsOf[member] ?? [])
            case .peers:
                deps = allLatestAnswers
            case .synthesis:
                deps = latestSynthesis.isEmpty ? allLatestAnswers : latestSynthesis
            }
            return GraphNode(
                id: "\(prefix).propose[\(member)]", kind: .propose(member: member), participant: member,
                dependencies: deps)
        }
        recordAnswers(nodes)
        return nodes
    }

    private mutating func evaluate(_ options: EvaluateStage, prefix: String) -> [GraphNode] {
        evaluatedInSection = true
        let reviewers = Self.participants(options.common.by, in: workflow)
        var nodes: [GraphNode] = []
        switch options.mode {
        case .pairwise:
            for reviewer in reviewers {
                for target in answerers where target != reviewer {
                    nodes.append(
                        GraphNode(
                            id: "\(prefix).evaluate[\(reviewer)>\(target)]",
                            kind: .evaluate(reviewer: reviewer, target: target), participant: reviewer,
                            dependencies: [latestAnswer[target], latestAnswer[reviewer]].compactMap { $0 }))
                }
            }
            for node in nodes {
                if case .evaluate(_, let target) = node.kind { reviewsOf[target, default: []].append(node.id) }
            }
        case .batched:
            for reviewer in reviewers {
                let targets = answerers.filter { $0 != reviewer }
                guard !targets.isEmpty else { continue }
                let node = GraphNode(
                    id: "\(prefix).evaluate[\(reviewer)]", kind: .evaluateBatch(reviewer: reviewer, targets: targets),
                    participant: reviewer, dependencies: (targets + [reviewer]).compactMap { latestAnswer[$0] })
                nodes.append(node)
                for target in targets { reviewsOf[target, default: []].append(node.id) }
            }
        }
        return nodes
    }

    private mutating func refine(_ options: RefineStage, prefix: String) -> [GraphNode] {
        let ids = Self.participants(options.common.by, in: workflow)
        var nodes: [GraphNode] = []
        for participant in ids {
            let id = "\(prefix).refine[\(participant)]"
            if participant == ExecutionGraph.arbiterParticipant {
                nodes.append(
                    GraphNode(
                        id: id, kind: .refine(member: participant), participant: participant,
                        dependencies: currentDraft.map { [$0] } ?? []))
                latestArbiterDraft = id
                continue
            }
            // A member the section's evaluation could not review (a lone member: nobody to review it) has
            // nothing to revise from: no call asks it to revise an answer from "(No reviews were received.)".
            if options.refineProtocol == .reviews, evaluatedInSection, reviewsOf[participant] == nil { continue }
            var deps = latestAnswer[participant].map { [$0] } ?? []
            if options.refineProtocol == .reviews { deps += reviewsOf[participant] ?? [] }
            nodes.append(
                GraphNode(id: id, kind: .refine(member: participant), participant: participant, dependencies: deps))
        }
        recordAnswers(nodes.filter { $0.participant != ExecutionGraph.arbiterParticipant })
        return nodes
    }

    private mutating func synthesize(_ options: SynthesizeStage, prefix: String) -> [GraphNode] {
        let ids = Self.participants(options.common.by, in: workflow)
        let deps = allLatestAnswers
        let nodes = ids.map {
            GraphNode(id: "\(prefix).synthesize[\($0)]", kind: .synthesize(by: $0), participant: $0, dependencies: deps)
        }
        if !nodes.isEmpty {
            latestSynthesis = nodes.map(\.id)
            latestArbiterDraft = nodes.first?.id
        }
        return nodes
    }

    private mutating func verify(_ options: VerifyStage, prefix: String) -> [GraphNode] {
        let ids = Self.participants(options.common.by, in: workflow)
        var nodes: [GraphNode] = []
        var memberRevisions: [GraphNode] = []
        for participant in ids {
            let isArbiter = participant == ExecutionGraph.arbiterParticipant
            let draft = isArbiter ? currentDraft : latestAnswer[participant]
            let plan = GraphNode(
                id: "\(prefix).verify.plan[\(participant)]", kind: .verifyPlan(by: participant),
                participant: participant, dependencies: draft.map { [$0] } ?? [])
            let answers = (0..<max(options.questions, 0)).map { question in
                GraphNode(
                    id: "\(prefix).verify.answer[\(participant)#\(question + 1)]",
                    kind: .verifyAnswer(by: participant, question: question), participant: participant,
                    dependencies: [plan.id])
            }
            let revise = GraphNode(
                id: "\(prefix).verify.revise[\(participant)]", kind: .verifyRevise(by: participant),
                participant: participant, dependencies: [plan.id] + answers.map(\.id))
            nodes += [plan] + answers + [revise]
            if isArbiter { latestArbiterDraft = revise.id } else { memberRevisions.append(revise) }
        }
        recordAnswers(memberRevisions)
        return nodes
    }

    /// The draft a verify or refine by the arbiter works on.
    private var currentDraft: String? {
        latestArbiterDraft ?? answerers.lazy.compactMap { latestAnswer[$0] }.first
    }

    private mutating func recordAnswers(_ nodes: [GraphNode]) {
        for node in nodes {
            if let member = node.kind.answerOf { latestAnswer[member] = node.id }
        }
    }
}
