import Refinery
import RefineryTestSupport
import Testing

@Suite struct ProgressThrottleTests {
    @Test func drawsAtMostOncePerIntervalExceptMilestones() {
        let clock = TestClock()
        var throttle = ProgressThrottle(clock: clock, interval: .milliseconds(100))
        var drawn: [Bool] = []
        drawn.append(throttle.shouldDraw())  // first change: drawn
        clock.advance(by: .milliseconds(30))
        drawn.append(throttle.shouldDraw())  // 30 ms later: skipped
        clock.advance(by: .milliseconds(69))
        drawn.append(throttle.shouldDraw())  // 99 ms after the last draw: skipped
        clock.advance(by: .milliseconds(1))
        drawn.append(throttle.shouldDraw())  // 100 ms: drawn
        clock.advance(by: .milliseconds(10))
        drawn.append(throttle.shouldDraw(milestone: true))  // the final count of a round: always drawn
        clock.advance(by: .milliseconds(10))
        drawn.append(throttle.shouldDraw())  // the interval restarts at the milestone: skipped
        #expect(drawn == [true, false, false, true, true, false])
    }

    @Test func aBurstOfChangesDrawsOncePerInterval() {
        let clock = TestClock()
        var throttle = ProgressThrottle(clock: clock)
        var draws = 0
        for _ in 0..<1000 {
            if throttle.shouldDraw() { draws += 1 }
            clock.advance(by: .milliseconds(1))
        }
        #expect(draws == 10)
    }
}
