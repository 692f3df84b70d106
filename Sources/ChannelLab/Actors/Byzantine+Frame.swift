import ChannelCore

/// `frame`: forged evidence against an honest participant, one kind per action
/// (docs/byzantine.md).
extension ByzantineActor {
    /// Kinds of forged evidence `frame` cycles through.
    static let frameKinds = 9

    /// Forged evidence of one kind against `target` (an honest participant), built from what
    /// the framer holds; `nil` when it holds too little of the target yet.
    /// 0. two operations "by" the target at one seq, signed with the framer's key;
    /// 1. the target's genuine newest operation paired with a forged one at its seq;
    /// 2. two genuine operations of the target at different seqs, as an equivocation;
    /// 3. a genuine operation of the target with its genuine predecessors, as a broken chain;
    /// 4. the same with one cited operation swapped for another genuine one;
    /// 5. a genuine operation with its causal past cut short (its deposit left out, so that
    ///    replayed alone it looks like an overdraft), as invalid in its causal past;
    /// 6. a genuine operation with its whole causal past, as invalid in its causal past;
    /// 7. the target's genuine checkpoint signature, as a stale proposal of the version its
    ///    checkpoint follows (a race, not staleness, and a proposal the target never made);
    /// 8. the framer's own operation with seq 0 (which no replica accepts), validly signed, as
    ///    a broken chain: hostile evidence that must be refused, never trap a verifier.
    func frameEvidence(
        kind: Int, against target: ParticipantIndex, framer: ParticipantIndex, key: KeyPair, node: ChannelNode, replica: Replica
    ) -> Evidence? {
        let newestSeq = replica.versionVector[Int(target)]
        let newest = replica.chainOperation(author: target, seq: newestSeq).flatMap(replica.operation)
        let previous = newestSeq > 1 ? replica.chainOperation(author: target, seq: newestSeq - 1).flatMap(replica.operation) : nil
        switch kind {
        case 0:
            var a = AuthorChain(channel: config.channel, author: target, key: key)
            let b = a
            return .equivocation(EquivocationEvidence(
                a.append(.transfer(to: framer, token: 0, amount: 1)), b.peek(.transfer(to: framer, token: 0, amount: 2))))
        case 1:
            guard let newest else { return nil }
            let forged = UnsignedOperation(channel: config.channel, author: target, seq: newest.seq, preds: newest.preds, payload: .withdraw(token: 0, amount: 1))
                .signed(by: key)
            return .equivocation(EquivocationEvidence(newest, forged))
        case 2:
            guard let newest, let previous else { return nil }
            return .equivocation(EquivocationEvidence(newest, previous))
        case 3, 4:
            guard let newest else { return nil }
            var preds = newest.preds.compactMap(replica.operation)
            guard preds.count == newest.preds.count else { return nil }
            if kind == 4 {
                guard let other = replica.heads.first(where: { !newest.preds.contains($0) && $0 != newest.id }).flatMap(replica.operation), !preds.isEmpty else { return nil }
                preds[0] = other
            }
            return .brokenChain(BrokenChainEvidence(op: newest, preds: preds))
        case 5, 6:
            guard let newest else { return nil }
            var past = [SignedOperation]()
            var seen = Set<OperationID>()
            var stack = newest.preds
            while let id = stack.popLast(), past.count < 2000 {
                guard seen.insert(id).inserted, let op = replica.operation(id) else { continue }
                past.append(op)
                stack.append(contentsOf: op.preds)
            }
            if kind == 5 {
                // Leave out the target's deposits: what it spends then comes from nowhere.
                past.removeAll { $0.author == target && $0.payload.kind == .deposit }
            }
            return .invalidInCausalPast(InvalidOperationEvidence(op: newest, past: past))
        case 8:
            let zero = UnsignedOperation(channel: config.channel, author: framer, seq: 0, preds: [], payload: .withdraw(token: 0, amount: 1)).signed(by: key)
            return .brokenChain(BrokenChainEvidence(op: zero, preds: []))
        default:
            guard let held = node.duty.held, let signature = held.signatures.first(where: { $0.signer == target }) else { return nil }
            return .staleProposal(StaleProposalEvidence(
                proposer: target, proposedVersion: held.checkpoint.previous, newer: held.checkpoint, signature: signature.signature))
        }
    }

}
