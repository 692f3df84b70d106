import ChannelCore
import ChannelLab
import Testing

/// Goal: `forge-proofs` claims with each forged variant of a genuine balance proof, the contract
/// refuses every one as `badProof`, the independent contract model agrees with each decision,
/// and the forger is still paid exactly its balance, once per token.
/// Method: the bundled `byz-forge-proofs` (two tokens, six forgeries each) on three seeds.
@Suite struct ForgeProofsTests {
    @Test(arguments: [68, 2, 3] as [UInt64])
    func everyForgedProofIsRefusedAndTheGenuineOnePaysOnce(seed: UInt64) throws {
        let report = ScenarioRunner.run(try SettlementCheckerTests.scenario("byz-forge-proofs"), seed: seed)
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let claims = report.settlement.transactions.filter { $0.kind == "claim" && $0.from == 3 }
        #expect(claims.filter { $0.refusal == nil }.count == 2, "one payout per token")
        #expect(claims.filter { $0.refusal == "badProof" }.count == 12, "\(claims.map(\.refusal))")
        #expect(!report.violations.contains { $0.invariant == .contractModel })
    }
}
