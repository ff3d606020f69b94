// A tiny timing harness: run a body N times on a ContinuousClock, report median and p95.

/// One timed operation.
struct Benchmark: Sendable {
    var name: String
    var iterations: Int
    /// Milliseconds the median must stay under, if the benchmark has a budget.
    var budgetMilliseconds: Double?
    var body: @Sendable () throws -> Void

    /// Runs the body (after a few warm-up runs) and returns the sorted durations in milliseconds.
    func measure() throws -> [Double] {
        for _ in 0..<min(3, iterations) { try body() }
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let elapsed = try clock.measure { try body() }
            samples.append(Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        return samples.sorted()
    }
}

/// A named group of benchmarks, selected on the command line (`RefineryBenchmarks compile`).
struct BenchmarkSection: Sendable {
    var name: String
    var summary: String
    var benchmarks: @Sendable (_ iterations: Int) throws -> [Benchmark]
}

/// The value at `fraction` (0...1) of sorted `samples`.
func percentile(_ samples: [Double], _ fraction: Double) -> Double {
    guard !samples.isEmpty else { return 0 }
    let index = Int((Double(samples.count - 1) * fraction).rounded())
    return samples[min(max(index, 0), samples.count - 1)]
}

func formatMilliseconds(_ value: Double) -> String {
    let scaled = Int((value * 1_000).rounded())
    let fraction = String(scaled % 1_000)
    return "\(scaled / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) ms"
}
