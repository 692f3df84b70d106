import ChannelCore
import ChannelLab
import Testing

/// Goal: `claim-twice` claims a compensation again after being paid, a correct contract refuses
/// it, and the independent contract model agrees.
/// Method: the bundled `byz-claim-compensation-twice` (participant 0, a victim of 4's double
/// spend and Byzantine itself, claims twice) on three seeds.
@Suite struct ClaimTwiceTests {
    @Test(arguments: [69, 2, 3] as [UInt64])
    func aSecondCompensationClaimIsRefused(seed: UInt64) throws {
        let report = ScenarioRunner.run(try SettlementCheckerTests.scenario("byz-claim-compensation-twice"), seed: seed)
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let claims = report.settlement.transactions.filter { $0.kind == "compensate" && $0.from == 0 }
        #expect(claims.filter { $0.refusal == nil }.count == 1)
        #expect(claims.contains { $0.refusal == "alreadyCompensated" })
    }
}
