// The report's charts, drawn as inline SVG from the ledger's numbers. Every text in them is escaped
// (HTMLText); marks carry classes (`bar`, `cell`) so tests and readers can count calls and reviews.

import Foundation
import RefineryRuntime

enum ReportCharts {
    /// One call as the timeline draws it.
    struct Bar {
        var lane: String
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
            svg.append(
                "<text class=\"lane\" x=\"0\" y=\"\(HTMLText.coordinate(y + 15))\">\(HTMLText.escape(lane))</text>"
                    + "<line x1=\"\(labelWidth)\" x2=\"\(labelWidth + plotWidth)\" y1=\"\(HTMLText.coordinate(y + laneHeight))\" y2=\"\(HTMLText.coordinate(y + laneHeight))\" class=\"grid\"/>"
            )
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
                "\(bar.node) · \(bar.status) · \(String(format: "%.2f", bar.end - bar.start)) s"
                + (bar.attempts > 1 ? " · \(bar.attempts) attempts" : "") + (bar.critical ? " · critical path" : "")
            svg.append(
                "<rect class=\"\(classes.joined(separator: " "))\" x=\"\(HTMLText.coordinate(x))\" y=\"\(HTMLText.coordinate(y))\" width=\"\(HTMLText.coordinate(width))\" height=\"16\"><title>\(HTMLText.escape(title))</title></rect>"
            )
            if bar.attempts > 1 {
                svg.append(
                    "<text class=\"retry\" x=\"\(HTMLText.coordinate(x + width + 2))\" y=\"\(HTMLText.coordinate(y + 12))\">↻\(bar.attempts)</text>"
                )
            }
        }
        let axisY = Double(lanes.count) * laneHeight + 20
        for tick in 0...4 {
            let x = labelWidth + Double(tick) / 4 * plotWidth
            svg.append(
                "<text class=\"axis\" x=\"\(HTMLText.coordinate(x))\" y=\"\(HTMLText.coordinate(axisY))\">\(String(format: "%.1f", span * Double(tick) / 4)) s</text>"
            )
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
            svg.append(
                "<text class=\"row\" x=\"\(HTMLText.coordinate(labelWidth - 6))\" y=\"\(HTMLText.coordinate(top + Double(index) * cell + cell / 2 + 4))\" text-anchor=\"end\">\(label)</text>"
            )
        }
        for (row, reviewer) in members.enumerated() {
            for (column, reviewed) in members.enumerated() {
                guard let score = scores[reviewer]?[reviewed] else { continue }
                let x = labelWidth + Double(column) * cell
                let y = top + Double(row) * cell
                svg.append(
                    "<rect class=\"cell\" x=\"\(HTMLText.coordinate(x))\" y=\"\(HTMLText.coordinate(y))\" width=\"\(cell - 2)\" height=\"\(cell - 2)\" fill=\"\(color(score))\"><title>\(HTMLText.escape("\(reviewer) → \(reviewed): \(format(score))"))</title></rect>"
                        + "<text class=\"score\" x=\"\(HTMLText.coordinate(x + cell / 2 - 1))\" y=\"\(HTMLText.coordinate(y + cell / 2 + 3))\" text-anchor=\"middle\">\(format(score))</text>"
                )
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
            svg.append(
                "<line class=\"grid\" x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(HTMLText.coordinate(y(score)))\" y2=\"\(HTMLText.coordinate(y(score)))\"/><text class=\"axis\" x=\"4\" y=\"\(HTMLText.coordinate(y(score) + 4))\">\(Int(score))</text>"
            )
        }
        for round in rounds {
            svg.append(
                "<text class=\"axis\" x=\"\(HTMLText.coordinate(x(round) - 8))\" y=\"\(HTMLText.coordinate(top + plotHeight + 18))\">r\(round)</text>"
            )
        }
        if let threshold {
            svg.append(
                "<line class=\"threshold\" x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(HTMLText.coordinate(y(threshold)))\" y2=\"\(HTMLText.coordinate(y(threshold)))\"><title>threshold \(format(threshold))</title></line>"
            )
        }
        for (index, entry) in series.enumerated() {
            let hue = Double(index) * 360 / Double(max(series.count, 1))
            let points = rounds.compactMap { round in
                entry.scores[round].map { "\(HTMLText.coordinate(x(round))),\(HTMLText.coordinate(y($0)))" }
            }
            svg.append(
                "<polyline class=\"series\" fill=\"none\" stroke=\"hsl(\(Int(hue)),65%,42%)\" points=\"\(points.joined(separator: " "))\"/>"
            )
            for point in points {
                let xy = point.split(separator: ",")
                svg.append(
                    "<circle r=\"3\" cx=\"\(xy[0])\" cy=\"\(xy[xy.count - 1])\" fill=\"hsl(\(Int(hue)),65%,42%)\"/>")
            }
            let legendY = top + plotHeight + 36 + Double(index) * 14
            svg.append(
                "<rect x=\"\(left)\" y=\"\(HTMLText.coordinate(legendY - 9))\" width=\"10\" height=\"10\" fill=\"hsl(\(Int(hue)),65%,42%)\"/><text class=\"axis\" x=\"\(left + 14)\" y=\"\(HTMLText.coordinate(legendY))\">\(HTMLText.escape(entry.member))</text>"
            )
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
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
