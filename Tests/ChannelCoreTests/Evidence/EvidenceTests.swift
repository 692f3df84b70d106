import ChannelCore
import Testing

/// Goal: each kind of evidence verifies on its own with the one verifier, names the right
/// culprit, and refuses every altered or incomplete form; a replica builds invalid-in-causal-
/// past evidence for an overdraft its author could see, and none for a concurrent conflict.
/// Method: hand-written operations on a small channel.
@Suite struct EvidenceTests {
    @Test func anOverdraftTheAuthorCouldSeeYieldsEvidenceThatVerifiesAlone() throws {
        var channel = TestChannel()
        let a = channel.deposit(0, 100)
        let b = channel.transfer(0, to: 1, 60)
        let overdraft = channel.transfer(0, to: 2, 50)
        let replica = channel.replica()
        for op in [a, b, overdraft] { _ = replica.receive(op) }
        let evidence = replica.evidence
        #expect(evidence.count == 1)
        guard case let .invalidInCausalPast(e)? = evidence.first else {
            Issue.record("expected invalid-in-causal-past evidence, got \(evidence)")
            return
        }
        #expect(e.op.id == overdraft.id)
        #expect(Set(e.past.map(\.id)) == [a.id, b.id])
        #expect(try EvidenceVerifier.verify(.invalidInCausalPast(e), config: channel.config) == 0)
        // Incomplete, padded, valid or foreign forms are refused.
        #expect(throws: EvidenceError.incompleteCausalPast) {
            try EvidenceVerifier.verify(.invalidInCausalPast(InvalidOperationEvidence(op: overdraft, past: [a])), config: channel.config)
        }
        let unrelated = channel.deposit(1, 5)
        #expect(throws: EvidenceError.incompleteCausalPast) {
            try EvidenceVerifier.verify(.invalidInCausalPast(InvalidOperationEvidence(op: overdraft, past: [a, b, unrelated])), config: channel.config)
        }
        #expect(throws: EvidenceError.notInvalid) {
            try EvidenceVerifier.verify(.invalidInCausalPast(InvalidOperationEvidence(op: b, past: [a])), config: channel.config)
        }
        let other = TestChannel(seed: 7)
        #expect(throws: EvidenceError.wrongChannel) { try EvidenceVerifier.verify(.invalidInCausalPast(e), config: other.config) }
    }

    /// A re-signed operation whose seq does not follow the own operation it cites is refused as
    /// a broken chain, and the operation with everything it cites verifies alone; altered,
    /// incomplete, honest or foreign forms are refused.
    @Test func aBrokenChainYieldsEvidenceThatVerifiesAlone() throws {
        var channel = TestChannel()
        let a = channel.deposit(0, 100)
        let b = channel.deposit(1, 10)
        let c = channel.transfer(0, to: 1, 5, citing: [b.id])
        // seq 3 would follow c; seq 4 citing c (seq 2) skips one.
        let skip = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 4, preds: [c.id, b.id], payload: .transfer(to: 2, token: 0, amount: 1))
            .signed(by: channel.keys[0])
        let replica = channel.replica()
        for op in [a, b, c] { _ = replica.receive(op) }
        #expect(replica.receive(skip) == .rejected(.brokenAuthorChain))
        #expect(replica.graphRejection(of: skip.id) != nil)
        guard case let .brokenChain(e)? = replica.evidence.first, replica.evidence.count == 1 else {
            Issue.record("expected one broken-chain evidence, got \(replica.evidence)")
            return
        }
        #expect(Set(e.preds.map(\.id)) == [c.id, b.id])
        #expect(try EvidenceVerifier.verify(.brokenChain(e), config: channel.config) == 0)
        #expect(replica.brokenChainRefusals.map(\.id) == [skip.id])

        #expect(throws: EvidenceError.predecessorsMismatch) {
            try EvidenceVerifier.verify(.brokenChain(BrokenChainEvidence(op: skip, preds: [c])), config: channel.config)
        }
        #expect(throws: EvidenceError.predecessorsMismatch, "a cited operation swapped for another") {
            try EvidenceVerifier.verify(.brokenChain(BrokenChainEvidence(op: skip, preds: [a, b])), config: channel.config)
        }
        // An honest operation follows its chain.
        let next = channel.transfer(0, to: 1, 1, citing: [b.id])
        #expect(throws: EvidenceError.chainNotBroken) {
            try EvidenceVerifier.verify(.brokenChain(BrokenChainEvidence(op: next, preds: [c, b])), config: channel.config)
        }
        #expect(throws: EvidenceError.chainNotBroken) {
            try EvidenceVerifier.verify(.brokenChain(BrokenChainEvidence(op: a, preds: [])), config: channel.config)
        }
        // Seq 1 citing an own operation is broken too.
        let restart = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 1, preds: [a.id], payload: .transfer(to: 1, token: 0, amount: 1))
            .signed(by: channel.keys[0])
        #expect(try EvidenceVerifier.verify(.brokenChain(BrokenChainEvidence(op: restart, preds: [a])), config: channel.config) == 0)
        // Signed by someone else, or for another channel.
        let forged = SignedOperation(unsigned: skip.unsigned, signature: channel.keys[1].sign(Blake2b.hash256([1])))
        #expect(throws: EvidenceError.badSignature(forged.id)) {
            try EvidenceVerifier.verify(.brokenChain(BrokenChainEvidence(op: forged, preds: [c, b])), config: channel.config)
        }
        let other = TestChannel(seed: 7)
        #expect(throws: EvidenceError.wrongChannel) { try EvidenceVerifier.verify(.brokenChain(e), config: other.config) }
    }

    @Test func aConcurrentConflictYieldsNoEvidence() throws {
        var channel = TestChannel()
        let a = channel.deposit(0, 100)
        // Participant 0 forks: two spends of 80 at one seq; only one can apply.
        var fork = channel.chains[0]
        let left = channel.transfer(0, to: 1, 80)
        let right = fork.append(.transfer(to: 2, token: 0, amount: 80), citing: [])
        let replica = channel.replica()
        for op in [a, left, right] { _ = replica.receive(op) }
        #expect(replica.rejections.count == 1)
        #expect(replica.rejections.first?.kind == .concurrentConflict)
        #expect(replica.evidence.map(\.kind) == ["equivocation"], "the fork is evidence; the refused half is not")
    }

    /// Proposing 5 after signing a checkpoint that follows certificate 6 is stale; proposing 6
    /// (a race with the checkpoint being signed) is not.
    @Test func staleProposalEvidenceFollowsTheKPlusTwoRule() throws {
        let channel = TestChannel(participants: 4)
        let checkpoint = { (version: UInt64, previous: UInt64) in
            Checkpoint(channel: channel.config.channel, version: version, stateRoot: Blake2b.hash256([UInt8(version)]), treeSize: 1, heads: [], previous: previous)
        }
        // Participant 2 signed version 9 after holding the certificate of version 6.
        let signed7 = checkpoint(9, 6)
        let signature = channel.keys[2].sign(signed7.digest)
        let stale = Evidence.staleProposal(StaleProposalEvidence(proposer: 2, proposedVersion: 5, newer: signed7, signature: signature))
        #expect(try EvidenceVerifier.verify(stale, config: channel.config) == 2)
        let raced = Evidence.staleProposal(StaleProposalEvidence(proposer: 2, proposedVersion: 6, newer: signed7, signature: signature))
        #expect(throws: EvidenceError.notStale) { try EvidenceVerifier.verify(raced, config: channel.config) }
        let framed = Evidence.staleProposal(StaleProposalEvidence(proposer: 1, proposedVersion: 5, newer: signed7, signature: signature))
        #expect(throws: EvidenceError.badCheckpointSignature) { try EvidenceVerifier.verify(framed, config: channel.config) }

        // The contract also needs its own record of that proposal.
        var contract = SettlementContract(config: channel.config, params: SettlementParams(threshold: 1, disputeWindowBlocks: 5))
        try contract.bond(2, amount: 40)
        #expect(throws: ContractError.noSuchProposal) { _ = try contract.slash(stale) }
        let signed5 = SignedCheckpoint(checkpoint: checkpoint(5, 4), signatures: [checkpoint(5, 4).sign(as: 2, key: channel.keys[2])])
        try contract.propose(signed5, height: 3, proposer: 2)
        #expect(try contract.slash(stale) == (2, 40))
        #expect(throws: ContractError.replayedEvidence) { _ = try contract.slash(stale) }
    }
}
