// `models:` and `arbiter:` → members and arbiter: model strings with `:COUNT`, catalog
// resolution with "did you mean", alias parameters merged under the entry's, unique ids.

import RefinerySyntax

extension WorkflowBuilder {
    static let memberKeys = ["model", "instances", "name", "system", "params", "fallback"]
    static let arbiterKeys = ["model", "fallback", "system", "params"]

    /// One `models:` entry before ids are assigned.
    private struct Entry {
        var baseID: String
        var model: ModelRef
        var instances: Int
        var system: String?
        var params: ModelParams
        var fallback: [ModelRef]
    }

    /// The members, and the entry names usable in `by:`.
    func readMembers(_ field: Field) -> ([Member], [String]) {
        let reader = NodeReader(origin: field.origin, sink: sink)
        guard let items = field.value.sequence else {
            reader.typeError(
                field.value, expected: "a list of models", in: "`models`",
                hint: "write `models: [claude, openai/gpt-4o:2]` or one `- model` per line")
            return ([], [])
        }
        if items.isEmpty {
            reader.error(
                FrontCode.noMembers, "`models` is empty", at: field.value, hint: "list at least one model")
        }
        let entries = items.compactMap { readEntry($0, reader) }
        let total = entries.reduce(0) { $0 + $1.instances }
        if total > Self.maxMembers {
            // Pairwise evaluation makes N(N-1) calls a round (16,256 for 128): past this one layer's
            // calls in flight outgrow a process's memory and file descriptors (Benchmarks/README.md).
            reader.error(
                FrontCode.outOfRange, "`models` declares \(total) members; at most \(Self.maxMembers) are allowed",
                at: field.value, hint: "use fewer models or instances")
            return ([], [])
        }
        return (assignIDs(entries), unique(entries.map(\.baseID)))
    }

    /// Most members a workflow may declare in all.
    static let maxMembers = 128

    private func readEntry(_ node: YAMLNode, _ reader: NodeReader) -> Entry? {
        if node.scalar != nil {
            guard let text = reader.string(node, "a model entry"),
                let (model, count) = splitCount(text, node, reader),
                let resolved = resolveModel(model, node, reader)
            else { return nil }
            return Entry(
                baseID: model, model: resolved.target, instances: count ?? 1, system: nil, params: resolved.params,
                fallback: [])
        }
        if let pairs = node.mapping, pairs.count == 1, pairs[0].value.isNull, let key = pairs[0].key.scalar?.value,
            !Self.memberKeys.contains(key)
        {
            // `- codex:` parses as a mapping with an empty value: almost surely a model string
            // with a colon and no count.
            reader.error(
                FrontCode.invalidModelString, "`\(key):` ends with `:` but gives no instance count", at: node,
                hint: "write `\(key)` for one instance or `\(key):2` for two")
            return nil
        }
        guard let fields = reader.fields(node, allowed: Self.memberKeys, context: "a model entry") else { return nil }
        func value(_ key: String) -> YAMLNode? { fields.first { $0.name == key }?.value }
        guard let modelNode = value("model") else {
            reader.error(
                FrontCode.missingKey, "a model entry needs `model:`", at: node,
                hint: "add `model: NAME`, e.g. `model: claude`")
            return nil
        }
        guard let text = reader.string(modelNode, "`model`"), let (model, count) = splitCount(text, modelNode, reader)
        else { return nil }
        var instances = count ?? 1
        if let instancesNode = value("instances") {
            if count != nil {
                reader.error(
                    FrontCode.invalidModelString,
                    "the instance count is given twice (`:\(count ?? 1)` and `instances:`)",
                    at: instancesNode, hint: "keep only `instances:`")
            }
            instances = reader.int(instancesNode, "`instances`", min: 1, max: Self.maxMembers) ?? 1
        }
        var baseID = model
        if let nameNode = value("name"), let name = reader.string(nameNode, "`name`") {
            if ["arbiter", "members"].contains(name) {
                // `by: members` / `by: arbiter` and the outputs' `member_id: arbiter` already mean something else.
                reader.error(
                    FrontCode.invalidMemberName, "`\(name)` is reserved and cannot be a member name", at: nameNode,
                    hint: "`by: \(name)` and the outputs' `member_id` use it; choose another name, e.g. `\(name)-1`")
            } else if isValidMemberName(name) {
                baseID = name
            } else {
                reader.error(
                    FrontCode.invalidMemberName, "`\(name)` cannot be used as a member name", at: nameNode,
                    hint: "use letters, digits, `.`, `-`, `_` and `/`, without spaces or `#`")
            }
        }
        let resolved = resolveModel(model, modelNode, reader)
        let fallback = value("fallback").map { readFallback($0, reader) } ?? []
        let params =
            value("params").map { reader.params($0, "`params`", sentTo: resolved.map { [$0.target] + fallback } ?? []) }
            ?? ModelParams()
        return Entry(
            baseID: baseID, model: resolved?.target ?? ModelRef(provider: "", model: model), instances: instances,
            system: value("system").flatMap { reader.string($0, "`system`") },
            params: (resolved?.params ?? ModelParams()).merged(with: params), fallback: fallback)
    }

    /// Ids: the base id, numbered `#1...#n` in file order when several instances share it.
    private func assignIDs(_ entries: [Entry]) -> [Member] {
        var totals: [String: Int] = [:]
        for entry in entries { totals[entry.baseID, default: 0] += entry.instances }
        var used: [String: Int] = [:]
        var members: [Member] = []
        for entry in entries {
            for _ in 0..<entry.instances {
                let number = used[entry.baseID, default: 0] + 1
                used[entry.baseID] = number
                let id = (totals[entry.baseID] ?? 1) > 1 ? "\(entry.baseID)#\(number)" : entry.baseID
                members.append(
                    Member(
                        id: id, model: entry.model, system: entry.system, params: entry.params, fallback: entry.fallback
                    ))
            }
        }
        return members
    }

    private func unique(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    private func isValidMemberName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-_/".unicodeScalars.contains(scalar)
            }
    }

    /// The file's arbiter; `replacement` is the model `--arbiter` puts in its place, which its parameters
    /// are sent to instead.
    func readArbiter(_ field: Field, replacement: ModelRef? = nil) -> Arbiter? {
        let reader = NodeReader(origin: field.origin, sink: sink)
        if field.value.scalar != nil {
            guard let text = reader.string(field.value, "`arbiter`"),
                let resolved = resolveModel(text, field.value, reader)
            else { return nil }
            return Arbiter(model: resolved.target, params: resolved.params)
        }
        guard field.value.sequence == nil else {
            // Not "must be a mapping": a model string is what most arbiters are.
            reader.typeError(
                field.value, expected: "a model or a mapping", in: "`arbiter`",
                hint: "write one model, e.g. `arbiter: claude`, or a mapping, e.g. "
                    + "`arbiter: { model: claude, fallback: [openai/gpt-4o] }`")
            return nil
        }
        guard let fields = reader.fields(field.value, allowed: Self.arbiterKeys, context: "`arbiter`") else {
            return nil
        }
        func value(_ key: String) -> YAMLNode? { fields.first { $0.name == key }?.value }
        guard let modelNode = value("model") else {
            reader.error(
                FrontCode.missingKey, "`arbiter` needs `model:`", at: field.value, hint: "add `model: NAME`")
            return nil
        }
        guard let text = reader.string(modelNode, "`arbiter.model`"),
            let resolved = resolveModel(text, modelNode, reader)
        else { return nil }
        let fallback = value("fallback").map { readFallback($0, reader) } ?? []
        let sentTo = [replacement ?? resolved.target] + fallback
        let params = value("params").map { reader.params($0, "`params`", sentTo: sentTo) } ?? ModelParams()
        return Arbiter(
            model: resolved.target, fallback: fallback,
            system: value("system").flatMap { reader.string($0, "`system`") },
            params: resolved.params.merged(with: params))
    }

    private func readFallback(_ node: YAMLNode, _ reader: NodeReader) -> [ModelRef] {
        let items = node.sequence ?? [node]
        return items.compactMap { item in
            guard let text = reader.string(item, "a `fallback` model") else { return nil }
            return resolveModel(text, item, reader)?.target
        }
    }

    /// `model:COUNT` → (model, COUNT). COUNT is digits only; `llama3:8b` keeps its colon.
    func splitCount(_ text: String, _ node: YAMLNode, _ reader: NodeReader) -> (String, Int?)? {
        guard let colon = text.lastIndex(of: ":") else { return (text, nil) }
        let suffix = text[text.index(after: colon)...]
        let model = String(text[..<colon])
        // `gpt-4o:-1` is a count with a sign, not a model tag (tags never start with `-` or `+`): it is
        // checked as a count, and refused as one.
        let signed = suffix.first == "-" || suffix.first == "+"
        let digits = signed ? suffix.dropFirst() : suffix
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            if suffix.isEmpty {
                reader.error(
                    FrontCode.invalidModelString, "`\(text)` ends with `:` but gives no instance count", at: node,
                    hint: "write `\(model):2` for two instances, or drop the `:`")
                return nil
            }
            return (text, nil)
        }
        guard !model.isEmpty else {
            reader.error(
                FrontCode.invalidModelString, "`\(text)` has an instance count but no model", at: node,
                hint: "write `MODEL:COUNT`, e.g. `openai/gpt-4o:2`")
            return nil
        }
        guard !signed, let count = Int(digits), count >= 1, count <= Self.maxMembers else {
            reader.error(
                FrontCode.outOfRange, "the instance count of `\(text)` must be between 1 and \(Self.maxMembers)",
                at: node,
                hint: "write `\(model):1` or more, or drop the count")
            return nil
        }
        return (model, count)
    }

    /// Resolves a model string through the catalog, reporting unknown models with a suggestion.
    func resolveModel(_ text: String, _ node: YAMLNode, _ reader: NodeReader) -> ModelAlias? {
        guard !text.isEmpty else {
            reader.error(FrontCode.invalidModelString, "the model name is empty", at: node, hint: "write a model name")
            return nil
        }
        // A declared endpoint takes any model name, but none holds whitespace or a control character: such a
        // name is a quoting mistake, and would reach the server's request (and every log and output) as is.
        if let bad = text.unicodeScalars.first(where: {
            $0.properties.isWhitespace || $0.properties.generalCategory == .control
        }) {
            reader.error(
                FrontCode.invalidModelString,
                "the model name `\(text.debugDescription.dropFirst().dropLast())` contains "
                    + (bad.properties.isWhitespace && bad.value >= 0x20 ? "a space" : "a control character")
                    + " (U+\(String(bad.value, radix: 16, uppercase: true).leftPadded(to: 4)))",
                at: node, hint: "write the model name alone, e.g. `local/my-model`; separate several with commas")
            return nil
        }
        if let resolved = compiler.catalog.resolve(text) { return resolved }
        // `openai/` (`openai/$MODEL` with the variable unset) lacks its model, `/gpt-4o` its provider: said so, not
        // taken for an unknown model the closest known name would fix.
        if let slash = text.firstIndex(of: "/") {
            let provider = String(text[..<slash])
            let catalog = compiler.catalog
            if provider.isEmpty || (text.index(after: slash) == text.endIndex && catalog.providers.contains(provider)) {
                let example = catalog.prices.keys.filter { $0.hasPrefix(provider + "/") && !$0.hasSuffix("*") }.min()
                reader.error(
                    FrontCode.invalidModelString,
                    provider.isEmpty
                        ? "the provider before `\(text)` is empty" : "the model name after `\(provider)/` is empty",
                    at: node,
                    hint: provider.isEmpty
                        ? "write `PROVIDER/MODEL`; the providers are: \(catalog.providers.sorted().joined(separator: ", "))"
                        : "write `\(provider)/MODEL`" + (example.map { ", e.g. `\($0)`" } ?? ""))
                return nil
            }
        }
        reader.error(
            FrontCode.unknownModel, "unknown model `\(text)`", at: node, hint: compiler.catalog.unknownModelHint(text))
        return nil
    }
}

extension String {
    /// This text with `0`s in front up to `width` characters (`A` → `000A`).
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
