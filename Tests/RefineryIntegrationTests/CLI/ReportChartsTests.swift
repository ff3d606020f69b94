// The report's SVG charts drawn from hand-made data.

import Foundation
import Testing

@testable import Refinery

@Suite struct ReportChartsTests {
    /// The axis labels of a call timeline, in order.
    private func axisLabels(_ svg: String) -> [String] {
        svg.matches(of: /<text class="axis"[^>]*>([^<]*)<\/text>/).map { String($0.output.1) }
    }

    /// Every tick of the timeline's time axis reads its own time: a run of 0.31 s read
    /// `0.0 s 0.1 s 0.2 s 0.2 s 0.3 s` (one decimal for ticks 0.0775 s apart).
    @Test(arguments: [0.31, 0.0042, 2.7, 93.0])
    func timelineTicksAreDistinctAndTrue(span: Double) {
        let bar = ReportCharts.Bar(
            lane: "a", caller: "a", node: "s0.propose[a]", start: 0, end: span, status: "succeeded", attempts: 1,
            critical: false)
        let labels = axisLabels(ReportCharts.timeline(lanes: ["a"], bars: [bar]))
        #expect(labels.count == 5)
        #expect(Set(labels).count == 5, "\(labels)")
        for (tick, label) in labels.enumerated() {
            let value = Double(label.replacingOccurrences(of: " s", with: "")) ?? -1
            #expect(abs(value - span * Double(tick) / 4) <= span / 40, "\(labels)")
        }
    }
}
