// The numbers a bench table reports: a 95 % Wilson score interval for an accuracy, and the exact
// (binomial) McNemar test for two systems graded on the same items.

internal import Foundation

/// Interval estimates and paired tests for benchmark accuracies.
package enum BenchStatistics {
    /// The 95 % Wilson score interval of `correct` successes out of `total` (`0...1` when `total` is 0).
    ///
    /// Unlike the normal approximation it stays inside [0, 1] and is sensible at 0 or `total` successes.
    package static func wilson(correct: Int, total: Int, z: Double = 1.959_963_984_540_054) -> ClosedRange<Double> {
        guard total > 0 else { return 0...1 }
        let n = Double(total)
        let p = Double(min(max(correct, 0), total)) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z * ((p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()) / (1 + z2 / n)
        return max(0, centre - half)...min(1, centre + half)
    }

    /// The two-sided exact McNemar p-value for `b` items only the first system got right and `c` items only
    /// the second did: 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1 (1 when `b + c` is 0).
    package static func mcnemarExactP(b: Int, c: Int) -> Double {
        let n = max(b, 0) + max(c, 0)
        guard n > 0 else { return 1 }
        let k = min(max(b, 0), max(c, 0))
        // Sum the binomial terms in log space: n may be in the thousands.
        let logHalf = -Double(n) * log(2.0)
        var tail = 0.0
        for i in 0...k {
            tail += exp(logChoose(n, i) + logHalf)
        }
        return min(1, 2 * tail)
    }

    private static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
    }
}
