// The report's charts, drawn as inline SVG from the ledger's numbers. Every text in them is escaped
// (HTMLText); marks carry classes (`bar`, `cell`) so tests and readers can count calls and reviews.

import Foundation
import RefineryRuntime

enum ReportCharts {
    /// One call as the timeline draws it.
    struct Bar {
        var lane: String
        /// Who made the call: the participant and the model that served it (a fallback named as one).
        var caller: String
        var node: String
        var start: Double
        var end: Double
        var status: String
        var attempts: Int
        var critical: Bool
    }

    /// The call timeline: one lane per participant, a bar per call from start to end. Failed calls are
    /// red, retried ones (attempts > 1) hatched with a dot, the critical path outlined.
    static func timeline(lanes: [String], bars: [Bar]) -> String {
        let labelWidth = 150.0
        let plotWidth = 880.0
        let laneHeight = 22.0
        let span = max(bars.map(\.end).max() ?? 0, 0.001)
        let height = Double(lanes.count) * laneHeight + 30
        var svg = [
            "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(labelWidth + plotWidth + 40)) \(Int(height))\" role=\"img\" aria-label=\"call timeline\">"
        ]
        for (index, lane) in lanes.enumerated() {
            let y = Double(index) * laneHeight
            svg.append(text("lane", x: 0, y: y + 15, HTMLText.escape(lane)))
            svg.append(line("grid", x1: labelWidth, x2: labelWidth + plotWidth, y1: y + laneHeight, y2: y + laneHeight))
        }
        for bar in bars {
            guard let laneIndex = lanes.firstIndex(of: bar.lane) else { continue }
            let x = labelWidth + bar.start / span * plotWidth
            let width = max((bar.end - bar.start) / span * plotWidth, 1.5)
            let y = Double(laneIndex) * laneHeight + 3
            var classes = ["bar", bar.status == "succeeded" || bar.status == "replayed" ? "ok" : "failed"]
            if bar.attempts > 1 { classes.append("retried") }
            if bar.critical { classes.append("critical") }
            let title =
                "\(bar.caller) · \(bar.node) · \(bar.status) · \(String(format: "%.2f", bar.end - bar.start)) s"
                + (bar.attempts > 1 ? " · \(bar.attempts) attempts" : "") + (bar.critical ? " · critical path" : "")
            svg.append(
                rect(classes.joined(separator: " "), x: x, y: y, width: width, height: 16, title: title))
            if bar.attempts > 1 {
                svg.append(text("retry", x: x + width + 2, y: y + 12, "↻\(bar.attempts)"))
            }
        }
        let axisY = Double(lanes.count) * laneHeight + 20
        // Two significant digits of the step between ticks: a run of 0.31 s read "0.2 s" at two ticks.
        let decimals = max(1, Int((-log10(span / 4)).rounded(.up)) + 1)
        for tick in 0...4 {
            let x = labelWidth + Double(tick) / 4 * plotWidth
            svg.append(text("axis", x: x, y: axisY, String(format: "%.\(decimals)f s", span * Double(tick) / 4)))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// A reviewer × reviewed matrix of scores (1-10), one `cell` per review.
    static func heatmap(members: [String], names: [String: String], scores: [String: [String: Double]]) -> String {
        let cell = 34.0
        let labelWidth = 220.0
        let top = 130.0
        let width = labelWidth + Double(members.count) * cell + 110  // room for the last slanted head
        let height = top + Double(members.count) * cell + 10
        var svg = [
            "<svg class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(min(width, 1100)))\" role=\"img\" aria-label=\"score matrix\">",
            "<text class=\"axis\" x=\"0\" y=\"12\">reviewer ↓ · reviewed →</text>",
        ]
        for (index, member) in members.enumerated() {
            let label = HTMLText.escape(names[member] ?? member)
            // Column heads are the short member ids, slanted; the rows carry the full names.
            let head = HTMLText.escape(member.count > 22 ? member.prefix(21) + "…" : member)
            let x = labelWidth + Double(index) * cell + cell / 2
            svg.append(
                "<text class=\"col\" transform=\"translate(\(HTMLText.coordinate(x)) \(HTMLText.coordinate(top - 4))) rotate(-45)\">\(head)</text>"
            )
            let rowY = HTMLText.coordinate(top + Double(index) * cell + cell / 2 + 4)
            svg.append(
                HTMLText.element(
                    "text",
                    ["class": "row", "x": HTMLText.coordinate(labelWidth - 6), "y": rowY, "text-anchor": "end"], label))
        }
        for (row, reviewer) in members.enumerated() {
            for (column, reviewed) in members.enumerated() {
                guard let score = scores[reviewer]?[reviewed] else { continue }
                let x = labelWidth + Double(column) * cell
                let y = top + Double(row) * cell
                svg.append(
                    rect(
                        "cell", x: x, y: y, width: cell - 2, height: cell - 2, fill: color(score),
                        title: "\(reviewer) → \(reviewed): \(format(score))"))
                svg.append(text("score", x: x + cell / 2 - 1, y: y + cell / 2 + 3, format(score)))
            }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// Mean score per member across rounds, with the convergence threshold as a dashed line.
    static func meanScores(rounds: [Int], series: [(member: String, scores: [Int: Double])], threshold: Double?)
        -> String
    {
        let left = 40.0
        let plotWidth = 640.0
        let plotHeight = 200.0
        let top = 10.0
        let legendHeight = Double(series.count) * 14 + 10
        let height = top + plotHeight + 30 + legendHeight
        func x(_ round: Int) -> Double {
            guard let index = rounds.firstIndex(of: round), rounds.count > 1 else { return left + plotWidth / 2 }
            return left + Double(index) / Double(rounds.count - 1) * plotWidth
        }
        func y(_ score: Double) -> Double { top + (10 - min(max(score, 0), 10)) / 10 * plotHeight }
        var svg = [
            "<svg class=\"means\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(left + plotWidth + 20)) \(Int(height))\" width=\"700\" role=\"img\" aria-label=\"mean score per member\">"
        ]
        for score in stride(from: 0.0, through: 10, by: 2) {
            svg.append(line("grid", x1: left, x2: left + plotWidth, y1: y(score), y2: y(score)))
            svg.append(text("axis", x: 4, y: y(score) + 4, String(Int(score))))
        }
        for round in rounds {
            svg.append(text("axis", x: x(round) - 8, y: top + plotHeight + 18, "r\(round)"))
        }
        if let threshold {
            svg.append(
                line(
                    "threshold", x1: left, x2: left + plotWidth, y1: y(threshold), y2: y(threshold),
                    title: "threshold \(format(threshold))"))
        }
        for (index, entry) in series.enumerated() {
            let hue = Double(index) * 360 / Double(max(series.count, 1))
            let stroke = "hsl(\(Int(hue)),65%,42%)"
            let points = rounds.compactMap { round in entry.scores[round].map { (x(round), y($0)) } }
            let path = points.map { "\(HTMLText.coordinate($0.0)),\(HTMLText.coordinate($0.1))" }
            svg.append(
                HTMLText.element(
                    "polyline",
                    ["class": "series", "fill": "none", "stroke": stroke, "points": path.joined(separator: " ")]))
            for point in points {
                svg.append(
                    HTMLText.element(
                        "circle",
                        [
                            "r": "3", "cx": HTMLText.coordinate(point.0), "cy": HTMLText.coordinate(point.1),
                            "fill": stroke,
                        ]))
            }
            let legendY = top + plotHeight + 36 + Double(index) * 14
            svg.append(rect("legend", x: left, y: legendY - 9, width: 10, height: 10, fill: stroke))
            svg.append(text("axis", x: left + 14, y: legendY, HTMLText.escape(entry.member)))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    static func text(_ cssClass: String, x: Double, y: Double, _ content: String) -> String {
        HTMLText.element(
            "text", ["class": cssClass, "x": HTMLText.coordinate(x), "y": HTMLText.coordinate(y)], content)
    }

    static func line(
        _ cssClass: String, x1: Double, x2: Double, y1: Double, y2: Double, title: String? = nil
    ) -> String {
        HTMLText.element(
            "line",
            [
                "class": cssClass, "x1": HTMLText.coordinate(x1), "x2": HTMLText.coordinate(x2),
                "y1": HTMLText.coordinate(y1), "y2": HTMLText.coordinate(y2),
            ], title.map { "<title>\(HTMLText.escape($0))</title>" })
    }

    static func rect(
        _ cssClass: String, x: Double, y: Double, width: Double, height: Double, fill: String? = nil,
        title: String? = nil
    ) -> String {
        let fillAttribute = fill.map { " fill=\"\(HTMLText.escape($0))\"" } ?? ""
        let head =
            "<rect class=\"\(HTMLText.escape(cssClass))\" x=\"\(HTMLText.coordinate(x))\" y=\"\(HTMLText.coordinate(y))\""
            + " width=\"\(HTMLText.coordinate(width))\" height=\"\(HTMLText.coordinate(height))\"\(fillAttribute)"
        guard let title else { return head + "/>" }
        return head + "><title>\(HTMLText.escape(title))</title></rect>"
    }

    /// Red (1) through yellow to green (10).
    static func color(_ score: Double) -> String {
        let fraction = (min(max(score, 1), 10) - 1) / 9
        return "hsl(\(Int(fraction * 120)),70%,\(Int(75 - fraction * 15))%)"
    }

    static func format(_ score: Double) -> String {
        score == score.rounded() ? String(Int(score)) : String(format: "%.1f", score)
    }
}
