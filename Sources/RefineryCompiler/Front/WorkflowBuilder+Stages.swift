// `stages:` → the stage chain: bare names or one-key mappings with options, one `repeat`
// block holding the `close` stages, participants checked against the members.

import RefinerySyntax

/// Stage keywords as written in workflow files.
enum StageName: String, CaseIterable {
    case propose, evaluate, refine, synthesize, verify, vote, close
    case `repeat`

    var specificKeys: [String] {
        switch self {
        case .propose: ["context"]
        case .evaluate: ["mode", "anonymize", "rubric"]
        case .refine: ["protocol", "min_bytes"]
        case .verify: ["questions"]
        case .vote: ["extract", "tie", "over"]
        case .synthesize, .close, .repeat: []
        }
    }

    /// Whether the stage works on the members' current answers, so that it needs a `propose` before it.
    var consumesAnswers: Bool {
        switch self {
        case .evaluate, .refine, .synthesize, .verify, .vote: true
        case .propose, .close, .repeat: false
        }
    }
}

extension WorkflowBuilder {
    static let commonStageKeys = ["by", "prompt", "params", "timeout"]

    func readStages(_ field: Field, context: StageContext, summary: inout StageSummary) -> [Stage] {
        let reader = NodeReader(origin: field.origin, sink: sink)
        guard let items = field.value.sequence else {
            reader.typeError(
                field.value, expected: "a list of stages", in: "`stages`",
                hint: "write e.g. `stages: [propose, {repeat: [evaluate, refine, close]}]`")
            return []
        }
        guard !items.isEmpty else {
            reader.error(FrontCode.emptyStages, "`stages` is empty", at: field.value, hint: "list at least one stage")
            return []
        }
        guard items.count <= Self.maxStages else {
            tooManyStages(items.count, field.value, reader: reader)
            return []
        }
        var firstRepeat: YAMLNode?
        let stages = items.compactMap { item in
            readStage(
                item, reader: reader, context: context, inRepeat: false, firstRepeat: &firstRepeat, summary: &summary)
        }
        if !summary.hasUnreadStage {
            for unfed in summary.unfed {
                NodeReader(origin: unfed.origin, sink: sink).error(
                    FrontCode.nothingToWorkOn,
                    "`\(unfed.stage)` works on the members' answers, but no `propose` stage comes before it",
                    at: unfed.node,
                    hint: "put `propose` before it (e.g. `stages: [propose, \(unfed.stage)]`): without answers it "
                        + "makes no call and the run ends with no answer")
            }
        }
        return stages
    }

    /// Most stages in `stages:` or in a `repeat:` block: a chain longer than this is a mistake,
    /// and the execution graph grows with stages × members².
    static let maxStages = 64

    private func tooManyStages(_ count: Int, _ node: YAMLNode, reader: NodeReader) {
        reader.error(
            FrontCode.outOfRange, "\(count) stages in one list; at most \(Self.maxStages) are allowed", at: node,
            hint: "put the stages that repeat into one `repeat:` block and raise `iterations.max` instead")
    }

    private func readStage(
        _ node: YAMLNode, reader: NodeReader, context: StageContext, inRepeat: Bool, firstRepeat: inout YAMLNode?,
        summary: inout StageSummary
    ) -> Stage? {
        let keyNode: YAMLNode
        let options: YAMLNode?
        if node.scalar != nil {
            keyNode = node
            options = nil
        } else if let pairs = node.mapping, pairs.count == 1 {
            keyNode = pairs[0].key
            options = pairs[0].value.isNull ? nil : pairs[0].value
        } else if let pairs = node.mapping, pairs.count > 1, pairs[0].value.isNull,
            let first = pairs[0].key.scalar?.value, StageName(rawValue: first) != nil
        {
            // `- evaluate:` followed by options at the same indentation: the options became siblings.
            reader.error(
                FrontCode.malformedStage, "the options of `\(first)` are not indented under it", at: pairs[1].key,
                hint: "indent `\(pairs[1].key.scalar?.value ?? "")` two more spaces than `\(first)`, "
                    + "or write `- \(first): { ... }`")
            summary.hasUnreadStage = true
            return nil
        } else {
            reader.error(
                FrontCode.malformedStage,
                node.mapping == nil
                    ? "a stage must be a name or a one-key mapping, found a \(node.kindName)"
                    : "a stage mapping must have exactly one key (the stage name), found \(node.mapping?.count ?? 0)",
                at: node, hint: "write `- refine` or `- evaluate: { mode: batched }`; check the indentation of options")
            summary.hasUnreadStage = true
            return nil
        }
        guard let word = keyNode.scalar?.value, !keyNode.isNull else {
            reader.typeError(keyNode, expected: "a stage name", in: "a stage")
            summary.hasUnreadStage = true
            return nil
        }
        guard let name = StageName(rawValue: word) else {
            let names = StageName.allCases.map(\.rawValue)
            reader.error(
                FrontCode.unknownStage, "unknown stage `\(word)`", at: keyNode,
                hint: Suggestions.didYouMean(word, in: names)
                    ?? "stages are: " + names.map { "`\($0)`" }.joined(separator: ", "))
            summary.hasUnreadStage = true
            return nil
        }
        summary.isEmpty = false
        if inRepeat { summary.inRepeat?.insert(name) }
        if name == .repeat {
            return readRepeat(
                keyNode, options, reader: reader, context: context, inRepeat: inRepeat, firstRepeat: &firstRepeat,
                summary: &summary)
        }
        var fields: [Field] = []
        if let options {
            fields =
                reader.fields(
                    options, allowed: Self.commonStageKeys + name.specificKeys, context: "the `\(word)` stage",
                    hint: "give options as a mapping: `- \(word): { by: members }`") ?? []
        }
        func value(_ key: String) -> YAMLNode? { fields.first { $0.name == key }?.value }
        let defaultBy: Participants = name == .synthesize || name == .verify ? .arbiter : .members
        var common = StageCommon(by: defaultBy)
        if let by = value("by") {
            common.by = readParticipants(by, reader: reader, context: context) ?? defaultBy
        } else if defaultBy == .arbiter, !context.hasArbiter {
            reader.error(
                FrontCode.missingArbiter, "the `\(word)` stage is performed by the arbiter, but there is no `arbiter:`",
                at: keyNode, hint: "add `arbiter: MODEL`, or give the stage `by: members`")
        }
        common.prompt = value("prompt").flatMap { readPrompt($0, reader: reader, stage: name.rawValue) }
        common.params =
            value("params").map { reader.params($0, "`params`", sentTo: context.models(of: common.by)) }
            ?? ModelParams()
        common.timeoutSeconds = value("timeout").flatMap { reader.duration($0, "`timeout`") }

        if name.consumesAnswers, !summary.hasPropose, !(inRepeat && summary.repeatProposes) {
            summary.unfed.append((word, keyNode, reader.origin))
        }
        switch name {
        case .propose:
            summary.hasPropose = true
            let contextValue = value("context").flatMap {
                reader.choice($0, "propose context", as: ProposeStage.Context.self)
            }
            return .propose(ProposeStage(common: common, context: contextValue ?? .ownHistory))
        case .evaluate:
            summary.hasEvaluate = true
            // One member given with `--models` is the single-model run the README documents (asked once,
            // `single_model`), not a slip in a file.
            if common.by == .members, context.memberIDs.count == 1, compiler.overrides.models == nil {
                reader.warning(
                    FrontCode.evaluateWithoutPeers,
                    "`evaluate` needs at least two members: a member never scores itself",
                    at: keyNode, hint: "add members (e.g. `claude:2`), or use `refine` with `protocol: critique-revise`"
                )
            }
            return .evaluate(
                EvaluateStage(
                    common: common,
                    mode: value("mode").flatMap { reader.choice($0, "evaluate mode", as: EvaluateStage.Mode.self) }
                        ?? .pairwise,
                    anonymize: value("anonymize").flatMap { reader.bool($0, "`anonymize`") } ?? true,
                    rubric: value("rubric").flatMap { reader.string($0, "`rubric`") }))
        case .refine:
            return .refine(
                RefineStage(
                    common: common,
                    refineProtocol: value("protocol").flatMap {
                        reader.choice($0, "refine protocol", as: RefineStage.RefineProtocol.self)
                    } ?? .reviews,
                    minBytes: value("min_bytes").flatMap { reader.int($0, "`min_bytes`", min: 0) } ?? 0))
        case .synthesize:
            summary.hasSynthesize = true
            return .synthesize(SynthesizeStage(common: common))
        case .verify:
            return .verify(
                VerifyStage(
                    common: common,
                    questions: value("questions").flatMap { reader.int($0, "`questions`", min: 1, max: 20) } ?? 3))
        case .vote:
            summary.hasVote = true
            return .vote(
                VoteStage(
                    common: common,
                    extract: value("extract").flatMap { readExtraction($0, reader: reader) } ?? .lastLine,
                    tie: value("tie").flatMap { reader.choice($0, "vote tie rule", as: VoteStage.TieRule.self) }
                        ?? .first,
                    over: value("over").flatMap { reader.choice($0, "vote pool", as: VoteStage.Pool.self) }
                        ?? .current))
        case .close:
            if summary.firstClose == nil { summary.firstClose = (keyNode, reader.origin) }
            if !inRepeat {
                reader.error(
                    FrontCode.closeOutsideRepeat, "`close` is only meaningful inside a `repeat` block", at: keyNode,
                    hint: "move `close` into `repeat:` (it ends the loop when convergence holds)")
            }
            if !fields.isEmpty {
                reader.warning(
                    FrontCode.closeOptionsIgnored, "`close` makes no calls, so its options are ignored", at: keyNode,
                    hint: "remove the options; configure the rule under `convergence:`")
            }
            return .close(CloseStage(common: common))
        case .repeat:
            return nil
        }
    }

    private func readRepeat(
        _ keyNode: YAMLNode, _ body: YAMLNode?, reader: NodeReader, context: StageContext, inRepeat: Bool,
        firstRepeat: inout YAMLNode?, summary: inout StageSummary
    ) -> Stage? {
        if inRepeat {
            reader.error(
                FrontCode.nestedRepeat, "a `repeat` block cannot contain another `repeat`", at: keyNode,
                hint: "list these stages directly in the outer `repeat`")
        } else if let first = firstRepeat {
            reader.error(
                FrontCode.multipleRepeats, "a workflow has at most one `repeat` block", at: keyNode,
                hint: "merge the stages into the first `repeat` block",
                notes: [Diagnostic.Note(message: "the first `repeat` block is here", location: first.location)])
        } else {
            firstRepeat = keyNode
        }
        guard let items = body?.sequence, !items.isEmpty else {
            if let body, body.sequence == nil {
                reader.typeError(body, expected: "a list of stages", in: "`repeat`")
            } else {
                reader.error(
                    FrontCode.emptyStages, "the `repeat` block has no stages", at: keyNode,
                    hint: "write e.g. `- repeat: [evaluate, refine, close]`")
            }
            return nil
        }
        guard items.count <= Self.maxStages else {
            tooManyStages(items.count, body ?? keyNode, reader: reader)
            return nil
        }
        if summary.inRepeat == nil { summary.inRepeat = [] }
        summary.repeatProposes = items.contains {
            ($0.scalar?.value ?? $0.mapping?.first?.key.scalar?.value) == "propose"
        }
        defer { summary.repeatProposes = false }
        var nestedFirst = firstRepeat
        let stages = items.compactMap { item in
            readStage(
                item, reader: reader, context: context, inRepeat: true, firstRepeat: &nestedFirst, summary: &summary)
        }
        if context.closeMatters, !stages.contains(where: { if case .close = $0 { true } else { false } }),
            !items.contains(where: { ($0.scalar?.value ?? $0.mapping?.first?.key.scalar?.value) == "close" })
        {
            reader.warning(
                FrontCode.repeatWithoutClose,
                "the `repeat` block has no `close` stage, so it always runs `iterations.max` rounds",
                at: keyNode, hint: "add `close` at the end of the block to stop when convergence holds")
        }
        return .repeat(stages)
    }

    private func readParticipants(_ node: YAMLNode, reader: NodeReader, context: StageContext) -> Participants? {
        if let items = node.sequence {
            // An empty list names nobody: it is not `members` (schemas/workflow.schema.json asks for one entry).
            if items.isEmpty {
                reader.error(
                    FrontCode.unknownParticipant, "`by:` lists nobody", at: node,
                    hint: "name at least one member, or write `by: members`")
                return nil
            }
            let names = items.compactMap { item -> String? in
                guard let name = reader.string(item, "each entry of `by`") else { return nil }
                return checkParticipant(name, item, reader: reader, context: context) ? name : nil
            }
            return names.count == items.count && !names.isEmpty ? .named(names) : nil
        }
        guard let name = reader.string(node, "`by`") else { return nil }
        switch name {
        case "members": return .members
        case "arbiter":
            if !context.hasArbiter {
                reader.error(
                    FrontCode.missingArbiter, "`by: arbiter`, but the workflow has no `arbiter:`", at: node,
                    hint: "add `arbiter: MODEL`, or use `by: members`")
            }
            return .arbiter
        default:
            return checkParticipant(name, node, reader: reader, context: context) ? .named([name]) : nil
        }
    }

    private func checkParticipant(_ name: String, _ node: YAMLNode, reader: NodeReader, context: StageContext) -> Bool {
        if context.memberIDs.contains(name) || context.entryNames.contains(name) { return true }
        let candidates = ["members", "arbiter"] + context.participantNames
        reader.error(
            FrontCode.unknownParticipant, "`by:` names `\(name)`, which is not a member", at: node,
            hint: Suggestions.didYouMean(name, in: candidates)
                ?? "use `members`, `arbiter`, or one of: "
                + context.participantNames.map { "`\($0)`" }
                .joined(separator: ", "))
        return false
    }
}
