// THROWAWAY: a minimal ExecutionGraph builder so the engine runs before the "graph" developer's
// `ExecutionGraph.init(workflow:)` lands on main. Deleted on merge.

import RefineryCompiler

enum GraphShim {
    static func build(_ workflow: Workflow) -> ExecutionGraph {
        var index = 0
        func section(_ stages: [Stage]) -> GraphSection {
            var built: [GraphStage] = []
            for stage in stages {
                built.append(GraphStage(index: index, stage: stage, nodes: nodes(stage, index: index, before: built)))
                index += 1
            }
            return GraphSection(stages: built)
        }
        var prelude: [Stage] = []
        var round: [Stage]?
        var epilogue: [Stage] = []
        for stage in workflow.stages {
            if case .repeat(let inner) = stage {
                round = inner
            } else if round == nil {
                prelude.append(stage)
            } else {
                epilogue.append(stage)
            }
        }
        let builtPrelude = section(prelude)
        let builtRound = round.map { section($0) }
        return ExecutionGraph(prelude: builtPrelude, round: builtRound, epilogue: section(epilogue))

        func participants(_ by: Participants) -> [String] {
            switch by {
            case .members: return workflow.members.map(\.id)
            case .arbiter: return ["arbiter"]
            case .named(let names):
                return workflow.members.map(\.id).filter { id in
                    names.contains { id == $0 || id.hasPrefix($0 + "#") }
                } + (names.contains("arbiter") ? ["arbiter"] : [])
            }
        }

        func producers(of participant: String, in before: [GraphStage]) -> [String] {
            for stage in before.reversed() {
                let found = stage.nodes.filter { node in
                    switch node.kind {
                    case .propose(let m), .refine(let m): return m == participant
                    case .synthesize(let by), .verifyRevise(let by): return by == participant
                    default: return false
                    }
                }
                if !found.isEmpty { return found.map(\.id) }
            }
            return []
        }

        func nodes(_ stage: Stage, index: Int, before: [GraphStage]) -> [GraphNode] {
            let prefix = "s\(index).\(stage.keyword)"
            let by = participants(stage.common?.by ?? .members)
            let members = workflow.members.map(\.id)
            switch stage {
            case .propose:
                let deps = before.last?.nodes.map(\.id) ?? []
                return by.map { GraphNode(id: "\(prefix)[\($0)]", kind: .propose(member: $0), participant: $0, dependencies: deps) }
            case .evaluate(let options):
                if options.mode == .batched {
                    return by.map { reviewer in
                        let targets = members.filter { $0 != reviewer }
                        return GraphNode(
                            id: "\(prefix)[\(reviewer)]", kind: .evaluateBatch(reviewer: reviewer, targets: targets),
                            participant: reviewer, dependencies: targets.flatMap { producers(of: $0, in: before) })
                    }
                }
                return by.flatMap { reviewer in
                    members.filter { $0 != reviewer }.map { target in
                        GraphNode(
                            id: "\(prefix)[\(reviewer)>\(target)]", kind: .evaluate(reviewer: reviewer, target: target),
                            participant: reviewer, dependencies: producers(of: target, in: before))
                    }
                }
            case .refine:
                let lastEvaluate = before.last { if case .evaluate = $0.stage { true } else { false } }
                return by.map { member in
                    let reviews = (lastEvaluate?.nodes ?? []).filter { node in
                        switch node.kind {
                        case .evaluate(_, let target): return target == member
                        case .evaluateBatch(_, let targets): return targets.contains(member)
                        default: return false
                        }
                    }.map(\.id)
                    let own = member == "arbiter" ? (before.last?.nodes.map(\.id) ?? []) : producers(of: member, in: before)
                    return GraphNode(
                        id: "\(prefix)[\(member)]", kind: .refine(member: member), participant: member,
                        dependencies: own + reviews)
                }
            case .synthesize:
                let deps = members.flatMap { producers(of: $0, in: before) }
                return by.map { GraphNode(id: "\(prefix)[\($0)]", kind: .synthesize(by: $0), participant: $0, dependencies: deps) }
            case .verify(let options):
                let deps = before.last?.nodes.map(\.id) ?? []
                return by.flatMap { verifier -> [GraphNode] in
                    let plan = GraphNode(
                        id: "\(prefix)[\(verifier)].plan", kind: .verifyPlan(by: verifier), participant: verifier,
                        dependencies: deps)
                    let answers = (0..<options.questions).map { question in
                        GraphNode(
                            id: "\(prefix)[\(verifier)].answer\(question)",
                            kind: .verifyAnswer(by: verifier, question: question), participant: verifier,
                            dependencies: [plan.id])
                    }
                    let revise = GraphNode(
                        id: "\(prefix)[\(verifier)].revise", kind: .verifyRevise(by: verifier), participant: verifier,
                        dependencies: [plan.id] + answers.map(\.id))
                    return [plan] + answers + [revise]
                }
            case .close:
                return [GraphNode(id: prefix, kind: .close, participant: "arbiter", dependencies: before.flatMap { $0.nodes.map(\.id) })]
            case .repeat:
                return []
            }
        }
    }
}
