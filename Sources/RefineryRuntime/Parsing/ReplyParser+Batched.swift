// Batched evaluation replies: one evaluation per anonymous label, keyed or listed.

extension ReplyParser {
    private static let labelKeys = ["label", "response", "response_label", "id", "answer"]

    static func batchedEvaluations(
        fromJSON json: JSONValue, labels: [String]
    ) -> Result<[String: Evaluation], ReplyParseError> {
        var found: [String: JSONValue] = [:]  // normalized label → evaluation object
        collect(json, into: &found, depth: 0)
        var result: [String: Evaluation] = [:]
        var missing: [String] = []
        for label in labels {
            guard let entry = found[normalizedLabel(label)] else {
                missing.append(label)
                continue
            }
            switch evaluation(fromJSON: entry) {
            case .success(let evaluation): result[label] = evaluation
            case .failure(let error):
                return .failure(ReplyParseError(message: "response \(label): \(error.message)"))
            }
        }
        guard missing.isEmpty else {
            return .failure(
                ReplyParseError(
                    message: "the reply has no evaluation for \(missing.count == 1 ? "label" : "labels") "
                        + missing.joined(separator: ", ") + "; every label needs one"
                )
            )
        }
        return .success(result)
    }

    /// Gathers label → evaluation object from `{"A": {...}}`, `[{"label": "A", ...}]`, and either shape
    /// nested one level under a key such as `evaluations`.
    private static func collect(_ json: JSONValue, into found: inout [String: JSONValue], depth: Int) {
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
                switch pair.value {
                case .object:
                    if pair.value.first(["score", "rating"]) != nil || scoreIsNested(pair.value) {
                        let key = normalizedLabel(pair.key)
                        if found[key] == nil { found[key] = pair.value }
                    } else {
                        collect(pair.value, into: &found, depth: depth + 1)
                    }
                case .array:
                    collect(pair.value, into: &found, depth: depth + 1)
                default:
                    break
                }
            }
        default:
            break
        }
    }

    private static func scoreIsNested(_ value: JSONValue) -> Bool {
        guard case .object(let pairs) = value else { return false }
        return pairs.contains { pair in
            if case .object = pair.value { return pair.value.first(["score", "rating"]) != nil }
            return false
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
