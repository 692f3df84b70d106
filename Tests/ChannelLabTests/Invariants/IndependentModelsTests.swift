import ChannelCore
@testable import ChannelLab
import Testing

/// Goal: the independent evidence and contract models agree with the system under test where
/// it is right, and the checkers built on them report it where it is wrong.
/// Method: evidence from generated operation sets (equivocations, overdrafts, broken chains),
/// genuine and corrupted, judged by the model and by the system's verifier, which must agree;
/// then the five planted contract bugs, each run at the fuzz seed that first finds it
/// (docs/fuzzing.md), must show a `contract-model` disagreement, and the seed must be clean
/// without the plant.
@Suite struct IndependentModelsTests {
    /// Corruptions of a genuine piece of evidence, each a forgery or a mistake a verifier must
    /// refuse (or, where it still proves something, agree on).
    static func corruptions(of evidence: Evidence, config: ChannelConfig) -> [Evidence] {
        switch evidence {
        case let .equivocation(pair):
            let stolen = SignedOperation(unsigned: pair.second.unsigned, signature: pair.first.signature)
            return [.equivocation(EquivocationEvidence(pair.first, stolen)), .equivocation(EquivocationEvidence(pair.first, pair.first))]
        case let .brokenChain(e):
            return [.brokenChain(BrokenChainEvidence(op: e.op, preds: Array(e.preds.dropLast()))),
                    .brokenChain(BrokenChainEvidence(op: SignedOperation(unsigned: e.op.unsigned, signature: e.preds.first?.signature ?? e.op.signature), preds: e.preds))]
        case let .invalidInCausalPast(e):
            var out = [Evidence.invalidInCausalPast(InvalidOperationEvidence(op: e.op, past: Array(e.past.dropFirst())))]
            if let first = e.past.first { out.append(.invalidInCausalPast(InvalidOperationEvidence(op: first, past: e.past))) }
            return out
        case .staleProposal:
            return []
        }
    }

    @Test func theEvidenceModelAgreesWithTheVerifierOnGenuineAndCorruptedEvidence() {
        var judged = (genuine: 0, corrupted: 0, kinds: Set<String>())
        for seed: UInt64 in 1...30 {
            let spec = OpSetSpec(
                participants: 5, byzantine: [3, 4], ops: 90, equivocationPerMille: 200, overdraftPerMille: 200, brokenChainPerMille: 100, rejectedFanInPerMille: 0)
            let channel = OpSetGenerator.generate(spec, seed: seed)
            let replica = Replica(config: channel.config)
            for op in channel.ops { _ = replica.receive(op) }
            let model = EvidenceModel(config: channel.config)
            for evidence in replica.evidence {
                judged.genuine += 1
                judged.kinds.insert(evidence.kind)
                #expect(model.verdict(evidence) == .proves(evidence.culprit), "seed \(seed): \(evidence)")
                for corrupted in Self.corruptions(of: evidence, config: channel.config) {
                    judged.corrupted += 1
                    let system = (try? EvidenceVerifier.verify(corrupted, config: channel.config)).map { EvidenceModel.Verdict.proves($0) }
                    let mine = model.verdict(corrupted)
                    if case .proves = mine {
                        #expect(system == mine, "seed \(seed): the model proves \(corrupted), the verifier does not")
                    } else {
                        #expect(system == nil, "seed \(seed): the verifier proves \(corrupted), the model refutes it: \(mine)")
                    }
                }
            }
        }
        #expect(judged.kinds == ["equivocation", "invalid-in-causal-past", "broken-chain"])
        #expect(judged.genuine > 50 && judged.corrupted > 100)
    }

    /// Stale-proposal evidence follows the k+2 rule in the model too.
    @Test func theEvidenceModelJudgesStaleProposals() {
        let channel = OpSetGenerator.makeChannel(seed: 5, participants: 4, tokens: [0])
        let newer = Checkpoint(channel: channel.config.channel, version: 9, stateRoot: Blake2b.hash256([9]), treeSize: 1, heads: [], previous: 6)
        let signature = channel.keys[2].sign(newer.digest)
        let model = EvidenceModel(config: channel.config)
        #expect(EvidenceModel.digest(newer) == newer.digest)
        #expect(model.verdict(.staleProposal(StaleProposalEvidence(proposer: 2, proposedVersion: 5, newer: newer, signature: signature))) == .proves(2))
        #expect(model.verdict(.staleProposal(StaleProposalEvidence(proposer: 2, proposedVersion: 6, newer: newer, signature: signature))) != .proves(2))
        #expect(model.verdict(.staleProposal(StaleProposalEvidence(proposer: 1, proposedVersion: 5, newer: newer, signature: signature))) != .proves(1))
    }

    @Test(arguments: [("finalize-early", 202), ("accept-older-challenge", 190), ("pay-twice", 106), ("trust-evidence", 12), ("short-compensation", 18)] as [(String, UInt64)])
    func theContractModelDisagreesWithEachPlantedContractBug(plant: String, seed: UInt64) {
        let planted = Campaign.run(seed: seed, plants: [plant]).result
        #expect(planted.invariants.contains("contract-model"), "\(plant) at seed \(seed): \(planted.invariants)")
        let clean = Campaign.run(seed: seed, plants: []).result
        #expect(clean.passed, "seed \(seed) without \(plant): \(clean.detail)")
    }
}
