// The charts of the batch and bench pages: a histogram of a per-item quantity (cost, latency) and
// the accuracy-against-cost scatter of a bench's systems. Marks carry classes and counts (`hbar` with
// `data-count`, `point`, `ci`) so tests and readers can check them against the ledger.

import Foundation
import RefineryCompiler

extension ReportCharts {
    /// A histogram of `values`: up to 20 equal-width bins from the smallest to the largest value, one
    /// `hbar` per bin (empty bins included) whose `data-count` is the number of values in it.
    static func histogram(_ values: [Double], label: String, format: (Double) -> String) -> String {
        guard let low = values.min(), let high = values.max() else {
            return "<p class=\"note\">No finished item yet.</p>"
        }
        let binCount = high > low ? min(20, max(1, Int(Double(values.count).squareRoot().rounded(.up)))) : 1
        let binWidth = (high - low) / Double(binCount)
        var counts = [Int](repeating: 0, count: binCount)
        for value in values {
            let index = binWidth > 0 ? Int((value - low) / binWidth) : 0
            counts[min(max(index, 0), binCount - 1)] += 1
        }
        let left = 56.0
        let plotWidth = 640.0
        let plotHeight = 160.0
        let top = 10.0
        let tallest = Double(counts.max() ?? 1)
        let slot = plotWidth / Double(binCount)
        var svg = [
            "<svg class=\"chart histogram\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(left + plotWidth + 60)) \(Int(top + plotHeight + 40))\" width=\"760\" role=\"img\" aria-label=\"\(HTMLText.escape(label))\">"
        ]
        svg.append(line("axisline", x1: left, x2: left + plotWidth, y1: top + plotHeight, y2: top + plotHeight))
        svg.append(text("axis", x: 4, y: top + 10, "\(Int(tallest)) item\(tallest == 1 ? "" : "s")"))
        svg.append(text("axis", x: 4, y: top + plotHeight, "0"))
        for (index, count) in counts.enumerated() {
            let start = low + Double(index) * binWidth
            let height = Double(count) / tallest * plotHeight
            let title =
                binCount == 1
                ? "\(format(low)): \(count) item\(count == 1 ? "" : "s")"
                : "\(format(start)) – \(format(start + binWidth)): \(count) item\(count == 1 ? "" : "s")"
            svg.append(
                HTMLText.element(
                    "rect",
                    [
                        "class": "hbar", "data-count": String(count),
                        "x": HTMLText.coordinate(left + Double(index) * slot + 1),
                        "y": HTMLText.coordinate(top + plotHeight - height),
                        "width": HTMLText.coordinate(max(slot - 2, 1)), "height": HTMLText.coordinate(height),
                    ], "<title>\(HTMLText.escape(title))</title>"))
        }
        svg.append(text("axis", x: left, y: top + plotHeight + 16, HTMLText.escape(format(low))))
        svg.append(
            HTMLText.element(
                "text",
                [
                    "class": "axis", "x": HTMLText.coordinate(left + plotWidth),
                    "y": HTMLText.coordinate(top + plotHeight + 16), "text-anchor": "end",
                ], HTMLText.escape(format(binCount == 1 ? low : high))))
        svg.append(
            text("axis", x: left + plotWidth / 2 - 30, y: top + plotHeight + 34, HTMLText.escape(label)))
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// One system of the accuracy-against-cost scatter.
    struct SystemPoint {
        var name: String
        /// Mean cost per graded item in dollars.
        var costPerItem: Double
        var accuracy: Double
        /// The 95 % interval of the accuracy.
        var low: Double
        var high: Double
        var correct: Int
        var total: Int
    }

    /// Accuracy (0–100 %) against mean cost per item, one `point` per system with its 95 % interval as
    /// a vertical `ci` bar.
    static func scatter(_ points: [SystemPoint]) -> String {
        let left = 60.0
        let plotWidth = 600.0
        let plotHeight = 260.0
        let top = 12.0
        let labelWidth = 240.0
        let maxCost = points.map(\.costPerItem).max() ?? 0
        let costSpan = maxCost > 0 ? maxCost * 1.15 : 1
        func x(_ cost: Double) -> Double { left + 10 + cost / costSpan * (plotWidth - 10) }
        func y(_ accuracy: Double) -> Double { top + (1 - min(max(accuracy, 0), 1)) * plotHeight }
        var svg = [
            "<svg class=\"chart scatter\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(left + plotWidth + labelWidth)) \(Int(top + plotHeight + 44))\" width=\"900\" role=\"img\" aria-label=\"accuracy against cost per system\">"
        ]
        for tick in 0...4 {
            let accuracy = Double(tick) / 4
            svg.append(line("grid", x1: left, x2: left + plotWidth, y1: y(accuracy), y2: y(accuracy)))
            svg.append(text("axis", x: 8, y: y(accuracy) + 4, "\(tick * 25) %"))
            let cost = costSpan * Double(tick) / 4
            svg.append(text("axis", x: x(cost) - 20, y: top + plotHeight + 18, HTMLText.escape(dollars(cost))))
        }
        svg.append(line("axisline", x1: left, x2: left, y1: top, y2: top + plotHeight))
        svg.append(
            text("axis", x: left + plotWidth / 2 - 50, y: top + plotHeight + 36, "mean cost per item (USD)"))
        for (index, point) in points.enumerated() {
            let hue = Double(index) * 360 / Double(max(points.count, 1))
            let color = "hsl(\(Int(hue)),65%,40%)"
            let px = x(point.costPerItem)
            let title =
                "\(point.name): \(String(format: "%.1f", point.accuracy * 100)) % (\(point.correct)/\(point.total)), "
                + "95 % interval \(String(format: "%.1f", point.low * 100))–\(String(format: "%.1f", point.high * 100)) %, "
                + "\(dollars(point.costPerItem)) per item"
            svg.append(
                HTMLText.element(
                    "line",
                    [
                        "class": "ci", "x1": HTMLText.coordinate(px), "x2": HTMLText.coordinate(px),
                        "y1": HTMLText.coordinate(y(point.low)), "y2": HTMLText.coordinate(y(point.high)),
                        "stroke": color,
                    ], "<title>\(HTMLText.escape(title))</title>"))
            for end in [point.low, point.high] {
                svg.append(
                    HTMLText.element(
                        "line",
                        [
                            "class": "cap", "x1": HTMLText.coordinate(px - 4), "x2": HTMLText.coordinate(px + 4),
                            "y1": HTMLText.coordinate(y(end)), "y2": HTMLText.coordinate(y(end)), "stroke": color,
                        ]))
            }
            svg.append(
                HTMLText.element(
                    "circle",
                    [
                        "class": "point", "r": "5", "cx": HTMLText.coordinate(px),
                        "cy": HTMLText.coordinate(y(point.accuracy)), "fill": color,
                    ], "<title>\(HTMLText.escape(title))</title>"))
            svg.append(
                HTMLText.element(
                    "text",
                    [
                        "class": "label", "x": HTMLText.coordinate(px + 8),
                        "y": HTMLText.coordinate(y(point.accuracy) + 4), "fill": color,
                    ], HTMLText.escape(point.name)))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// Dollars with enough digits for sub-cent per-item costs.
    static func dollars(_ value: Double) -> String {
        DollarText.text(value)
    }
}
