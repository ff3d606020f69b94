// Batched evaluation replies: one evaluation per anonymous label, keyed or listed.

extension ReplyParser {
    private static let labelKeys = ["label", "response", "response_label", "id", "answer"]

    static func batchedEvaluations(fromJSON json: JSONValue, labels: [String]) -> BatchedEvaluations {
        var found: [String: JSONValue] = [:]  // normalized label → evaluation object
        collect(json, wanted: Set(labels.map(normalizedLabel)), into: &found, depth: 0)
        var result = BatchedEvaluations()
        for label in labels {
            guard let entry = found[normalizedLabel(label)] else {
                result.unread[label] = "the reply has no evaluation for label \(label)"
                continue
            }
            switch evaluation(fromJSON: entry) {
            case .success(let evaluation): result.evaluations[label] = evaluation
            case .failure(let error): result.unread[label] = "response \(label): \(error.message)"
            }
        }
        return result
    }

    /// Gathers label → evaluation object from `{"A": {...}}`, `[{"label": "A", ...}]`, and either shape
    /// nested under a key such as `evaluations`. Object keys count as labels only when they name a wanted one.
    private static func collect(
        _ json: JSONValue, wanted: Set<String>, into found: inout [String: JSONValue], depth: Int
    ) {
        guard depth < 3 else { return }
        switch json {
        case .array(let elements):
            for element in elements {
                if case .string(let label)? = element.first(labelKeys), found[normalizedLabel(label)] == nil {
                    found[normalizedLabel(label)] = element
                }
            }
        case .object(let pairs):
            for pair in pairs {
                let key = normalizedLabel(pair.key)
                if case .object = pair.value, wanted.contains(key) {
                    if found[key] == nil { found[key] = pair.value }
                } else {
                    collect(pair.value, wanted: wanted, into: &found, depth: depth + 1)
                }
            }
        default:
            break
        }
    }

    /// `A`, `a`, `Response A`, `response_a`, `[A]`, `Answer A` all name label `a`.
    static func normalizedLabel(_ label: String) -> String {
        var text = trimmed(label).lowercased()
        text = String(text.filter { !"[]()*\"'`:".contains($0) })
        for prefix in ["response", "answer", "candidate", "label"] where text.hasPrefix(prefix) {
            let rest = text.dropFirst(prefix.count)
            if rest.first == " " || rest.first == "_" || rest.first == "-" {
                text = String(rest.dropFirst())
            }
        }
        return trimmed(text)
    }
}
