import ChannelCore
@testable import ChannelLab
import Testing

/// Goal: a coordinator naming a previous certificate nobody holds gets no honest signature,
/// and the signing-rule check reports any honest signature on such a checkpoint.
/// Method: the bundled `byz-inflate-previous` on three seeds (no certificate of 3's ever forms,
/// nobody is slashed); then the check itself, fed a certificate naming a version never
/// certified, with an honest signer and with Byzantine signers only.
@Suite struct InflatePreviousTests {
    @Test(arguments: [72, 2, 3] as [UInt64])
    func honestSignersRefuseAnInflatedPrevious(seed: UInt64) throws {
        let report = ScenarioRunner.run(try SettlementCheckerTests.scenario("byz-inflate-previous"), seed: seed)
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        #expect(!report.checkpoints.contains { $0.coordinator == 3 })
        #expect(report.checkpoints.count >= 5, "the others' rounds certify")
    }

    @Test func anHonestSignatureOnANeverCertifiedPreviousIsReported() throws {
        let scenario = try SettlementCheckerTests.scenario("byz-inflate-previous")
        let run = LabRun(scenario: scenario)
        let checkpoint = Checkpoint(channel: run.config.channel, version: 9001, stateRoot: .zero, treeSize: 0, heads: [], previous: 9000)
        let byzantineOnly = SignedCheckpoint(checkpoint: checkpoint, signatures: [checkpoint.sign(as: 3, key: run.keys[3])])
        run.judgeSigners(of: byzantineOnly)
        #expect(run.monitor.violations.isEmpty)
        let honest = SignedCheckpoint(checkpoint: checkpoint, signatures: [checkpoint.sign(as: 1, key: run.keys[1]), checkpoint.sign(as: 3, key: run.keys[3])])
        run.judgeSigners(of: honest)
        #expect(run.monitor.violations.map(\.invariant) == [.evidenceSoundness])
        #expect(run.monitor.violations.first?.nodes == [1])
        // A checkpoint naming a certified version is fine.
        let next = Checkpoint(channel: run.config.channel, version: 9002, stateRoot: .zero, treeSize: 0, heads: [], previous: 9001)
        run.judgeSigners(of: SignedCheckpoint(checkpoint: next, signatures: [next.sign(as: 1, key: run.keys[1])]))
        #expect(run.monitor.violations.count == 1)
    }
}
