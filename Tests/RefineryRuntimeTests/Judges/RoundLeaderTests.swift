import Testing

@testable import RefineryRuntime

/// The one tie rule the judge's streak and the run's winner share.
struct RoundLeaderTests {
    @Test func highestMeanLeads() {
        let leader = RoundLeader.pick(meanScores: ["a": 6, "b": 8, "c": 7], order: ["a", "b", "c"], previous: "a")
        #expect(leader == RoundLeader(id: "b", mean: 8))
    }

    @Test func aTieKeepsThePreviousLeaderThenOrder() {
        let means: [String: Double] = ["a": 8, "b": 8, "c": 5]
        #expect(RoundLeader.pick(meanScores: means, order: ["a", "b", "c"], previous: "b")?.id == "b")
        #expect(RoundLeader.pick(meanScores: means, order: ["a", "b", "c"], previous: "c")?.id == "a")
        #expect(RoundLeader.pick(meanScores: means, order: ["b", "a"], previous: nil)?.id == "b")
    }

    @Test func membersOutsideTheOrderAndUnscoredRoundsHaveNoLeader() {
        #expect(RoundLeader.pick(meanScores: [:], order: ["a"], previous: "a") == nil)
        #expect(RoundLeader.pick(meanScores: ["z": 9], order: ["a"], previous: nil) == nil)
        #expect(RoundLeader.pick(meanScores: ["z": 9, "a": 1], order: ["a"], previous: nil)?.id == "a")
    }
}
