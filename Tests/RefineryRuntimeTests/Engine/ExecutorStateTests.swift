// The executor's in-place bookkeeping helpers against their plain definitions.

import RefineryProcessTuning
import Testing

@testable import RefineryRuntime

@Suite struct ExecutorStateTests {
    @Test(arguments: [0, 1, 2, 7, 50, 333])
    func permutingInPlaceGivesTheSameOrderAsCopying(count: Int) {
        var generator = SeededGenerator(seed: UInt64(count), salt: "permute")
        for _ in 0..<20 {
            let items = (0..<count).map { "item \($0)" }
            let order = Array(0..<count).shuffled(using: &generator)
            var permuted = items
            RunExecutor.permute(&permuted, by: order)
            #expect(permuted == order.map { items[$0] })
        }
    }

    @Test func labelsCountLikeSpreadsheetColumns() {
        #expect(RunExecutor.labelName(0) == "A")
        #expect(RunExecutor.labelName(25) == "Z")
        #expect(RunExecutor.labelName(26) == "AA")
        #expect(RunExecutor.labelName(27) == "AB")
        #expect(RunExecutor.labelName(26 + 26 * 26) == "AAA")
    }

}

@Suite struct CallPriorityTests {
    @Test(arguments: [
        (TaskPriority.high, TaskPriority.medium), (.userInitiated, .medium), (.medium, .low), (.low, .background),
        (.utility, .background), (.background, .background),
    ])
    func callsRunOneStepBelowTheRun(run: TaskPriority, calls: TaskPriority) {
        #expect(RunExecutor.callPriority(below: run) == calls)
    }
}

@Suite struct ProcessTuningTests {
    @Test func theHeapGrowthSettingIsAcceptedByGlibc() {
        #if canImport(Glibc)
            #expect(ProcessTuning.reserveHeapGrowth())
        #else
            #expect(!ProcessTuning.reserveHeapGrowth())
        #endif
    }
}
