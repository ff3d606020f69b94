// The user's catalog override file (`$XDG_CONFIG_HOME/refinery/catalog.yaml`): extra aliases
// and prices, read with located diagnostics like a workflow file.

public import RefinerySyntax

public extension ModelCatalog {
    /// Reads a catalog override file.
    ///
    /// ```yaml
    /// providers: [my-vllm]                 # extra OpenAI-compatible endpoint names (optional)
    /// aliases:
    ///   fast: { model: openai/gpt-4o-mini, params: { temperature: 0.2 } }
    ///   local: ollama/llama3.2             # shorthand: the model only
    /// prices:
    ///   "openai/gpt-4o": { input: 2.5, output: 10, cached_input: 1.25, context: 128000 }   # USD per million tokens
    ///   "anthropic/claude-x": { input: 3, output: 15, cache_write: 3.75, cache_write_1h: 6 }
    ///   "gemini/gemini-x-pro":                # dearer past a prompt of 200k tokens, input and output alike
    ///     { input: 1.25, output: 10, long_context: { above: 200000, input: 2.5, output: 15, cached_input: 0.25 } }
    ///   "ollama/*": { input: 0, output: 0 }
    /// ```
    ///
    /// Alias targets and price keys must be `provider/model`; providers they name are added to
    /// ``providers``. Merge the result over the built-in table with ``merging(_:)``.
    ///
    /// - Returns: the overrides (`nil` when the file has errors) and every problem found.
    static func load(yaml bytes: [UInt8], file: String) -> (ModelCatalog?, [Diagnostic]) {
        let sink = DiagnosticSink()
        let reader = NodeReader(origin: Origin(displayName: file), sink: sink)
        var catalog = ModelCatalog(aliases: [:], prices: [:], providers: [])
        do {
            guard let root = try YAMLParser.parse(bytes, file: file) else { return (catalog, []) }
            guard let fields = reader.fields(root, allowed: ["providers", "aliases", "prices"], context: "the catalog")
            else { return (nil, sink.sorted) }
            for field in fields {
                switch field.name {
                case "providers":
                    catalog.providers.formUnion(reader.stringList(field.value, "`providers`") ?? [])
                case "aliases":
                    readAliases(field.value, reader: reader, into: &catalog)
                default:
                    readPrices(field.value, reader: reader, into: &catalog)
                }
            }
        } catch {
            sink.add(contentsOf: error.diagnostics)
        }
        return (sink.hasErrors ? nil : catalog, sink.sorted)
    }

    private static func readAliases(_ node: YAMLNode, reader: NodeReader, into catalog: inout ModelCatalog) {
        guard let pairs = node.mapping else {
            reader.typeError(node, expected: "a mapping of alias names", in: "`aliases`")
            return
        }
        for pair in pairs {
            guard let name = reader.string(pair.key, "an alias name") else { continue }
            var modelNode = pair.value
            var params = ModelParams()
            if pair.value.scalar == nil {
                guard let fields = reader.fields(pair.value, allowed: ["model", "params"], context: "alias `\(name)`")
                else { continue }
                guard let model = fields.first(where: { $0.name == "model" }) else {
                    reader.error(
                        FrontCode.missingKey, "alias `\(name)` needs `model:`", at: pair.value,
                        hint: "add `model: provider/model`")
                    continue
                }
                modelNode = model.value
                if let paramsField = fields.first(where: { $0.name == "params" }) {
                    params = reader.params(paramsField.value, "`params`")
                }
            }
            guard let text = reader.string(modelNode, "`model`"),
                let (provider, model) = splitModelRef(text, modelNode, reader: reader)
            else { continue }
            catalog.providers.insert(provider)
            catalog.aliases[name] = ModelAlias(
                target: ModelRef(provider: provider, model: model, alias: name), params: params)
        }
    }

    private static func readPrices(_ node: YAMLNode, reader: NodeReader, into catalog: inout ModelCatalog) {
        guard let pairs = node.mapping else {
            reader.typeError(node, expected: "a mapping of `provider/model` to prices", in: "`prices`")
            return
        }
        for pair in pairs {
            guard let key = reader.string(pair.key, "a price key"),
                let (provider, _) = splitModelRef(key, pair.key, reader: reader),
                let fields = reader.fields(
                    pair.value, allowed: Self.priceKeys, context: "`\(key)`")
            else { continue }
            func value(_ name: String) -> YAMLNode? { fields.first { $0.name == name }?.value }
            guard let inputNode = value("input"), let outputNode = value("output") else {
                reader.error(
                    FrontCode.missingKey, "the price of `\(key)` needs `input:` and `output:`", at: pair.value,
                    hint: "give US dollars per million tokens, e.g. `{ input: 2.5, output: 10 }`")
                continue
            }
            // A price past any model's (the dearest are hundreds of dollars) is a typo; and one near Double's
            // limit made every cost infinite: the estimate trapped and a run's JSON could not be written.
            let input = reader.double(inputNode, "`input` (USD per million tokens)", min: 0, max: Self.maxPrice)
            let output = reader.double(outputNode, "`output` (USD per million tokens)", min: 0, max: Self.maxPrice)
            let cached = value("cached_input").flatMap {
                reader.double($0, "`cached_input` (USD per million tokens)", min: 0, max: Self.maxPrice)
            }
            let write = value("cache_write").flatMap {
                reader.double($0, "`cache_write` (USD per million tokens)", min: 0, max: Self.maxPrice)
            }
            let write1h = value("cache_write_1h").flatMap {
                reader.double($0, "`cache_write_1h` (USD per million tokens)", min: 0, max: Self.maxPrice)
            }
            let context = value("context").flatMap { reader.int($0, "`context` (tokens)", min: 1) }
            let longContext = value("long_context").flatMap { readLongContext($0, key: key, reader: reader) }
            guard let input, let output else { continue }
            catalog.providers.insert(provider)
            // Anthropic bills every cache read and write at fixed multiples of the input price: an entry that
            // gives its input price alone is charged them, not the input price.
            catalog.prices[key] =
                provider == "anthropic"
                ? .anthropic(
                    input: input, output: output, cachedInput: cached, cacheWrite: write, cacheWrite1h: write1h,
                    contextWindow: context)
                : ModelPricing(
                    inputPerMillion: input, outputPerMillion: output, cachedInputPerMillion: cached,
                    cacheWritePerMillion: write, cacheWrite1hPerMillion: write1h, contextWindow: context)
            catalog.prices[key]?.longContext = longContext
        }
    }

    /// A price entry's `long_context: { above: 200000, input: 2.5, output: 15, cached_input: 0.25 }`: the prices
    /// of every token of a call whose prompt is over `above` tokens.
    private static func readLongContext(_ node: YAMLNode, key: String, reader: NodeReader) -> LongContextPricing? {
        guard let fields = reader.fields(node, allowed: Self.longContextKeys, context: "`\(key)`'s `long_context`")
        else { return nil }
        func value(_ name: String) -> YAMLNode? { fields.first { $0.name == name }?.value }
        guard let aboveNode = value("above"), let inputNode = value("input"), let outputNode = value("output") else {
            reader.error(
                FrontCode.missingKey, "`\(key)`'s `long_context` needs `above:`, `input:` and `output:`", at: node,
                hint: "give the prompt length in tokens and the prices past it, e.g. "
                    + "`{ above: 200000, input: 2.5, output: 15 }`")
            return nil
        }
        let above = reader.int(aboveNode, "`above` (tokens)", min: 0)
        let input = reader.double(inputNode, "`input` (USD per million tokens)", min: 0, max: Self.maxPrice)
        let output = reader.double(outputNode, "`output` (USD per million tokens)", min: 0, max: Self.maxPrice)
        let cached = value("cached_input").flatMap {
            reader.double($0, "`cached_input` (USD per million tokens)", min: 0, max: Self.maxPrice)
        }
        guard let above, let input, let output else { return nil }
        return LongContextPricing(
            aboveInputTokens: above, inputPerMillion: input, outputPerMillion: output, cachedInputPerMillion: cached)
    }

    /// The keys of a price entry.
    private static let priceKeys = [
        "input", "output", "cached_input", "cache_write", "cache_write_1h", "context", "long_context",
    ]

    /// The keys of a price entry's `long_context`.
    private static let longContextKeys = ["above", "input", "output", "cached_input"]

    /// The dearest price a catalog may give, in US dollars per million tokens.
    private static let maxPrice = 1_000_000.0

    private static func splitModelRef(_ text: String, _ node: YAMLNode, reader: NodeReader) -> (String, String)? {
        guard let slash = text.firstIndex(of: "/"), slash != text.startIndex, text.index(after: slash) != text.endIndex
        else {
            reader.error(
                FrontCode.catalogModelRef, "`\(text)` is not a `provider/model` reference", at: node,
                hint: "write the provider and the model, e.g. `openai/gpt-4o` or `ollama/*`")
            return nil
        }
        return (String(text[..<slash]), String(text[text.index(after: slash)...]))
    }
}
