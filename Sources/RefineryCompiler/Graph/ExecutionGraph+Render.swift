// Text renderings of the graph for `refinery graph --format mermaid|dot`. Deterministic: the
// same graph always gives the same bytes, so the output can be committed and diffed.

extension ExecutionGraph {
    /// A Mermaid flowchart: one subgraph per section (the round labelled `repeat: rounds MIN..MAX`),
    /// model calls as boxes, `close` as a diamond, data dependencies as arrows.
    ///
    /// - Parameters:
    ///   - iterations: the workflow's round bounds, shown on the round subgraph.
    ///   - title: an optional title (Mermaid front matter).
    public func mermaid(iterations: Iterations = Iterations(), title: String? = nil) -> String {
        var lines: [String] = []
        if let title {
            lines += ["---", "title: \(mermaidTitle(title))", "---"]
        }
        lines.append("flowchart TD")
        let rendered = renderedSections(iterations: iterations)
        for section in rendered {
            lines.append("    subgraph \(section.kind.rawValue)[\"\(mermaidEscape(section.label))\"]")
            lines.append("        direction TB")
            for node in section.nodes {
                let label = mermaidEscape(node.label)
                let shape = node.isCall ? "[\"\(label)\"]" : "{\"\(label)\"}"
                lines.append("        \(node.key)\(shape)")
            }
            lines.append("    end")
        }
        for section in rendered {
            for edge in section.edges {
                lines.append("    \(edge.from) --> \(edge.to)")
            }
        }
        for (from, to) in zip(rendered, rendered.dropFirst()) {
            lines.append("    \(from.kind.rawValue) --> \(to.kind.rawValue)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Graphviz DOT digraph: one cluster per section (the round labelled `repeat: rounds MIN..MAX`),
    /// model calls as boxes, `close` as a diamond, data dependencies as arrows.
    ///
    /// - Parameters:
    ///   - iterations: the workflow's round bounds, shown on the round cluster.
    ///   - title: the graph's name and label, if any.
    public func dot(iterations: Iterations = Iterations(), title: String? = nil) -> String {
        var lines = ["digraph \(dotQuote(title ?? "workflow")) {"]
        if let title { lines.append("    label=\(dotQuote(title));") }
        lines += [
            "    rankdir=TB;",
            "    compound=true;",
            "    node [shape=box, style=rounded, fontname=\"Helvetica\"];",
        ]
        let rendered = renderedSections(iterations: iterations)
        for section in rendered {
            lines.append("    subgraph cluster_\(section.kind.rawValue) {")
            lines.append("        label=\(dotQuote(section.label));")
            for node in section.nodes {
                let shape = node.isCall ? "" : ", shape=diamond, style=solid"
                lines.append("        \(node.key) [label=\(dotQuote(node.label))\(shape)];")
            }
            lines.append("    }")
        }
        for section in rendered {
            for edge in section.edges {
                lines.append("    \(edge.from) -> \(edge.to);")
            }
        }
        // Section order, drawn between the clusters' first nodes.
        for (from, to) in zip(rendered, rendered.dropFirst()) {
            guard let last = from.nodes.last, let first = to.nodes.first else { continue }
            lines.append(
                "    \(last.key) -> \(first.key) [style=dashed, ltail=cluster_\(from.kind.rawValue), "
                    + "lhead=cluster_\(to.kind.rawValue)];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A short human label for a node: `propose · claude`, `evaluate claude → gem#1`, ...
    public static func label(for node: GraphNode) -> String {
        switch node.kind {
        case .propose(let member): "propose · \(member)"
        case .evaluate(let reviewer, let target): "evaluate \(reviewer) → \(target)"
        case .evaluateBatch(let reviewer, let targets): "evaluate \(reviewer) → \(targets.joined(separator: ", "))"
        case .refine(let member): "refine · \(member)"
        case .synthesize(let by): "synthesize · \(by)"
        case .verifyPlan(let by): "verify plan · \(by)"
        case .verifyAnswer(let by, let question): "verify Q\(question + 1) · \(by)"
        case .verifyRevise(let by): "verify revise · \(by)"
        case .vote(let voters): "vote · \(voters.count) answers"
        case .close: "close"
        }
    }

    private struct RenderedNode {
        var key: String
        var label: String
        var isCall: Bool
    }

    private struct RenderedSection {
        var kind: SectionKind
        var label: String
        var nodes: [RenderedNode]
        var edges: [(from: String, to: String)]
    }

    /// Sections with stages, nodes keyed `p0`, `r3`, `e1` (graph node ids contain characters
    /// neither Mermaid nor DOT accept unquoted).
    private func renderedSections(iterations: Iterations) -> [RenderedSection] {
        sections.compactMap { kind, section in
            if kind != .round, section.stages.isEmpty { return nil }
            let prefix = String(kind.rawValue.prefix(1))
            var keys: [String: String] = [:]
            var nodes: [RenderedNode] = []
            for (offset, node) in section.nodes.enumerated() {
                let key = "\(prefix)\(offset)"
                keys[node.id] = key
                nodes.append(RenderedNode(key: key, label: Self.label(for: node), isCall: node.isCall))
            }
            let edges = section.nodes.flatMap { node in
                node.dependencies.compactMap { dep in
                    keys[dep].flatMap { from in keys[node.id].map { (from: from, to: $0) } }
                }
            }
            let label =
                switch kind {
                case .prelude: "prelude"
                case .round: "repeat: rounds \(iterations.min)..\(iterations.max)"
                case .epilogue: "epilogue"
                }
            return RenderedSection(kind: kind, label: label, nodes: nodes, edges: edges)
        }
    }

    private func mermaidEscape(_ text: String) -> String {
        var out = ""
        for char in text {
            switch char {
            case "#": out += "#35;"
            case "\"": out += "#quot;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "\n": out += " "
            default: out.append(char)
            }
        }
        return out
    }

    private func mermaidTitle(_ text: String) -> String {
        text.replacing("\n", with: " ")
    }

    private func dotQuote(_ text: String) -> String {
        var out = "\""
        for char in text {
            switch char {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(char)
            }
        }
        return out + "\""
    }
}
