// `iterations:` and `limits:`: bounds on rounds, time, concurrency, retries, money and quorum.

import RefinerySyntax

extension WorkflowBuilder {
    static let iterationKeys = ["min", "max"]
    static let limitKeys = ["timeout", "max_concurrent", "per_provider", "retries", "budget", "quorum"]

    /// The bounds, and the field that set `max` (the file's or `--max-rounds`), for checks that point at it.
    func readIterations(_ field: Field) -> (iterations: Iterations, maxField: Field?) {
        var iterations = Iterations()
        guard let fields = sectionFields(field, allowed: Self.iterationKeys, context: "`iterations`") else {
            return (iterations, nil)
        }
        let minField = fields.first { $0.name == "min" }
        let maxField = fields.first { $0.name == "max" }
        if let minField {
            iterations.min =
                NodeReader(origin: minField.origin, sink: sink)
                .int(minField.value, "`iterations.min`", min: 1, max: 1000) ?? iterations.min
        }
        if let maxField {
            iterations.max =
                NodeReader(origin: maxField.origin, sink: sink)
                .int(maxField.value, "`iterations.max`", min: 1, max: 1000) ?? iterations.max
        } else {
            iterations.max = Swift.max(iterations.max, iterations.min)
        }
        if iterations.min > iterations.max, let maxField, let minField, maxField.origin.commandLine,
            !minField.origin.commandLine
        {
            // The workflow's minimum is part of its design (debate's rebuttal round): a flag below it
            // is refused, not silently obeyed or overridden.
            NodeReader(origin: maxField.origin, sink: sink).error(
                FrontCode.minAboveMax,
                "`\(setting(.maxRounds, iterations.max))` is below this workflow's `iterations.min` (\(iterations.min))",
                at: maxField.value,
                hint:
                    "raise `\(flag(.maxRounds))` to at least \(iterations.min), or also pass "
                    + "`\(setting(.minRounds, iterations.max))` to lower the minimum",
                notes: [Diagnostic.Note(message: "`min` is set here", location: minField.value.location)])
        } else if iterations.min > iterations.max, let maxField {
            let at = minField ?? maxField
            NodeReader(origin: at.origin, sink: sink).error(
                FrontCode.minAboveMax,
                "`iterations.min` (\(iterations.min)) is greater than `iterations.max` (\(iterations.max))",
                at: at.value, hint: "lower `min` or raise `max`",
                notes: minField == nil
                    ? []
                    : [
                        Diagnostic.Note(
                            message: maxField.origin.commandLine
                                ? "`max` is set by \(maxField.origin.displayName)" : "`max` is set here",
                            location: maxField.origin.commandLine ? nil : maxField.value.location)
                    ])
        }
        return (iterations, maxField)
    }

    func readLimits(_ field: Field, into limits: inout Limits, memberCount: Int, clampQuorum: Bool = false) {
        guard let fields = sectionFields(field, allowed: Self.limitKeys, context: "`limits`") else { return }
        for entry in fields {
            let reader = NodeReader(origin: entry.origin, sink: sink)
            let value = entry.value
            switch entry.name {
            case "timeout":
                limits.timeoutSeconds = reader.duration(value, "`limits.timeout`") ?? limits.timeoutSeconds
            case "max_concurrent":
                limits.maxConcurrent = reader.int(value, "`limits.max_concurrent`", min: 1) ?? limits.maxConcurrent
            case "per_provider":
                limits.perProvider = readPerProvider(value, reader)
            case "retries":
                limits.retries = reader.int(value, "`limits.retries`", min: 0, max: 100) ?? limits.retries
            case "budget":
                if value.isNull {
                    limits.budgetUSD = nil
                } else if let budget = reader.double(value, "`limits.budget` (US dollars)", min: 0) {
                    limits.budgetUSD = budget
                }
            case "quorum":
                guard let quorum = reader.int(value, "`limits.quorum`", min: 1) else { break }
                limits.quorum = quorum
                if clampQuorum, memberCount > 0 {
                    limits.quorum = Swift.min(quorum, memberCount)
                } else if memberCount > 0, quorum > memberCount {
                    reader.error(
                        FrontCode.quorumTooLarge,
                        "`limits.quorum` is \(quorum) but the workflow has only \(Counted.text(memberCount, "member"))",
                        at: value, hint: "lower the quorum to at most \(memberCount), or add members")
                }
            default:
                break
            }
        }
    }

    private func readPerProvider(_ node: YAMLNode, _ reader: NodeReader) -> [String: Int] {
        if node.isNull { return [:] }
        guard let pairs = node.mapping else {
            reader.typeError(
                node, expected: "a mapping of provider to call count", in: "`limits.per_provider`",
                hint: "write e.g. `per_provider: { openai: 4, anthropic: 2 }`")
            return [:]
        }
        var result: [String: Int] = [:]
        for pair in pairs {
            guard let provider = reader.string(pair.key, "a provider name") else { continue }
            guard compiler.catalog.providers.contains(provider) else {
                let known = compiler.catalog.providers.sorted()
                reader.error(
                    FrontCode.invalidValue, "`\(provider)` is not a known provider", at: pair.key,
                    hint: Suggestions.didYouMean(provider, in: known)
                        ?? "providers are: " + known.map { "`\($0)`" }.joined(separator: ", "))
                continue
            }
            if let count = reader.int(pair.value, "`per_provider.\(provider)`", min: 1) {
                result[provider] = count
            }
        }
        return result
    }
}
