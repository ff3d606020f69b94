// The HTML report of one recorded run (`refinery report RUN_ID`): everything the ledger keeps about
// it — the outcome document, every call, the round decisions and the anonymization map — turned
// into the values of ReportTemplate. Pure: an export in, a page out. Batch and bench reports, when
// those records exist, get their own page type beside this one and share the template's frame.

import Foundation
import RefineryCompiler
import RefineryRuntime
import RefineryStore
import RefinerySyntax

enum RunReportPage {
    /// The page of `export` as self-contained HTML.
    static func html(_ export: RunExport) -> String {
        ReportTemplate.render(context(export))
    }

    static func context(_ export: RunExport) -> [String: Any] {
        let run = export.run
        // A resumed run's ledger holds each call finished before the interruption twice: as made, and as
        // served back from the ledger (`replayed`, paid for once). Counted, timed and priced once, as made,
        // as `runs list|show` and the run's own totals count them.
        let made = export.calls.filter { $0.status != .replayed }
        let outcome = run.outcomeJSON.flatMap { try? JSONDecoder().decode(RunReport.self, from: Data($0.utf8)) }
        let models = run.resolvedModels
        let members = run.workflow.members.map(\.id)
        let graph = ExecutionGraph(workflow: run.workflow)
        // The rounds the repeat block ran: the outcome's count, or, for a run that never finished, the last
        // round a call of the block was made in. The step after them is the epilogue.
        let blockNodes = Set(graph.round?.nodes.map(\.id) ?? [])
        let roundsRun =
            outcome?.metadata.totalRounds ?? export.calls.filter { blockNodes.contains($0.node) }.map(\.round).max()
            ?? 0
        // A step's name, as the run's reasons and ledger errors give it: `round 2`, `after round 3`, or none in
        // a workflow without a repeat block.
        let place = { (round: Int) in
            graph.place(round: round, in: graph.sectionKind(ofRound: round, roundsRun: roundsRun))
        }
        func name(_ id: String) -> String { models[id].map { $0 == id ? id : "\(id) (\($0))" } ?? id }
        // Who a call or an answer came from: the model that served it, a fallback named as one.
        func served(_ id: String, by model: String) -> String {
            let primary = models[id].flatMap { $0 == model ? nil : $0 }
            return primary == nil && id == model
                ? id : RunReport.producer(memberID: id, modelID: model, fallbackFrom: primary)
        }

        var context: [String: Any] = [
            "title": "\(run.workflowName) · \(run.id)",
            "runID": run.id,
            "workflow": run.workflowName,
            "status": run.status,
            "prompt": run.prompt,
            "cost": DollarText.text(run.costUSD),
            "tokens": "\(run.inputTokens) in / \(run.outputTokens) out",
            // Calls as the run's JSON counts them (``CallStatus/isCall``): a retried attempt is not one.
            "calls": made.filter(\.status.isCall).count,
            "started": ISO8601DateFormatter().string(from: run.startedAt),
            "elapsed": run.finishedAt.map { String(format: "%.2f s", $0.timeIntervalSince(run.startedAt)) }
                ?? run.status,
            "members": members.map(name).joined(separator: ", "),
        ]
        if let arbiter = models["arbiter"] { context["arbiter"] = arbiter }
        let provenance = run.provenance
        if let commit = provenance.gitCommit {
            context["revision"] =
                commit + (provenance.gitRevision.map { " (\($0))" } ?? "")
                + (provenance.gitDirty == true ? " + uncommitted changes" : "")
        }
        if run.status == RunService.interruptedStatus {
            context["stoppedBy"] =
                "no process runs it any more (killed or crashed); `refinery resume \(run.id)` finishes it"
        }
        if let outcome {
            // The run's own time, as its JSON's `elapsed_ms` says it (the ledger's timestamps add the recording).
            context["elapsed"] = String(format: "%.2f s", Double(outcome.metadata.elapsedMs) / 1000)
            context["stoppedBy"] = outcome.stoppedBy
            context["error"] = outcome.error
            context["coverage"] =
                "\(Counted.text(outcome.coverage.membersAnswered, "member")) answered, "
                + "\(Counted.text(outcome.coverage.reviewsReceived, "review")) in the last round"
                + (outcome.coverage.arbiterFallbackUsed ? ", arbiter fallback used" : "")
            context["degradations"] = outcome.coverage.reasons
            if let winner = outcome.winner {
                context["winner"] = [
                    // The model that produced it (a fallback when the primary failed), not the one configured.
                    "member": winner.producer, "answer": winner.answer, "degraded": winner.degraded,
                ]
            }
            if let vote = outcome.vote {
                context["vote"] = [
                    "place": place(vote.round).map { "\($0), " } ?? "", "extract": vote.extract,
                    "winner": vote.winner ?? "none",
                    "share": String(format: "%.0f%%", vote.share * 100),
                    "distribution": vote.distribution.map {
                        ["answer": $0.answer, "votes": $0.votes, "members": $0.members.joined(separator: ", ")]
                    },
                    "abstentions": vote.abstentions.joined(separator: ", "),
                ]
            }
        }
        context["timeline"] = timeline(made, members: members, start: run.startedAt, served: served)
        context["rounds"] = rounds(
            export, members: members, answering: answeringNodes(of: graph), place: place, name: name, served: served)
        if let means = meanChart(export, workflow: run.workflow, members: members) { context["means"] = means }
        context["arbiterNotes"] = arbiterNotes(export.calls, place: place)
        context["perMember"] = perMember(made, served: served)
        return context
    }

    // MARK: timeline

    private static func timeline(
        _ calls: [CallRecord], members: [String], start: Date, served: (String, String) -> String
    ) -> String {
        let origin = calls.map(\.startedAt).min().map { min($0, start) } ?? start
        var lanes = members
        for call in calls where !lanes.contains(call.participant) { lanes.append(call.participant) }
        var bars = calls.map { call in
            ReportCharts.Bar(
                lane: call.participant, caller: served(call.participant, call.request.model.description),
                node: call.node, start: call.startedAt.timeIntervalSince(origin),
                end: max(call.finishedAt.timeIntervalSince(origin), call.startedAt.timeIntervalSince(origin)),
                status: call.status.rawValue, attempts: call.attempts, critical: false)
        }
        // The ledger keeps times, not the graph's edges: the critical path is read back from the last call
        // to end, each step the latest call that ended before the current one started.
        var current = bars.indices.max { bars[$0].end < bars[$1].end }
        while let index = current {
            bars[index].critical = true
            let begin = bars[index].start
            current = bars.indices.filter { !bars[$0].critical && bars[$0].end <= begin + 0.0005 }
                .max { bars[$0].end < bars[$1].end }
        }
        return ReportCharts.timeline(lanes: lanes, bars: bars)
    }

    // MARK: rounds

    /// reviewer → reviewed → score of each round: the scores the engine used, read with its own parser from
    /// each review node's last call. The engine reads a review from one reply: the first, or, when that one
    /// missed or garbled a label (or was unreadable), the one re-ask that replaces it, recorded after it as
    /// another call of the same node; a re-asked reply's scores are discarded, and a node whose last call
    /// failed gave no score. Batched reviews name labels, decoded through the run's anonymization map.
    static func reviews(_ export: RunExport) -> [Int: [String: [String: Double]]] {
        var last: [String: CallRecord] = [:]  // "round node" → the node's last call, in ledger order
        var order: [String] = []
        for call in export.calls where call.node.contains(".evaluate[") && call.node.hasSuffix("]") {
            let key = "\(call.round) \(call.node)"
            if last.updateValue(call, forKey: key) == nil { order.append(key) }
        }
        var scores: [Int: [String: [String: Double]]] = [:]
        for key in order {
            guard let call = last[key], call.status == .succeeded || call.status == .replayed,
                let reply = call.reply?.text, let open = call.node.range(of: ".evaluate[")
            else { continue }
            let inside = call.node[open.upperBound..<call.node.index(before: call.node.endIndex)]
            let reviewer = call.participant
            if let arrow = inside.firstIndex(of: ">") {
                let target = String(inside[inside.index(after: arrow)...])
                if case .success(let evaluation) = ReplyParser.evaluation(from: reply) {
                    scores[call.round, default: [:]][reviewer, default: [:]][target] = evaluation.score
                }
            } else {
                let map = export.run.anonymization["r\(call.round):\(reviewer)"] ?? [:]
                let labels = map.keys.sorted()
                if case .success(let batch) = ReplyParser.batchedEvaluations(from: reply, labels: labels) {
                    for (label, evaluation) in batch.evaluations {
                        guard let target = map[label] else { continue }
                        scores[call.round, default: [:]][reviewer, default: [:]][target] = evaluation.score
                    }
                }
            }
        }
        return scores
    }

    /// One section per step with a call, a review or a decision, headed with the step's name, every member's
    /// answer of the step in it: each answering node's reply, in the order they were given (the ledger is
    /// the source for every workflow: a step that answers twice, such as verify's propose then revise, shows
    /// both), with a word diff against the member's answer before.
    private static func rounds(
        _ export: RunExport, members: [String], answering: Set<String>, place: (Int) -> String?,
        name: (String) -> String, served: (String, String) -> String
    ) -> [[String: Any]] {
        let scores = reviews(export)
        let decisions = Dictionary(export.rounds.map { ($0.round, $0.decisionJSON) }, uniquingKeysWith: { $1 })
        let numbers = Set(scores.keys).union(decisions.keys).union(export.calls.map(\.round)).sorted()
        var previous: [String: String] = [:]
        return numbers.map { round in
            let heading = place(round) ?? ExecutionGraph.singlePass
            var entry: [String: Any] = ["heading": heading.prefix(1).uppercased() + heading.dropFirst()]
            if let matrix = scores[round] {
                var names: [String: String] = [:]
                for member in members { names[member] = name(member) }
                entry["heatmap"] = ReportCharts.heatmap(members: members, names: names, scores: matrix)
                entry["reviews"] = matrix.values.reduce(0) { $0 + $1.count }
            }
            if let json = decisions[round],
                let decision = try? JSONDecoder().decode(RoundDecision.self, from: Data(json.utf8))
            {
                entry["decision"] =
                    (decision.converged ? "converged" : decision.shouldStop ? "stop" : "continue") + " — "
                    + decision.signal + (decision.leader.map { ", leader \($0)" } ?? "")
                    + (decision.rolledBackTo.map { ", rolled back to \($0)" } ?? "")
            }
            let means = meanScores(scores[round] ?? [:])
            let answers = roundAnswers(export.calls, round: round, answering: answering)
            // A member that answered more than once in the step: each answer names its stage.
            let repeated = Set(Dictionary(grouping: answers, by: \.member).filter { $0.value.count > 1 }.keys)
            if !answers.isEmpty {
                entry["answers"] = answers.map { answer -> [String: Any] in
                    var item: [String: Any] = [
                        "member": served(answer.member, answer.model), "answer": answer.text,
                        "score": means[answer.member].map(ReportCharts.format) ?? "–",
                    ]
                    if repeated.contains(answer.member) { item["stage"] = answer.stage }
                    if let before = previous[answer.member] {
                        if before == answer.text {
                            item["unchanged"] = true
                        } else if let diff = WordDiff.html(old: before, new: answer.text) {
                            item["diff"] = diff
                        }
                    }
                    previous[answer.member] = answer.text
                    return item
                }
            }
            return entry
        }
    }

    /// Mean score each member received in a round's matrix.
    static func meanScores(_ matrix: [String: [String: Double]]) -> [String: Double] {
        var received: [String: [Double]] = [:]
        for row in matrix.values {
            for (target, score) in row { received[target, default: []].append(score) }
        }
        return received.mapValues { $0.reduce(0, +) / Double($0.count) }
    }

    /// The ids of the run's nodes that produce a member's answer, by the graph's one definition
    /// (``NodeKind/answerOf``): propose, refine and verify-revise today, and whatever kind answers next.
    private static func answeringNodes(of graph: ExecutionGraph) -> Set<String> {
        Set(graph.allNodes.filter { $0.kind.answerOf != nil }.map(\.id))
    }

    /// Every answer given in `round`: the reply of each answering node's (a node in `answering`) last call,
    /// when it succeeded (the one the engine used: a re-ask or a critique-then-revise replaces the call before
    /// it), in the order the nodes answered, with the model that served it.
    private static func roundAnswers(
        _ calls: [CallRecord], round: Int, answering: Set<String>
    ) -> [(member: String, text: String, model: String, stage: String)] {
        var order: [String] = []
        var last: [String: CallRecord] = [:]
        for call in calls where call.round == round && answering.contains(call.node) && call.status != .cancelled {
            if last.updateValue(call, forKey: call.node) == nil { order.append(call.node) }
        }
        return order.compactMap { node in
            guard let call = last[node], call.status == .succeeded || call.status == .replayed,
                let text = call.reply?.text
            else { return nil }
            // `s1.verify.revise[member]` → `s1.verify.revise`
            let stage = node.firstIndex(of: "[").map { String(node[..<$0]) } ?? node
            return (call.participant, text, call.request.model.description, stage)
        }
    }

    private static func meanChart(_ export: RunExport, workflow: Workflow, members: [String]) -> String? {
        let rounds = reviews(export).sorted { $0.key < $1.key }.map { (round: $0.key, scores: meanScores($0.value)) }
        guard !rounds.isEmpty else { return nil }
        let threshold: Double? =
            switch workflow.convergence.strategy {
            case .voteThreshold(let threshold, _), .unanimous(let threshold): threshold
            default: nil
            }
        let series = members.map { member in
            (
                member: member,
                scores: Dictionary(
                    rounds.compactMap { round in round.scores[member].map { (round.round, $0) } },
                    uniquingKeysWith: { $1 })
            )
        }
        return ReportCharts.meanScores(rounds: rounds.map(\.round), series: series, threshold: threshold)
    }

    // MARK: arbiter and cost

    /// Synthesis, dissent, refinement areas and verification questions of the calls that produced them.
    private static func arbiterNotes(_ calls: [CallRecord], place: (Int) -> String?) -> [[String: Any]] {
        calls.compactMap { call -> [String: Any]? in
            let when = place(call.round).map { ", \($0)" } ?? ""
            guard call.status == .succeeded || call.status == .replayed, let reply = call.reply?.text else {
                return nil
            }
            if call.node.contains(".synthesize["), case .success(let synthesis) = ReplyParser.synthesis(from: reply) {
                return [
                    "heading": "Synthesis by \(call.participant)\(when)",
                    "synthesis": synthesis.synthesis, "confidence": String(format: "%.2f", synthesis.confidence),
                    "dissent": synthesis.dissent.isEmpty ? nil : synthesis.dissent as Any,
                    "refinement": synthesis.refinementAreas,
                ].compactMapValues { $0 }
            }
            if call.node.contains(".verify.plan["),
                case .success(let questions) = ReplyParser.verificationQuestions(from: reply, max: 50)
            {
                return [
                    "heading": "Verification questions by \(call.participant)\(when)",
                    "questions": questions,
                ]
            }
            return nil
        }
    }

    /// One row per participant and model that served it: a fallback's calls are its own row, named as one.
    /// Calls and failed calls as the run's JSON counts them (``CallStatus/isCall``); the cost and tokens of
    /// every attempt, a billed retried one included, as the run's cost counts them.
    private static func perMember(_ calls: [CallRecord], served: (String, String) -> String) -> [[String: Any]] {
        var order: [String] = []
        var totals: [String: (calls: Int, failed: Int, cost: Double, input: Int, output: Int)] = [:]
        for call in calls {
            let caller = served(call.participant, call.request.model.description)
            if totals[caller] == nil { order.append(caller) }
            var total = totals[caller] ?? (0, 0, 0, 0, 0)
            if call.status.isCall { total.calls += 1 }
            if call.status == .failed { total.failed += 1 }
            total.cost += call.costUSD
            total.input += call.reply?.usage.inputTokens ?? 0
            total.output += call.reply?.usage.outputTokens ?? 0
            totals[caller] = total
        }
        return order.compactMap { caller in
            totals[caller].map {
                [
                    "member": caller, "calls": $0.calls, "failed": $0.failed,
                    "cost": DollarText.text($0.cost), "input": $0.input, "output": $0.output,
                ]
            }
        }
    }
}
