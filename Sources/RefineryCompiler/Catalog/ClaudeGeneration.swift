// What the Anthropic Messages API takes from a Claude model, by the model's generation: from Opus 4.7 on,
// thinking is adaptive only (`thinking: {type: "adaptive"}` with `output_config.effort`; the fixed
// `budget_tokens` form, deprecated since 4.6, is refused with a 400) and `temperature`, `top_p` and `top_k` are
// refused with a 400. One reading of a model's name for the wire protocol, which shapes the request, and for
// the compiler, which warns about a parameter that will not be sent.

/// The generation of a Claude model, read from its name.
package struct ClaudeGeneration: Sendable, Hashable, Comparable {
    package var major: Int
    package var minor: Int

    package init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// The first generation that thinks only adaptively and refuses sampling parameters (Opus 4.7). Claude 4.6
    /// thinks adaptively too, but still takes the fixed budget, which keeps its answer's allowance apart from
    /// its thinking: it is sent the budget.
    package static let adaptiveOnly = ClaudeGeneration(major: 4, minor: 7)

    /// The generation a Claude model's name carries: `claude-opus-4-6` and `claude-opus-4-6-20260205` are 4.6,
    /// `claude-opus-4-20250514` and `claude-sonnet-4-0` 4.0, `claude-opus-5` 5.0, `claude-3-7-sonnet-latest`
    /// 3.7. `nil` for a name that is not `claude-…` or carries no version (`claude-x`): such a model is sent
    /// what the older models take, the behaviour every Anthropic-compatible server understands.
    package init?(model: String) {
        guard model.hasPrefix("claude-") else { return nil }
        let parts = model.dropFirst("claude-".count).split(separator: "-")
        func number(_ part: Substring) -> Int? {
            part.count <= 2 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) ? Int(part) : nil
        }
        guard let index = parts.firstIndex(where: { number($0) != nil }), let major = number(parts[index]) else {
            return nil
        }
        let next = parts.index(after: index)
        self.init(major: major, minor: next < parts.endIndex ? number(parts[next]) ?? 0 : 0)
    }

    package static func < (left: Self, right: Self) -> Bool {
        (left.major, left.minor) < (right.major, right.minor)
    }

    /// Whether a call sends `temperature` and `top_p` (models before Opus 4.7 do).
    package var takesSamplingParameters: Bool { self < Self.adaptiveOnly }

    /// `output_config.effort` for a workflow's reasoning effort on a model that thinks only adaptively (4.7 and
    /// later): `low`, `medium`, `high` and `xhigh` as they are; `nil` on an older model (which is sent a thinking
    /// budget) or for no thinking (`minimal`, none).
    package func adaptiveEffort(_ reasoningEffort: String?) -> String? {
        guard self >= Self.adaptiveOnly, let effort = reasoningEffort?.lowercased() else { return nil }
        return ["low", "medium", "high", "xhigh"].contains(effort) ? effort : nil
    }
}
