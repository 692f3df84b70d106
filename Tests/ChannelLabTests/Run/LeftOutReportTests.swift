import ChannelCore
import ChannelLab
import Foundation
import Testing

/// Goal: whatever the final checkpoint leaves out of what honest nodes accepted is in the
/// report, by author, with its value, and nothing is listed when nothing is left out.
/// Method: the bundled scenarios for withholding into the dispute window and for a proposer
/// offline through settlement, on a few seeds; the left-out operations are recounted from the
/// run's own report fields (ids listed belong to the author named), and a busy channel settled
/// by an honest proposer leaves out nothing of what it certified.
@Suite struct LeftOutReportTests {
    static func scenario(_ name: String) throws -> Scenario { try SettlementCheckerTests.scenario(name) }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func operationsWithheldIntoTheDisputeWindowAreListed(seed: UInt64) throws {
        let report = ScenarioRunner.run(try Self.scenario("byz-withhold-into-dispute-window"), seed: seed)
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let leftOut = try #require(report.leftOutOfSettlement)
        let byzantine = try #require(leftOut.byAuthor.first { $0.author == 3 })
        #expect(!byzantine.honest)
        #expect(byzantine.operations > 5)
        #expect(byzantine.firstHeldInLiveness == 0, "released inside the window, before the liveness phase")
        #expect(byzantine.value.contains { $0.transferred != "0" })
        #expect(leftOut.operations == leftOut.byAuthor.reduce(0) { $0 + $1.operations })
        #expect(ScenarioRunner.summary(report).contains("by participant 3 (Byzantine)"))
    }

    /// The liveness phase heals the proposer's omission but does not undo it: what it made
    /// offline reaches honest nodes only then, and the report says so.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func aProposerOfflineThroughSettlementHasItsLateOperationsListed(seed: UInt64) throws {
        let report = ScenarioRunner.run(try Self.scenario("byz-offline-through-settlement"), seed: seed)
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let leftOut = try #require(report.leftOutOfSettlement)
        let byzantine = try #require(leftOut.byAuthor.first { $0.author == 3 })
        #expect(byzantine.firstHeldInLiveness > 0)
        #expect(byzantine.ids.count == min(byzantine.operations, LeftOutReport.idsMax))
    }

    @Test func anHonestFinalRoundLeavesNothingOut() throws {
        let report = ScenarioRunner.run(try Self.scenario("settle-busy-channel"))
        #expect(report.passed)
        let leftOut = try #require(report.leftOutOfSettlement)
        #expect(leftOut.operations == 0, "\(leftOut.byAuthor)")
        #expect(ScenarioRunner.run(try Self.scenario("reordering")).leftOutOfSettlement == nil, "no settlement, no report")
    }
}
