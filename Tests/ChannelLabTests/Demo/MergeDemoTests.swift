import ChannelLab
import Testing

/// Goal: the README's main command (the demo) converges, verifies its evidence and its proof.
@Suite struct MergeDemoTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func demoConvergesWithVerifiedEvidenceAndProof(seed: UInt64) {
        let report = MergeDemo.run(seed: seed, replicaCount: 3, ops: 200)
        #expect(report.converged)
        #expect(report.evidenceVerified)
        #expect(report.proofVerified)
        #expect(report.operations >= 200)
    }
}
