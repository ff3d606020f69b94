// Command-line flags that change a compiled workflow (DESIGN §3 "file config merged with CLI
// flags, the CLI wins"): applied to the checked IR, so the run records exactly what ran.

import Foundation
public import RefineryCompiler

/// Flags of `refinery run` that override the workflow file.
public struct WorkflowOverrides: Sendable, Hashable {
    /// `--models a,b:2,c`: replaces the members.
    public var models: [String]?
    /// `--arbiter M`.
    public var arbiter: String?
    /// `--threshold X`: the convergence strategy's threshold.
    public var threshold: Double?
    /// `--min-rounds N`.
    public var minRounds: Int?
    /// `--max-rounds N`.
    public var maxRounds: Int?
    /// `--timeout S`: per-call timeout in seconds.
    public var timeoutSeconds: Double?
    /// `--max-concurrent N`.
    public var maxConcurrent: Int?
    /// `--budget USD`.
    public var budgetUSD: Double?

    /// Creates overrides; `nil` leaves the file's value.
    public init(
        models: [String]? = nil, arbiter: String? = nil, threshold: Double? = nil, minRounds: Int? = nil,
        maxRounds: Int? = nil, timeoutSeconds: Double? = nil, maxConcurrent: Int? = nil, budgetUSD: Double? = nil
    ) {
        self.models = models
        self.arbiter = arbiter
        self.threshold = threshold
        self.minRounds = minRounds
        self.maxRounds = maxRounds
        self.timeoutSeconds = timeoutSeconds
        self.maxConcurrent = maxConcurrent
        self.budgetUSD = budgetUSD
    }

    /// Whether no flag was given.
    public var isEmpty: Bool { self == WorkflowOverrides() }

    /// The largest `--min-rounds`/`--max-rounds`, as for `iterations` in a workflow file.
    static let maxRounds = 1000
    /// The longest `--timeout` (7 days), as for durations in a workflow file.
    static let maxTimeoutSeconds = 7 * 24 * 3600.0

    /// `workflow` with the flags applied. Throws ``InputError`` for an unknown model or a bad value.
    public func apply(to workflow: Workflow, catalog: ModelCatalog) throws -> Workflow {
        var workflow = workflow
        if let models {
            workflow.members = try Self.members(models, catalog: catalog)
            let quorum =
                workflow.members.count == 1
                ? 1 : Swift.max(1, Swift.min(workflow.limits.quorum, workflow.members.count))
            workflow.limits.quorum = quorum
        }
        if let arbiter {
            let alias = try Self.resolve(arbiter, flag: "--arbiter", catalog: catalog)
            var updated = workflow.arbiter ?? Arbiter(model: alias.target)
            updated.model = alias.target
            updated.params = alias.params.merged(with: updated.params)
            workflow.arbiter = updated
        }
        if let threshold {
            workflow.convergence.strategy = try Self.replacingThreshold(workflow.convergence.strategy, with: threshold)
        }
        if models?.count == 1, workflow.members.count == 1, minRounds == nil, maxRounds == nil {
            // One model has no peers to score it: ask once (seed 000: "0 = converged or single model").
            switch workflow.convergence.strategy {
            case .voteThreshold, .unanimous: workflow.iterations = Iterations(min: 1, max: 1)
            default: break
            }
        }
        // The same bounds as `iterations:` in a file: a huge count would plan (and estimate) forever.
        for (flag, value) in [("--min-rounds", minRounds), ("--max-rounds", maxRounds)] {
            if let value, !(0...Self.maxRounds).contains(value) {
                throw Self.invalid("\(flag) \(value) is out of range; use 0 to \(Self.maxRounds).")
            }
        }
        if let minRounds { workflow.iterations.min = minRounds }
        if let maxRounds {
            workflow.iterations.max = maxRounds
            if minRounds == nil { workflow.iterations.min = Swift.min(workflow.iterations.min, maxRounds) }
        }
        guard workflow.iterations.min <= workflow.iterations.max, workflow.iterations.max >= 1 else {
            throw InputError(
                code: .invalidOption,
                message: "The rounds are out of order: min \(workflow.iterations.min) > max "
                    + "\(workflow.iterations.max). Adjust --min-rounds or --max-rounds.")
        }
        if let timeoutSeconds {
            guard timeoutSeconds > 0, timeoutSeconds <= Self.maxTimeoutSeconds else {
                throw Self.invalid(
                    "--timeout must be a positive number of seconds, at most \(Int(Self.maxTimeoutSeconds)) (7 days).")
            }
            workflow.limits.timeoutSeconds = timeoutSeconds
        }
        if let maxConcurrent {
            guard maxConcurrent >= 1 else { throw Self.invalid("--max-concurrent must be at least 1.") }
            workflow.limits.maxConcurrent = maxConcurrent
        }
        if let budgetUSD {
            guard budgetUSD > 0, budgetUSD.isFinite else {
                throw Self.invalid("--budget must be a positive, finite number of dollars.")
            }
            workflow.limits.budgetUSD = budgetUSD
        }
        return workflow
    }

    /// Members for `MODEL[:COUNT]` strings. Ids follow the workflow file's rule: the model string,
    /// with `#k` when the entry has several instances or the string repeats.
    public static func members(_ specs: [String], catalog: ModelCatalog) throws -> [Member] {
        var parsed: [(name: String, alias: ModelAlias, count: Int)] = []
        for spec in specs {
            let trimmed = spec.trimmingCharacters(in: .whitespaces)
            var name = trimmed
            var count = 1
            if let colon = trimmed.lastIndex(of: ":") {
                let suffix = trimmed[trimmed.index(after: colon)...]
                if !suffix.isEmpty, suffix.allSatisfy(\.isASCII), suffix.allSatisfy(\.isNumber) {
                    guard let value = Int(suffix), value >= 1, value <= 64 else {
                        throw invalid("--models: \(spec) asks for \(suffix) instances; use 1 to 64.")
                    }
                    count = value
                    name = String(trimmed[..<colon])
                }
            }
            guard !name.isEmpty else { throw invalid("--models has an empty entry; write a,b,c without gaps.") }
            parsed.append((name, try resolve(name, flag: "--models", catalog: catalog), count))
        }
        guard !parsed.isEmpty else { throw invalid("--models needs at least one model.") }
        var occurrences: [String: Int] = [:]
        for entry in parsed { occurrences[entry.name, default: 0] += entry.count }
        var used: [String: Int] = [:]
        var members: [Member] = []
        for entry in parsed {
            for _ in 0..<entry.count {
                var id = entry.name
                if (occurrences[entry.name] ?? 0) > 1 {
                    used[entry.name, default: 0] += 1
                    id += "#\(used[entry.name] ?? 1)"
                }
                members.append(Member(id: id, model: entry.alias.target, params: entry.alias.params))
            }
        }
        return members
    }

    private static func resolve(_ name: String, flag: String, catalog: ModelCatalog) throws -> ModelAlias {
        guard let alias = catalog.resolve(name) else {
            let known = catalog.aliases.keys.sorted().joined(separator: ", ")
            throw InputError(
                code: .invalidOption,
                message: "\(flag): unknown model \"\(name)\". Use an alias (\(known)), a claude-*/gpt-*/gemini-* "
                    + "name, or provider/model (`refinery models` lists them).")
        }
        return alias
    }

    private static func replacingThreshold(_ strategy: ConvergenceStrategy, with value: Double) throws
        -> ConvergenceStrategy
    {
        switch strategy {
        case .voteThreshold(_, let stability):
            guard (1...10).contains(value) else { throw invalid("--threshold is a mean score from 1 to 10 here.") }
            return .voteThreshold(threshold: value, stability: stability)
        case .unanimous:
            guard (1...10).contains(value) else { throw invalid("--threshold is a mean score from 1 to 10 here.") }
            return .unanimous(threshold: value)
        case .confidence:
            guard (0...1).contains(value) else {
                throw invalid("--threshold is a confidence between 0 and 1 for the confidence strategy.")
            }
            return .confidence(threshold: value)
        case .agreement:
            guard (0...1).contains(value) else {
                throw invalid("--threshold is a vote share between 0 and 1 for the agreement strategy.")
            }
            return .agreement(threshold: value)
        case .semantic(var options):
            guard (0...1).contains(value) else {
                throw invalid("--threshold is a similarity between 0 and 1 for the semantic strategy.")
            }
            options.threshold = value
            return .semantic(options)
        case .none:
            throw invalid("--threshold has no effect: this workflow's convergence strategy is none.")
        }
    }

    private static func invalid(_ message: String) -> InputError {
        InputError(code: .invalidOption, message: message)
    }
}
