// What `refinery bench` compares: a workflow, or one of three baselines built from the built-in
// `vote` and `self-consistency` workflows. Each is compiled once, through the same loader as
// `refinery run`, into the workflow and graph every item of the bench runs.

import Foundation
package import RefineryCompiler
internal import RefinerySyntax

/// One system of a bench: a `SYSTEM` argument of `refinery bench`.
///
/// Its ``name`` is the canonical spelling of the argument and the key the system has in every
/// output (table rows, JSON `systems[].name` and `items[].results`), so it never depends on
/// what the system resolves to.
package enum BenchSystem: Sendable, Hashable {
    /// A workflow by name, path or `NAME@REV`, as `refinery run` finds it.
    case workflow(String)
    /// `single:MODEL`: one call to MODEL, under the built-in `vote` workflow's system prompt with MODEL as
    /// its only member, so its answer is read exactly as the ensembles' are.
    case single(model: String)
    /// `vote`: the built-in `vote` workflow (every member answers once; plurality of the last lines).
    case vote
    /// `vote:MODEL:K`: self-consistency, K samples of MODEL at temperature 0.8 in one batch (the built-in
    /// `self-consistency` workflow with one round), plurality of the last lines.
    case selfConsistency(model: String, samples: Int)

    /// The largest K of `vote:MODEL:K` (the compiler's limit on a model's instances).
    package static let maxSamples = 64

    /// Parses one `SYSTEM` argument. `single:`, `vote` and `vote:` start a baseline; anything else is a
    /// workflow (whether it exists is known only when it is loaded).
    ///
    /// - Throws: ``InputError`` (`invalid_option`, exit 4) for a malformed baseline, with the form to write.
    package init(parsing spec: String) throws(InputError) {
        let text = spec.trimmingCharacters(in: .whitespaces)
        func refuse(_ why: String, _ hint: String) -> InputError {
            InputError(code: .invalidOption, message: "system `\(spec)`: \(why); \(hint)")
        }
        if text.isEmpty {
            throw refuse(
                "empty",
                "name a workflow (`debate`, `./my.yaml`, `debate@HEAD~1`) or a baseline: single:MODEL, vote, "
                    + "vote:MODEL:K")
        }
        if text == "single" {
            throw refuse("`single` needs a model", "write single:MODEL, e.g. single:openai/gpt-4o")
        }
        if text.hasPrefix("single:") {
            let model = String(text.dropFirst("single:".count))
            guard Self.isModel(model) else {
                throw refuse("`single:` needs a model", "write single:MODEL, e.g. single:openai/gpt-4o")
            }
            if let colon = model.lastIndex(of: ":"), model[model.index(after: colon)...].allSatisfy(\.isNumber) {
                throw refuse(
                    "`single:` takes one model without an instance count",
                    "for K samples of one model write vote:\(model[..<colon]):K")
            }
            self = .single(model: model)
            return
        }
        if text == "vote" {
            self = .vote
            return
        }
        if text.hasPrefix("vote:") {
            let rest = text.dropFirst("vote:".count)
            let example = "e.g. vote:openai/gpt-4o:5 for self-consistency over 5 samples"
            guard let colon = rest.lastIndex(of: ":") else {
                throw refuse("`vote:` needs a model and a sample count", "write vote:MODEL:K, \(example)")
            }
            let model = String(rest[..<colon])
            let count = rest[rest.index(after: colon)...]
            guard Self.isModel(model) else {
                throw refuse("`vote:` needs a model before the sample count", "write vote:MODEL:K, \(example)")
            }
            guard let samples = Int(count), count.allSatisfy(\.isASCII), (1...Self.maxSamples).contains(samples)
            else {
                throw refuse(
                    "the sample count `\(count)` is not a whole number from 1 to \(Self.maxSamples)",
                    "write vote:MODEL:K, \(example)")
            }
            self = .selfConsistency(model: model, samples: samples)
            return
        }
        self = .workflow(text)
    }

    /// Parses every `SYSTEM` argument of a bench, in order.
    ///
    /// - Throws: ``InputError`` (exit 4) when there is none, one is malformed, or two have the same ``name``
    ///   (their results would share a key).
    package static func parse(_ specs: [String]) throws(InputError) -> [BenchSystem] {
        guard !specs.isEmpty else {
            throw InputError(
                code: .invalidOption,
                message: "no system to bench; name at least one workflow or baseline, e.g. "
                    + "`refinery bench debate vote single:openai/gpt-4o --dataset FILE`")
        }
        var systems: [BenchSystem] = []
        var seen: Set<String> = []
        for spec in specs {
            let system = try BenchSystem(parsing: spec)
            guard seen.insert(system.name).inserted else {
                throw InputError(
                    code: .invalidOption, message: "system `\(system.name)` is listed twice; list each system once.")
            }
            systems.append(system)
        }
        return systems
    }

    /// The canonical spelling: the workflow argument as given, `single:MODEL`, `vote` or `vote:MODEL:K`.
    package var name: String {
        switch self {
        case .workflow(let argument): argument
        case .single(let model): "single:" + model
        case .vote: "vote"
        case .selfConsistency(let model, let samples): "vote:\(model):\(samples)"
        }
    }

    /// Whether this is a single-model baseline (the systems the paired comparison prefers as its reference).
    package var isSingleModel: Bool {
        if case .single = self { return true }
        return false
    }

    /// The model and sample count of a `vote:MODEL:K` baseline.
    package var selfConsistencySamples: (model: String, samples: Int)? {
        if case .selfConsistency(let model, let samples) = self { return (model, samples) }
        return nil
    }

    /// Compiles the system into the checked workflow and graph each item runs, with `overrides` (the
    /// command line's flags) applied as the compiler's last layer.
    ///
    /// `--models` (``WorkflowOverrides/models``) replaces the members of a workflow and of `vote`, so every
    /// ensemble compares on the same members. `single:MODEL` and `vote:MODEL:K` name their model, so
    /// `--models` does not apply to them; nor do `--arbiter`, `--threshold` and the round flags, which
    /// would change what a baseline is. Budget, timeout, concurrency and `--var` apply to every system.
    /// The baselines always come from the built-in workflows, even when a workflow folder has a file of
    /// the same name.
    ///
    /// - Parameters:
    ///   - gitProvenance: whether git is asked for a workflow file's commit (recorded with a bench).
    ///   - file: where a workflow system is loaded from, when not from its argument (the absolute path a bench
    ///     recorded for it).
    /// - Throws: ``InputError`` for a workflow that cannot be found or read, ``WorkflowDiagnosticsError`` for
    ///   one that does not compile (an unknown model included); both exit 4.
    package func load(
        with loader: WorkflowLoader, overrides: WorkflowOverrides = WorkflowOverrides(), gitProvenance: Bool = true,
        from file: String? = nil
    ) async throws -> LoadedWorkflow {
        var baseline = WorkflowOverrides(
            budgetUSD: overrides.budgetUSD, variables: overrides.variables)
        baseline.timeoutSeconds = overrides.timeoutSeconds
        baseline.maxConcurrent = overrides.maxConcurrent
        // An empty search path: the baselines are the built-ins whatever `./workflows/` holds.
        let builtins = WorkflowLoader(
            library: WorkflowLibrary(folders: [], currentDirectory: loader.library.currentDirectory),
            catalog: loader.catalog)
        switch self {
        case .workflow(let argument):
            return try await loader.load(file ?? argument, overrides: overrides, gitProvenance: gitProvenance)
        case .single(let model):
            baseline.models = [model]
            return try await named { try await builtins.load("vote", overrides: baseline) }
        case .vote:
            baseline.models = overrides.models
            return try await builtins.load("vote", overrides: baseline)
        case .selfConsistency(let model, let samples):
            baseline.models = ["\(model):\(samples)"]
            // One batch of K samples: the adaptive stopping of the built-in would make K a range.
            baseline.minRounds = 1
            baseline.maxRounds = 1
            return try await named { try await builtins.load("self-consistency", overrides: baseline) }
        }
    }

    /// Loads a baseline that names its model: the built-in compiles, so what it refuses is that model,
    /// said of the system as the user wrote it (the compiler would blame `--models`, which was not given).
    private func named(_ load: () async throws -> LoadedWorkflow) async throws -> LoadedWorkflow {
        do {
            return try await load()
        } catch var error as WorkflowDiagnosticsError {
            for index in error.diagnostics.indices
            where error.diagnostics[index].file?.hasPrefix(WorkflowOverrides.Surface.commandLine.layerName) ?? false {
                error.diagnostics[index].file = "system `\(name)`"
            }
            throw error
        }
    }

    private static func isModel(_ text: String) -> Bool {
        !text.isEmpty && !text.contains(where: \.isWhitespace)
    }
}
