// One compilation: load the file and its bases, merge them, then read every section into the
// IR, reporting every problem. Split by concern into WorkflowBuilder+*.swift.

import RefinerySyntax

/// The per-compilation state of ``WorkflowCompiler/compile(_:)``.
struct WorkflowBuilder {
    let compiler: WorkflowCompiler
    let sink: DiagnosticSink

    func build(_ source: WorkflowSource) -> Workflow? {
        var chain: [String] = []
        var baseFailed = false
        guard let fileFields = load(source, seen: [], chain: &chain, baseFailed: &baseFailed) else { return nil }
        let fields = mergingCommandLine(into: fileFields)
        checkVariables()
        let overrides = compiler.overrides
        // After a failed `extends`, the missing sections were probably meant to come from the base.
        let requireSections = !baseFailed
        func required(_ key: String) -> Bool { requireSections && !sink.suggestedKeys.contains(key) }
        let rootOrigin = Origin(displayName: source.displayName, path: source.path)
        let rootReader = NodeReader(origin: rootOrigin, sink: sink)
        let start = YAMLNode(
            kind: .scalar(YAMLScalar(value: "")),
            range: SourceRange(start: SourceLocation(line: 1, column: 1), end: SourceLocation(line: 1, column: 1)))
        func field(_ name: String) -> Field? { fields.first { $0.name == name } }
        func reader(_ field: Field) -> NodeReader { NodeReader(origin: field.origin, sink: sink) }

        var name = ""
        if let nameField = field("name") {
            name = readName(nameField.value, reader(nameField)) ?? ""
        } else if required("name") {
            rootReader.error(
                FrontCode.missingKey, "the workflow has no `name:`", at: start,
                hint: "add a name such as `name: review-loop` (lowercase letters, digits, `-` and `_`)")
        }
        let version = field("version").flatMap { reader($0).string($0.value, "`version`") }
        let description = field("description").flatMap { reader($0).string($0.value, "`description`") }
        let system = field("system").flatMap { reader($0).string($0.value, "`system`") }

        var members: [Member] = []
        var entryNames: [String] = []
        if let modelsField = field("models") {
            (members, entryNames) = readMembers(modelsField)
        } else if required("models") {
            rootReader.error(
                FrontCode.noMembers, "the workflow declares no `models:`", at: start,
                hint: "add `models:` with at least one model, e.g. `models: [claude, openai/gpt-4o:2]`")
        }
        let arbiter = readArbiter(field("arbiter"), override: overrides.arbiter)
        let iterationsRead = field("iterations").map(readIterations)
        var iterations = iterationsRead?.iterations ?? Iterations()
        let declaredIterations = iterations
        let convergenceRead = field("convergence").map(readConvergence)
        let convergence = convergenceRead?.convergence ?? Convergence()
        var limits = Limits(quorum: min(2, max(members.count, 1)))
        if let limitsField = field("limits") {
            // Members given on the command line win over a file's larger quorum: it is lowered to them.
            readLimits(limitsField, into: &limits, memberCount: members.count, clampQuorum: overrides.models != nil)
        }
        if let models = overrides.models, models.count == 1, members.count == 1, overrides.minRounds == nil,
            overrides.maxRounds == nil
        {
            // One model has no peers to score it: ask once (seed 000: "0 = converged or single model").
            switch convergence.strategy {
            case .voteThreshold, .unanimous: iterations = Iterations(min: 1, max: 1)
            case .confidence, .semantic, .agreement, .none: break
            }
        }

        var stages: [Stage] = []
        var summary = StageSummary()
        if let stagesField = field("stages") {
            // An arbiter that failed to resolve was reported already; don't also call it missing.
            let context = StageContext(
                memberIDs: Set(members.map(\.id)), entryNames: entryNames,
                hasArbiter: field("arbiter") != nil || overrides.arbiter != nil,
                closeMatters: convergence.strategy != .none,
                memberModels: Dictionary(members.map { ($0.id, [$0.model] + $0.fallback) }) { first, _ in first },
                arbiterModels: arbiter.map { [$0.model] + $0.fallback } ?? [])
            stages = readStages(stagesField, context: context, summary: &summary)
            checkFlagsHaveEffect(stages)
            checkVariablesShown()
        } else if required("stages") {
            rootReader.error(
                FrontCode.missingKey, "the workflow has no `stages:`", at: start,
                hint: "add a chain such as `stages: [propose, {repeat: [evaluate, refine, close]}]`")
        }

        let output = readOutput(field("output"), summary: summary)
        checkConvergence(convergence, read: convergenceRead, summary: summary, rootReader: rootReader, start: start)
        // Against the bounds as declared: a single model given with `--models` is asked once on purpose.
        checkStabilityReachable(
            convergence, read: convergenceRead, iterations: declaredIterations, maxField: iterationsRead?.maxField,
            summary: summary)

        let provenance = Provenance(
            path: source.path, contentSHA256: WorkflowCompiler.sha256Hex(source.bytes), extendsChain: chain)
        return Workflow(
            name: name, version: version, description: description, members: members, arbiter: arbiter,
            system: system, iterations: iterations, convergence: convergence, limits: limits, stages: stages,
            output: output, provenance: provenance, variables: overrides.variables)
    }

    private func readName(_ node: YAMLNode, _ reader: NodeReader) -> String? {
        guard let name = reader.string(node, "`name`") else { return nil }
        guard Self.isValidName(name) else {
            reader.error(
                FrontCode.invalidName, "`\(NodeReader.excerpt(name))` is not a valid workflow name", at: node,
                hint: "use \(Self.nameRule) (e.g. `\(Self.suggestedName(name))`)")
            return nil
        }
        return name
    }

    /// The longest name: a name is also a file's (`NAME.yaml`), and file systems take 255 bytes.
    static let maxNameLength = 128

    /// What a workflow name may be, for messages.
    static let nameRule =
        "lower-case letters, digits, `-` and `_`, starting with a letter or digit, at most \(maxNameLength) characters"

    static func isValidName(_ name: String) -> Bool {
        guard name.utf8.count <= maxNameLength else { return false }
        guard let first = name.unicodeScalars.first, isNameStart(first) else { return false }
        return name.unicodeScalars.allSatisfy { isNameStart($0) || $0 == "-" || $0 == "_" }
    }

    private static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    private static func suggestedName(_ name: String) -> String {
        let mapped = String(
            name.lowercased().unicodeScalars.map { isNameStart($0) || $0 == "-" || $0 == "_" ? Character($0) : "-" })
        let trimmed = mapped.drop { $0 == "-" || $0 == "_" }.prefix(maxNameLength)
        return trimmed.isEmpty ? "my-workflow" : String(trimmed)
    }

    private func readOutput(_ field: Field?, summary: StageSummary) -> OutputSelection {
        let inferred: OutputSelection =
            summary.hasSynthesize ? .synthesis : summary.hasEvaluate || summary.hasVote ? .winner : .draft
        guard let field else { return inferred }
        let reader = NodeReader(origin: field.origin, sink: sink)
        guard let output = reader.choice(field.value, "output", as: OutputSelection.self) else { return inferred }
        if output == .synthesis, !summary.hasSynthesize {
            reader.error(
                FrontCode.outputWithoutSynthesis, "`output: synthesis` needs a `synthesize` stage", at: field.value,
                hint: "add a `synthesize` stage, or choose `output: winner` or `draft`")
        }
        if output == .winner, !summary.hasEvaluate, !summary.hasVote, !summary.isEmpty {
            reader.warning(
                FrontCode.winnerWithoutEvaluate, "`output: winner` but no `evaluate` stage scores the answers",
                at: field.value, hint: "add an `evaluate` stage, or choose `output: draft`")
        }
        return output
    }
}
