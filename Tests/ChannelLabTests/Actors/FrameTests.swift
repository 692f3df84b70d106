import ChannelCore
import ChannelLab
import Testing

/// Goal: `frame` probes every check of the evidence verifier with forgeries that mix the
/// target's genuine parts with forged ones, and a verifier that lets one through is caught.
/// Method: the bundled `byz-frame` (nine forgeries, eight against honest participant 1 and
/// one a malformed operation of the framer's own, one a second): every slash the framer submits is refused, and the refusals name each of the
/// verifier's checks; with `trust-evidence` planted (the contract slashes unverified
/// evidence) the independent contract model and evidence soundness report it.
@Suite struct FrameTests {
    @Test(arguments: [42, 2, 3] as [UInt64])
    func everyForgeryIsRefusedForItsOwnReason(seed: UInt64) throws {
        let report = ScenarioRunner.run(try SettlementCheckerTests.scenario("byz-frame"), seed: seed)
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let slashes = report.settlement.transactions.filter { $0.kind == "slash" && $0.from == 3 }
        #expect(slashes.count >= 9)
        #expect(slashes.allSatisfy { $0.refusal != nil }, "a forgery was accepted")
        let reasons = Set(slashes.compactMap(\.refusal).map { refusal in
            ["badSignature", "differentSeq", "chainNotBroken", "predecessorsMismatch", "incompleteCausalPast", "notInvalid", "notStale", "malformedOperation"]
                .first { refusal.contains($0) } ?? refusal
        })
        #expect(reasons == ["badSignature", "differentSeq", "chainNotBroken", "predecessorsMismatch", "incompleteCausalPast", "notInvalid", "notStale", "malformedOperation"])
    }

    @Test func aContractThatTrustsEvidenceIsCaught() throws {
        let report = ScenarioRunner.run(try SettlementCheckerTests.scenario("byz-frame"), contractBugs: .trustEvidence)
        let invariants = Set(report.violations.map(\.invariant))
        #expect(invariants.isSuperset(of: [.contractModel, .evidenceSoundness]), "\(invariants)")
        #expect(report.slashed.contains(1))
    }
}
