// `convergence:` → ``Convergence``: the strategy, its threshold range, and the options that
// belong to it (an option of another strategy is an error rather than silently ignored).

import RefinerySyntax

/// Strategy names as written in workflow files.
enum StrategyName: String, CaseIterable {
    case voteThreshold = "vote-threshold"
    case confidence
    case semantic
    case unanimous
    case agreement
    case none

    /// Threshold range and default; `nil` when the strategy takes no threshold.
    var threshold: (range: ClosedRange<Double>, default: Double)? {
        switch self {
        case .voteThreshold, .unanimous: (1...10, 8.0)
        case .confidence: (0...1, 0.8)
        case .agreement: (0...1, 0.6)
        case .semantic: (0...1, 0.92)
        case .none: nil
        }
    }

    /// Options besides `strategy` and `threshold` that this strategy takes.
    var options: Set<String> {
        switch self {
        case .voteThreshold: ["stability"]
        case .semantic:
            ["char_high", "char_low", "jaccard_high", "embedding", "mode", "cache", "breaker", "regression_guard"]
        case .confidence, .unanimous, .agreement, .none: []
        }
    }
}

/// `convergence.mode` words (mirrors ``SemanticOptions/Mode``).
enum SemanticModeName: String, CaseIterable {
    case permissive, strict
}

/// The convergence rule read, with where its strategy was written (for cross-section checks).
struct ConvergenceRead {
    var convergence: Convergence
    var strategyNode: (node: YAMLNode, origin: Origin)?
    var stabilityNode: (node: YAMLNode, origin: Origin)?
}

extension WorkflowBuilder {
    static let convergenceKeys = [
        "strategy", "threshold", "stability", "char_high", "char_low", "jaccard_high", "embedding", "mode", "cache",
        "breaker", "regression_guard",
    ]

    func readConvergence(_ field: Field) -> ConvergenceRead {
        var read = ConvergenceRead(convergence: Convergence())
        guard let fields = sectionFields(field, allowed: Self.convergenceKeys, context: "`convergence`") else {
            return read
        }
        var strategy = StrategyName.voteThreshold
        if let entry = fields.first(where: { $0.name == "strategy" }) {
            let reader = NodeReader(origin: entry.origin, sink: sink)
            guard let name = reader.choice(entry.value, "convergence strategy", as: StrategyName.self) else {
                return read
            }
            strategy = name
            read.strategyNode = (entry.value, entry.origin)
        }
        var threshold = strategy.threshold?.default ?? 0
        var stability = 2
        var semantic = SemanticOptions()
        for entry in fields where entry.name != "strategy" {
            let reader = NodeReader(origin: entry.origin, sink: sink)
            if entry.name == "threshold" {
                threshold = readThreshold(entry, strategy: strategy, reader: reader) ?? threshold
                continue
            }
            guard strategy.options.contains(entry.name) else {
                let owner = StrategyName.allCases.first { $0.options.contains(entry.name) }
                reader.error(
                    FrontCode.strategyOption,
                    "`\(entry.name)` does not apply to the `\(strategy.rawValue)` strategy", at: entry.key,
                    hint: owner.map {
                        "`\(entry.name)` belongs to `strategy: \($0.rawValue)`; remove it or switch strategy"
                    }
                        ?? "remove it")
                continue
            }
            if entry.name == "stability" {
                stability = reader.int(entry.value, "`convergence.stability`", min: 1, max: 100) ?? stability
                read.stabilityNode = (entry.value, entry.origin)
            } else {
                readSemanticOption(entry, into: &semantic, reader: reader)
            }
        }
        if strategy == .semantic, semantic.charLow >= semantic.charHigh,
            let low = fields.first(where: { $0.name == "char_low" }) ?? fields.first(where: { $0.name == "char_high" })
        {
            NodeReader(origin: low.origin, sink: sink).error(
                FrontCode.cascadeOrder,
                "`char_low` (\(semantic.charLow)) must be below `char_high` (\(semantic.charHigh))", at: low.value,
                hint: "the cascade diverges below `char_low` and converges above `char_high`; keep `char_low` smaller")
        }
        switch strategy {
        case .voteThreshold: read.convergence.strategy = .voteThreshold(threshold: threshold, stability: stability)
        case .confidence: read.convergence.strategy = .confidence(threshold: threshold)
        case .semantic:
            semantic.threshold = threshold
            read.convergence.strategy = .semantic(semantic)
        case .unanimous: read.convergence.strategy = .unanimous(threshold: threshold)
        case .agreement: read.convergence.strategy = .agreement(threshold: threshold)
        case .none: read.convergence.strategy = .none
        }
        return read
    }

    private func readThreshold(_ entry: Field, strategy: StrategyName, reader: NodeReader) -> Double? {
        guard let (range, _) = strategy.threshold else {
            reader.error(
                FrontCode.strategyOption, "the `none` strategy takes no `threshold`", at: entry.key,
                hint: "remove `threshold`, or choose a strategy that uses one")
            return nil
        }
        guard let value = entry.value.double, !value.isNaN else {
            reader.typeError(entry.value, expected: "a number", in: "`convergence.threshold`")
            return nil
        }
        guard range.contains(value) else {
            let what =
                strategy == .voteThreshold || strategy == .unanimous
                ? "a mean score" : strategy == .agreement ? "a vote share" : "a similarity/confidence"
            reader.error(
                FrontCode.thresholdRange,
                "the `\(strategy.rawValue)` threshold must be between \(Self.format(range.lowerBound)) and "
                    + "\(Self.format(range.upperBound)), found \(Self.format(value))",
                at: entry.value,
                hint: "the threshold of `\(strategy.rawValue)` is \(what); e.g. "
                    + "`threshold: \(Self.format(strategy.threshold?.default ?? 0))`")
            return nil
        }
        return value
    }

    private static func format(_ value: Double) -> String {
        guard value.isFinite else { return NodeReader.describe(value) }
        return value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
    }

    private func readSemanticOption(_ entry: Field, into options: inout SemanticOptions, reader: NodeReader) {
        let value = entry.value
        switch entry.name {
        case "char_high": options.charHigh = reader.double(value, "`char_high`", min: 0, max: 1) ?? options.charHigh
        case "char_low": options.charLow = reader.double(value, "`char_low`", min: 0, max: 1) ?? options.charLow
        case "jaccard_high":
            options.jaccardHigh = reader.double(value, "`jaccard_high`", min: 0, max: 1) ?? options.jaccardHigh
        case "mode":
            let mode = reader.choice(value, "semantic mode", as: SemanticModeName.self)
            options.mode = mode.flatMap { SemanticOptions.Mode(rawValue: $0.rawValue) } ?? options.mode
        case "regression_guard":
            options.regressionGuard = reader.bool(value, "`regression_guard`") ?? options.regressionGuard
        case "embedding":
            guard let fields = reader.fields(value, allowed: ["model"], context: "`embedding`") else { return }
            guard let model = fields.first(where: { $0.name == "model" }) else {
                reader.error(
                    FrontCode.missingKey, "`embedding` needs `model:`", at: value,
                    hint: "e.g. `embedding: { model: openai/text-embedding-3-small }`")
                return
            }
            if let text = reader.string(model.value, "`embedding.model`") {
                options.embeddingModel = resolveModel(text, model.value, reader)?.target
            }
        case "cache":
            guard let fields = reader.fields(value, allowed: ["size", "ttl"], context: "`cache`") else { return }
            for sub in fields {
                if sub.name == "size" {
                    options.cacheSize = reader.int(sub.value, "`cache.size`", min: 1) ?? options.cacheSize
                } else {
                    options.cacheTTLSeconds = reader.duration(sub.value, "`cache.ttl`") ?? options.cacheTTLSeconds
                }
            }
        case "breaker":
            guard let fields = reader.fields(value, allowed: ["failures", "cooldown"], context: "`breaker`") else {
                return
            }
            for sub in fields {
                if sub.name == "failures" {
                    options.breakerFailures =
                        reader.int(sub.value, "`breaker.failures`", min: 1) ?? options.breakerFailures
                } else {
                    options.breakerCooldownSeconds =
                        reader.duration(sub.value, "`breaker.cooldown`") ?? options.breakerCooldownSeconds
                }
            }
        default:
            break
        }
    }

    /// Cross-section checks between the strategy and the stages.
    func checkConvergence(
        _ convergence: Convergence, read: ConvergenceRead?, summary: StageSummary, rootReader: NodeReader,
        start: YAMLNode
    ) {
        switch convergence.strategy {
        case .confidence:
            guard !summary.closeSees(.synthesize, anywhere: summary.hasSynthesize), !summary.isEmpty else { return }
            let (node, origin) = read?.strategyNode ?? (start, rootReader.origin)
            NodeReader(origin: origin, sink: sink).error(
                FrontCode.confidenceWithoutSynthesis,
                summary.hasSynthesize
                    ? "the `confidence` strategy needs a `synthesize` stage in the `repeat` block: `close` reads "
                        + "its own round's synthesis, so one after the block could never stop the loop"
                    : "the `confidence` strategy needs a `synthesize` stage (confidence comes from the synthesis)",
                at: node, hint: "add a `synthesize` stage before `close`, or choose another strategy")
        case .voteThreshold, .unanimous:
            guard !summary.closeSees(.evaluate, anywhere: summary.hasEvaluate), let close = summary.firstClose else {
                return
            }
            NodeReader(origin: close.origin, sink: sink).warning(
                FrontCode.scoresWithoutEvaluate,
                "`close` applies `\(convergence.strategy.name)`, which needs scores, but no `evaluate` stage "
                    + (summary.hasEvaluate ? "in the `repeat` block " : "") + "produces them",
                at: close.node, hint: "add an `evaluate` stage to the repeat block, or set `convergence.strategy`")
        case .agreement:
            guard !summary.closeSees(.vote, anywhere: summary.hasVote), !summary.isEmpty else { return }
            let (node, origin) = read?.strategyNode ?? (start, rootReader.origin)
            NodeReader(origin: origin, sink: sink).error(
                FrontCode.agreementWithoutVote,
                summary.hasVote
                    ? "the `agreement` strategy needs a `vote` stage in the `repeat` block: `close` reads its own "
                        + "round's vote, so one after the block could never stop the loop"
                    : "the `agreement` strategy needs a `vote` stage (agreement is the winning answer's vote share)",
                at: node, hint: "add `vote` before `close` in the repeat block, or choose another strategy")
        case .semantic, .none:
            break
        }
    }

    /// `vote-threshold` needs the same leader for `stability` rounds: more than `iterations.max` rounds can
    /// never be had, so the loop always runs to the maximum (exit 2). Not when `--max-rounds` set the maximum:
    /// a short run asked for on the command line is meant.
    func checkStabilityReachable(
        _ convergence: Convergence, read: ConvergenceRead?, iterations: Iterations, maxField: Field?,
        summary: StageSummary
    ) {
        guard case .voteThreshold(_, let stability) = convergence.strategy, stability > iterations.max,
            maxField?.origin.commandLine != true, summary.inRepeat?.contains(.evaluate) == true,
            summary.firstClose != nil,
            let located = read?.stabilityNode ?? maxField.map({ (node: $0.value, origin: $0.origin) })
        else { return }
        NodeReader(origin: located.origin, sink: sink).warning(
            FrontCode.stabilityBeyondMax,
            "`convergence.stability` (\(stability)) is more rounds than `iterations.max` (\(iterations.max)) allows: "
                + "the same leader can never hold for \(stability) rounds, so the run always ends `max_rounds` (exit 2)",
            at: located.node,
            hint: "lower `stability` to at most \(iterations.max), or raise `iterations.max` to \(stability)")
    }
}
