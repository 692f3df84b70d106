import ChannelCore
import Testing

/// Goal: the hash graph accepts only verified, causally complete operations, buffers the rest
/// within a bound, is idempotent, enforces author chains and keeps equivocations with evidence.
@Suite struct OpGraphTests {
    @Test func duplicatesAreIdempotent() {
        var channel = TestChannel()
        let op = channel.deposit(0, 100)
        let replica = channel.replica()
        #expect(replica.receive(op) == .accepted([op.id]))
        let root = replica.stateRoot
        #expect(replica.receive(op) == .duplicate)
        #expect(replica.receive(wireBytes: op.wireBytes) == .duplicate)
        #expect(replica.stateRoot == root)
        #expect(replica.operationCount == 1)
    }

    @Test func operationsWithMissingPredecessorsWaitAndAreReleasedInCausalOrder() {
        var channel = TestChannel()
        let a = channel.deposit(0, 100)
        let b = channel.transfer(0, to: 1, 10)
        let c = channel.transfer(1, to: 2, 5, citing: [b.id])
        let replica = channel.replica()
        #expect(replica.receive(c) == .buffered(missing: 1))
        #expect(replica.receive(b) == .buffered(missing: 1))
        #expect(replica.pendingCount == 2)
        #expect(replica.missingPredecessors == [a.id])
        #expect(replica.receive(a) == .accepted([a.id, b.id, c.id]))
        #expect(replica.pendingCount == 0)
        #expect(replica.heads == [c.id])
        #expect(replica.depth(of: c.id) == 3)
        #expect(replica.account(2, 0).balance == 5)
    }

    @Test func thePendingBufferIsBoundedWithAClearRejection() {
        var channel = TestChannel()
        let root = channel.deposit(0, 100)
        var waiting = [SignedOperation]()
        for _ in 0..<5 { waiting.append(channel.transfer(0, to: 1, 1)) }
        let replica = channel.replica(limits: ReplicaLimits(pendingOpsMax: 3))
        #expect(replica.receive(waiting[4]) == .buffered(missing: 1))
        #expect(replica.receive(waiting[3]) == .buffered(missing: 1))
        #expect(replica.receive(waiting[2]) == .buffered(missing: 1))
        #expect(replica.receive(waiting[1]) == .rejected(.pendingBufferFull(limit: 3)))
        #expect(replica.pendingCount == 3)
        #expect(replica.receive(root) == .accepted([root.id]))
        #expect(replica.receive(waiting[0]) == .accepted([waiting[0].id]))
        // Sync offers the dropped one again; everything then drains.
        #expect(replica.receive(waiting[1]) == .accepted([waiting[1].id, waiting[2].id, waiting[3].id, waiting[4].id]))
        #expect(replica.pendingCount == 0)
    }

    @Test func badSignatureWrongChannelAndUnknownAuthorAreDroppedWithoutRecord() {
        var channel = TestChannel()
        let op = channel.deposit(0, 100)
        let replica = channel.replica()
        var forged = op.signature.bytes
        forged[5] ^= 0x20
        #expect(replica.receive(SignedOperation(unsigned: op.unsigned, signature: Signature(bytes: forged)!)) == .rejected(.badSignature))
        // Signed by participant 1's key while claiming author 0.
        #expect(replica.receive(op.unsigned.signed(by: channel.keys[1])) == .rejected(.badSignature))
        var other = TestChannel(seed: 100)
        #expect(replica.receive(other.deposit(0, 5)) == .rejected(.wrongChannel))
        let stranger = UnsignedOperation(channel: channel.config.channel, author: 9, seq: 1, preds: [], payload: .withdraw(token: 0, amount: 1))
        #expect(replica.receive(stranger.signed(by: channel.keys[0])) == .rejected(.unknownAuthor(9)))
        #expect(replica.receive(wireBytes: [1, 2, 3]) == .rejected(.malformed(.truncated(field: "channel", offset: 1))))
        #expect(replica.rejections.isEmpty)
        #expect(replica.operationCount == 0)
    }

    /// Goal: a signature binds the channel, so what a participant signed in another channel
    /// with the same key cannot be replayed here; with the planted bug
    /// `sign-without-channel-id` the replay verifies. Method: sign a transfer in a sibling
    /// channel, relabel it with this channel's id, offer it to a correct and a planted replica.
    @Test func crossChannelReplaysVerifyOnlyWhenTheChannelIsLeftOutOfTheSignature() throws {
        var channel = TestChannel()
        let sibling = Blake2b.hash256(Array("a sibling channel".utf8))
        func replayed(_ unsigned: UnsignedOperation, _ scope: SignatureScope) -> SignedOperation {
            var there = unsigned
            there.channel = sibling
            let signed = there.signed(by: channel.keys[0], scope: scope)
            var here = signed.unsigned
            here.channel = channel.config.channel
            return SignedOperation(unsigned: here, signature: signed.signature)
        }
        let deposit = channel.deposit(0, 100)
        let pay = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 2, preds: [deposit.id], payload: .transfer(to: 1, token: 0, amount: 40))

        let correct = channel.replica()
        #expect(correct.receive(deposit) == .accepted([deposit.id]))
        #expect(correct.receive(replayed(pay, .channelBound)) == .rejected(.badSignature))
        // Even a signature without the channel does not verify under the rule.
        #expect(correct.receive(replayed(pay, .channelOmitted)) == .rejected(.badSignature))
        #expect(correct.account(1, 0).balance == 0)

        // Under the plant every node signs without the channel, and the replay is a valid
        // transfer of participant 0's money that 0 never made here.
        let planted = channel.replica(bugs: .signWithoutChannelID)
        let depositUnbound = deposit.unsigned.signed(by: channel.keys[0], scope: .channelOmitted)
        #expect(planted.receive(depositUnbound) == .accepted([depositUnbound.id]))
        #expect(!deposit.verifySignature(key: channel.keys[0].publicKey, scope: .channelOmitted), "the two rules sign different digests")
        let payUnbound = UnsignedOperation(
            channel: channel.config.channel, author: 0, seq: 2, preds: [depositUnbound.id], payload: .transfer(to: 1, token: 0, amount: 40))
        let replay = replayed(payUnbound, .channelOmitted)
        #expect(planted.receive(replay) == .accepted([replay.id]))
        #expect(planted.account(1, 0).balance == 40)

        // A second replayed fork at the same seq is "evidence" against honest 0 at the planted
        // replica; the one verifier (contract and checkers) refuses it.
        let fork = replayed(
            UnsignedOperation(channel: channel.config.channel, author: 0, seq: 2, preds: [depositUnbound.id], payload: .withdraw(token: 0, amount: 7)),
            .channelOmitted)
        #expect(planted.receive(fork) == .accepted([fork.id]))
        let evidence = try #require(planted.evidence.first)
        #expect(evidence.culprit == 0)
        #expect(throws: EvidenceError.self) { try EvidenceVerifier.verify(evidence, config: channel.config) }
    }

    /// Operations built in memory (not decoded) must meet the same field rules as bytes on the
    /// wire, or a Byzantine actor could inject what no decoder would let through.
    @Test func operationsThatCouldNeverBeDecodedAreRefusedAsMalformed() {
        let channel = TestChannel()
        let key = channel.keys[0]
        let id = channel.config.channel
        func signed(_ seq: UInt64, _ preds: [OperationID], _ payload: Payload) -> SignedOperation {
            UnsignedOperation(channel: id, author: 0, seq: seq, preds: preds, payload: payload).signed(by: key)
        }
        let replica = channel.replica()
        #expect(replica.receive(signed(0, [], .withdraw(token: 0, amount: 1))) == .rejected(.malformed(.seqZero)))
        #expect(replica.receive(signed(1, [], .transfer(to: 1, token: 0, amount: UInt128.max))) == .rejected(.malformed(.amountOutOfRange(field: "transfer.amount"))))
        var unsorted = UnsignedOperation(channel: id, author: 0, seq: 2, preds: [], payload: .withdraw(token: 0, amount: 1))
        unsorted.preds = [Blake2b.hash256([2]), Blake2b.hash256([1])].sorted().reversed()
        #expect(replica.receive(unsorted.signed(by: key)) == .rejected(.malformed(.predsNotCanonical(index: 1))))
        #expect(replica.rejections.isEmpty)
        #expect(replica.operationCount == 0)
    }

    /// When a buffered operation is rejected with its predecessor, nothing it waited for stays
    /// on the fetch list.
    @Test func rejectingBufferedOperationsLeavesNoMissingPredecessorsBehind() {
        var channel = TestChannel()
        let a1 = channel.deposit(0, 100)
        let fake = Blake2b.hash256([0xFA, 0xCE])
        let skip = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 3, preds: [a1.id], payload: .withdraw(token: 0, amount: 1))
            .signed(by: channel.keys[0])
        let waiting = UnsignedOperation(channel: channel.config.channel, author: 1, seq: 1, preds: [skip.id, fake], payload: .withdraw(token: 0, amount: 1))
            .signed(by: channel.keys[1])
        let replica = channel.replica()
        #expect(replica.receive(waiting) == .buffered(missing: 2))
        #expect(replica.missingPredecessors == [skip.id, fake].sorted())
        _ = replica.receive(a1)
        #expect(replica.receive(skip) == .rejected(.brokenAuthorChain))
        #expect(replica.pendingCount == 0)
        #expect(replica.missingPredecessors.isEmpty)
    }

    @Test func brokenAuthorChainsAreRecordedAsInvalidAndPoisonTheirDescendants() {
        var channel = TestChannel()
        let a1 = channel.deposit(0, 100)
        // seq 3 citing seq 1: skips a seq.
        let skip = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 3, preds: [a1.id], payload: .withdraw(token: 0, amount: 1))
            .signed(by: channel.keys[0])
        // seq 2 that does not cite its own seq 1.
        let orphan = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 2, preds: [], payload: .withdraw(token: 0, amount: 1))
            .signed(by: channel.keys[0])
        let child = UnsignedOperation(channel: channel.config.channel, author: 1, seq: 1, preds: [skip.id], payload: .withdraw(token: 0, amount: 1))
            .signed(by: channel.keys[1])
        let replica = channel.replica()
        #expect(replica.receive(child) == .buffered(missing: 1))
        #expect(replica.receive(a1) == .accepted([a1.id]))
        #expect(replica.receive(skip) == .rejected(.brokenAuthorChain))
        #expect(replica.receive(orphan) == .rejected(.brokenAuthorChain))
        let records = replica.rejections
        #expect(records.count == 3)
        #expect(records.allSatisfy { $0.kind == .invalidInCausalPast })
        #expect(records.contains { $0.id == child.id && $0.reason == .graph(.predecessorRejected(skip.id)) })
        #expect(replica.pendingCount == 0)
    }

    @Test func equivocationsStayInTheGraphAndYieldEvidenceThatVerifiesAlone() throws {
        var channel = TestChannel()
        let a1 = channel.deposit(0, 100)
        let left = channel.chains[0].peek(.transfer(to: 1, token: 0, amount: 100))
        let right = channel.chains[0].peek(.transfer(to: 2, token: 0, amount: 100))
        let replica = channel.replica()
        for op in [a1, left, right] { _ = replica.receive(op) }
        #expect(replica.operationCount == 3)
        #expect(replica.heads == [left.id, right.id].sorted())
        let evidence = replica.evidence
        #expect(evidence.count == 1)
        let culprit = try EvidenceVerifier.verify(try #require(evidence.first), config: channel.config)
        #expect(culprit == 0)
        // Exactly one half of the double spend applies; the other is a concurrent conflict.
        let conflicts = replica.rejections.filter { $0.kind == .concurrentConflict }
        #expect(conflicts.count == 1)
        #expect(replica.account(1, 0).balance + replica.account(2, 0).balance == 100)
    }

    @Test func tamperedEvidenceDoesNotVerify() throws {
        var channel = TestChannel()
        let a1 = channel.deposit(0, 100)
        let left = channel.chains[0].peek(.withdraw(token: 0, amount: 1))
        let right = channel.chains[0].peek(.withdraw(token: 0, amount: 2))
        let later = channel.transfer(1, to: 0, 1)
        let good = EquivocationEvidence(left, right)
        #expect(try EvidenceVerifier.verify(.equivocation(good), config: channel.config) == 0)
        #expect(throws: EvidenceError.sameOperation) { try EvidenceVerifier.verify(.equivocation(EquivocationEvidence(left, left)), config: channel.config) }
        #expect(throws: EvidenceError.differentSeq) { try EvidenceVerifier.verify(.equivocation(EquivocationEvidence(a1, left)), config: channel.config) }
        #expect(throws: EvidenceError.differentAuthors) { try EvidenceVerifier.verify(.equivocation(EquivocationEvidence(left, later)), config: channel.config) }
        let forged = SignedOperation(unsigned: right.unsigned, signature: left.signature)
        #expect(throws: EvidenceError.badSignature(forged.id)) { try EvidenceVerifier.verify(.equivocation(EquivocationEvidence(left, forged)), config: channel.config) }
        let other = TestChannel(seed: 5)
        #expect(throws: EvidenceError.wrongChannel) { try EvidenceVerifier.verify(.equivocation(good), config: other.config) }
    }
}
