import ChannelCore
@testable import ChannelLab
import Testing

/// Goal: operations citing sixteen predecessors, the most the format allows, are accepted by
/// every honest node, and the lab checks that they are.
/// Method: the bundled `byz-mutate-max-preds` on three seeds, reading the run's nodes.
@Suite struct MaxPredsTests {
    @Test(arguments: [73, 2, 3] as [UInt64])
    func operationsWithSixteenPredecessorsAreAcceptedEverywhere(seed: UInt64) throws {
        let run = LabRun(scenario: try SettlementCheckerTests.scenario("byz-mutate-max-preds"), seed: seed)
        let report = run.run()
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        #expect(run.validAtLimits.count >= 5)
        for id in run.validAtLimits {
            for node in run.nodes where run.honest.contains(Int(node.index)) {
                let op = node.replica?.operation(id)
                #expect(op?.preds.count == WireLimits.predsMax, "node \(node.index) lacks \(id.short)")
            }
        }
    }
}
