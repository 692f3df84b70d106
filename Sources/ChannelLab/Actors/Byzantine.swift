import ChannelCore

/// Carries out Byzantine scripts with the participant's own node and keys: it can do anything
/// a real attacker holding those keys could. Every random choice draws from its own stream.
struct ByzantineActor {
    let config: ChannelConfig
    var rng: SeededRandom
    /// Forgeries `frame` has sent (it cycles through `frameKinds`).
    var frames = 0
    /// Non-canonical encodings sent (`invalid: non-canonical` cycles through its variants).
    var encodings = 0
    /// Rules broken (`invalid: broken-rule` cycles through them).
    var rules = 0
    /// The memory of each script's application strategy (created at its first action).
    var applicationStrategies: [ByzantineScript: any ApplicationStrategy] = [:]
    /// Every participant's key, standing for their nodes in a sibling channel (same
    /// participants, same keys): what an honest participant signs there is what `replay`
    /// carries over. The actor signs nothing here with another participant's key.
    let siblingSigners: [KeyPair]

    init(config: ChannelConfig, seed: UInt64, siblingSigners: [KeyPair]) {
        precondition(siblingSigners.count == config.participants.count, "one sibling-channel signer per participant")
        self.config = config
        self.siblingSigners = siblingSigners
        rng = SeededRandom(seed: seed, stream: "byzantine")
    }

    /// Performs one action of `script` through `node`; sends go to `out` (from the node).
    /// Returns the misbehaviour evidence must catch, if the action was attributable.
    mutating func act(_ script: ByzantineScript, node: ChannelNode, key: KeyPair, now: SimInstant, out: inout [Send]) -> Attributable? {
        guard node.up, let replica = node.replica else { return nil }
        let p = script.participant
        let peers = node.peers
        let half = peers.count / 2
        let target = ParticipantIndex(script.target ?? holders.first { $0 != p } ?? (p + 1) % config.participants.count)
        let cites = node.otherPredecessors(replica)
        switch script.strategy {
        case .equivocate:
            // Both halves spend everything its own chain holds, so each is valid wherever it
            // arrives: a double spend, not an overdraft. The half paying the target cites the
            // heads it knows, the other only its own chain, so the target's half sorts second
            // in (depth, id) and loses: what the target spent of it is tainted.
            let amount = max(Amount(1), min(node.spendable(0), node.ownFunds(0)))
            let other = ParticipantIndex(holders.first { $0 != p && $0 != Int(target) } ?? Int(target))
            // (It cites only heads authored by the peers that get it, so they can apply it at once.)
            let firstHalf = Set(peers.prefix(half))
            let leftCites = cites.filter { id in replica.operation(id).map { firstHalf.contains(Int($0.author)) } ?? false }
            let left = node.author.peek(.transfer(to: target, token: 0, amount: amount), citing: Array(leftCites))
            // With no third holder (two participants), the other half withdraws instead, or
            // the two halves could be the same operation: a duplicate, not a fork (found by
            // review: a shrunk two-participant scenario failed completeness with no plant).
            let right = node.author.peek(other == target ? .withdraw(token: 0, amount: amount) : .transfer(to: other, token: 0, amount: amount))
            node.adoptOwn(left)
            for peer in peers.prefix(half) { out.append(Send(to: peer, message: .ops([.op(left)]))) }
            for peer in peers.dropFirst(half) { out.append(Send(to: peer, message: .ops([.op(right)]))) }
            return Attributable(participant: p, kind: "equivocation", ops: [left.id, right.id])
        case .twin:
            // Run by the lab: a second full node instance with this key (see `LabRun`).
            return nil
        case .replay:
            return replay(node: node, replica: replica, victim: target, out: &out)
        case let .application(name):
            guard let kind = LabApplications.strategy(name) else { preconditionFailure("a loaded script names a registered strategy") }
            var strategy = applicationStrategies[script] ?? kind.init()
            let context = StrategyContext(config: config, node: node, replica: replica, script: script, target: target)
            let outcome = strategy.act(context, rng: &rng, out: &out)
            applicationStrategies[script] = strategy
            switch outcome {
            case let .done(act): return act
            case let .fallBack(builtIn): return invalid(builtIn, script: script, node: node, key: key, target: target, cites: Array(cites), out: &out)
            }
        case let .invalid(kind):
            return invalid(kind, script: script, node: node, key: key, target: target, cites: Array(cites), out: &out)
        case .withhold, .offline, .refuseSign, .censor, .hastyFinalize, .challengeOldest, .claimTwice, .forgeProofs, .inflatePrevious, .forgeChallenge:
            return nil
        case let .flood(count):
            var items = [WireItem]()
            for index in 0..<count {
                if index % 2 == 0 {
                    items.append(.bytes((0..<(8 + rng.index(200))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
                } else {
                    let garbage = Digest32(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next())
                    items.append(.op(node.author.peek(.transfer(to: target, token: 0, amount: 1), citing: [garbage])))
                }
            }
            for peer in peers { node.sendOps(items, to: peer, out: &out) }
            return nil
        case .staleProposal:
            guard let oldest = node.duty.oldest else { return nil }
            out.append(Send(to: node.chainAddress, message: .chainTx(.propose(oldest))))
            node.duty.proposed = oldest
            // And it pushes for finalization at once (a correct contract waits for the window).
            node.behaviour.chainSide.insert(.hastyFinalize)
            // Attributable when a certificate shows it signed after holding a newer one.
            return node.duty.stalenessProof(against: ParticipantIndex(p), proposed: oldest.checkpoint.version) != nil
                ? Attributable(participant: p, kind: "stale-proposal") : nil
        case .amnesia:
            let hadOperations = node.author.nextSeq > 1
            node.forgetEverything(at: now)
            // Its first new operation reuses sequence number 1.
            guard let fresh = node.submit(.transfer(to: target, token: 0, amount: 1)), hadOperations else { return nil }
            return Attributable(participant: p, kind: "equivocation", ops: [fresh.id])
        case .frame:
            // One forgery per action, in turn: evidence against the honest target that mixes
            // the target's genuine operations and signatures with forged parts. A correct
            // verifier refuses every one; each probes one of its checks (docs/byzantine.md).
            let forged = frameEvidence(kind: frames % Self.frameKinds, against: target, framer: ParticipantIndex(p), key: key, node: node, replica: replica)
            frames += 1
            if let forged { out.append(Send(to: node.chainAddress, message: .chainTx(.slash(forged)))) }
            return nil
        case .mutate(.maxPreds):
            let others = replica.appliedOrder.reversed().filter { id in id != node.author.last && replica.operation(id).map { $0.author != ParticipantIndex(p) } ?? false }
            guard others.count >= WireLimits.predsMax - 1, node.author.last != nil else { return nil }
            let op = node.author.peek(.withdraw(token: 0, amount: 1), citing: Array(others.prefix(WireLimits.predsMax - 1)))
            precondition(op.preds.count == WireLimits.predsMax, "sixteen predecessors")
            node.adoptOwn(op)
            for peer in peers { out.append(Send(to: peer, message: .ops([.op(op)]))) }
            return Attributable(participant: p, kind: Attributable.validAtLimit, ops: [op.id])
        case let .mutate(mutation):
            let real = node.author.peek(.transfer(to: target, token: 0, amount: 1), citing: Array(cites))
            var seq = real.seq
            var amount: Amount = 1
            var preds = real.preds
            switch mutation {
            case .seqUp: seq += 1
            case .seqDown: seq -= 1
            case .amountUp: amount = 2
            case .amountDown: amount = 0
            case .dropPredecessor:
                // A foreign predecessor (dropping its own previous one would break the chain).
                if let foreign = preds.firstIndex(where: { $0 != node.author.last }) { preds.remove(at: foreign) } else { amount = 3 }
            case .maxPreds:
                preconditionFailure("handled above")
            }
            let unsigned = UnsignedOperation(channel: config.channel, author: real.author, seq: seq, preds: preds, payload: .transfer(to: target, token: 0, amount: amount))
            guard (try? unsigned.validate()) != nil else {
                // Not even a valid encoding (amount 0): send the bytes, every receiver drops them.
                for peer in peers.prefix(half) { out.append(Send(to: peer, message: .ops([.bytes(unsigned.canonicalBytes + [UInt8](repeating: 0, count: 64))]))) }
                _ = node.submit(.transfer(to: target, token: 0, amount: 1))
                return nil
            }
            let mutated = unsigned.signed(by: key, scope: node.bugs.signatureScope)
            for peer in peers.prefix(half) { out.append(Send(to: peer, message: .ops([.op(mutated)]))) }
            // The real operation goes out too (to everyone, by gossip).
            guard let sent = node.submit(.transfer(to: target, token: 0, amount: 1)) else { return nil }
            switch mutation {
            case .seqUp, .seqDown:
                // Breaks the author chain: refused where it arrives, with broken-chain evidence.
                return Attributable(participant: p, kind: "broken-chain", ops: [mutated.id])
            default: return Attributable(participant: p, kind: "equivocation", ops: [mutated.id, sent.id])
            }
        }
    }

    /// The sibling channel's id: another channel between the same participants.
    var siblingChannel: ChannelID {
        var bytes = Array("sibling channel".utf8)
        config.channel.appendBytes(to: &bytes)
        return Blake2b.hash256(bytes)
    }

    /// `replay`: the victim's node in the sibling channel signs, with the victim's key and the
    /// run's signature rule, a transfer to the actor at the seq and predecessors of the
    /// victim's newest operation here (a sibling channel whose history mirrors this one).
    /// The actor relabels it with this channel's id and sends it to everyone. Not
    /// attributable to anyone when signatures bind the channel: it proves nothing.
    private func replay(node: ChannelNode, replica: Replica, victim: ParticipantIndex, out: inout [Send]) -> Attributable? {
        let seq = replica.versionVector[Int(victim)]
        guard seq > 0, let newest = replica.chainOperation(author: victim, seq: seq).flatMap(replica.operation) else { return nil }
        let there = UnsignedOperation(
            channel: siblingChannel, author: victim, seq: seq, preds: newest.preds,
            payload: .transfer(to: node.index, token: 0, amount: 1)
        ).signed(by: siblingSigners[Int(victim)], scope: node.bugs.signatureScope)
        var here = there.unsigned
        here.channel = config.channel
        let replayed = SignedOperation(unsigned: here, signature: there.signature)
        for peer in node.peers { out.append(Send(to: peer, message: .ops([.op(replayed)]))) }
        return nil
    }

    private var holders: [Int] {
        config.participants.filter { $0.role.permissions.contains(.holdFunds) }.map { Int($0.index) }
    }

    private mutating func invalid(
        _ kind: InvalidKind, script: ByzantineScript, node: ChannelNode, key: KeyPair, target: ParticipantIndex, cites: [OperationID],
        out: inout [Send]
    ) -> Attributable? {
        let p = script.participant
        let payload = Payload.transfer(to: target, token: 0, amount: 1)
        var item: WireItem
        switch kind {
        case .badSignature:
            var bytes = node.author.peek(payload, citing: cites).wireBytes
            bytes[bytes.count - 1] ^= 0x01
            item = .bytes(bytes)
        case .otherChannel:
            let other = Blake2b.hash256(Array("another channel".utf8) + [UInt8(truncatingIfNeeded: rng.next())])
            item = .op(AuthorChain(channel: other, author: ParticipantIndex(p), key: key, scope: node.bugs.signatureScope).peek(payload))
        case .unknownAuthor:
            let stranger = KeyPair(labSeed: rng.next(), index: 7)
            let author = ParticipantIndex(config.participants.count + 3)
            item = .op(AuthorChain(channel: config.channel, author: author, key: stranger).peek(payload))
        case .overdraft:
            let amount = node.spendable(0) + 1 + Amount(rng.below(100))
            guard let op = node.submit(.transfer(to: target, token: 0, amount: amount)) else { return nil }
            return Attributable(participant: p, kind: "invalid-in-causal-past", ops: [op.id])
        case .permission:
            guard let op = node.submit(.transfer(to: target, token: 0, amount: 1)) else { return nil }
            return Attributable(participant: p, kind: "invalid-in-causal-past", ops: [op.id])
        case .brokenRule:
            let unknownToken = (config.tokens.max() ?? 0) &+ 1
            let observer = config.participants.first { !$0.role.permissions.contains(.holdFunds) }?.index
            let payloads: [Payload] = [
                .transfer(to: target, token: unknownToken, amount: 1),
                .transfer(to: ParticipantIndex(config.participants.count + 2), token: 0, amount: 1),
                .transfer(to: ParticipantIndex(p), token: 0, amount: 1),
                .transfer(to: observer ?? ParticipantIndex(config.participants.count), token: 0, amount: 1),
                .withdraw(token: unknownToken, amount: 1),
                .lock(token: unknownToken, amount: 1, untilHeight: 1),
                .unlock(lockID: Digest32(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next())),
                // A deposit of a token the channel does not hold (its receipt is no chain's):
                // the token rule comes before the signature check (unknownToken).
                .deposit(DepositReceipt(token: unknownToken, amount: 1, nonce: rng.next(), height: 1, signature: Signature(bytes: [UInt8](repeating: 0, count: 64))!)),
            ]
            let payload = payloads[rules % payloads.count]
            rules += 1
            guard let op = node.submit(payload) else { return nil }
            return Attributable(participant: p, kind: "invalid-in-causal-past", ops: [op.id])
        case .reuseReceipt:
            // The newest deposit of its own chain, cited through the chain itself.
            let own = (1...max(1, node.author.nextSeq - 1)).reversed().lazy
                .compactMap { seq in node.replica?.chainOperation(author: ParticipantIndex(p), seq: seq).flatMap { node.replica?.operation($0) } }
                .first { if case .deposit = $0.payload { return true } else { return false } }
            guard let own, case let .deposit(receipt) = own.payload, let op = node.submit(.deposit(receipt)) else { return nil }
            return Attributable(participant: p, kind: "invalid-in-causal-past", ops: [op.id])
        case .earlyUnlock, .foreignUnlock:
            let foreign = kind == .foreignUnlock
                ? node.replica?.balances.locks.filter({ $0.value.owner != ParticipantIndex(p) }).keys.min() : nil
            let lock: OperationID
            if let foreign {
                lock = foreign
            } else {
                // One block past the greatest height any head cites: the unlock right after
                // cannot cite more, whichever heads it picks.
                let height = node.replica.map { replica in replica.heads.compactMap { replica.chainHeight(of: $0) }.max() ?? 0 } ?? 0
                guard node.spendable(0) > 0, let own = node.submit(.lock(token: 0, amount: 1, untilHeight: height + 1)) else { return nil }
                lock = own.id
            }
            guard let op = node.submit(.unlock(lockID: lock)) else { return nil }
            return Attributable(participant: p, kind: "invalid-in-causal-past", ops: [op.id])
        case .nonCanonical:
            let variant = encodings % Self.nonCanonicalVariants
            encodings += 1
            let fresh = node.author.peek(payload, citing: cites)
            if variant < 10 {
                item = .bytes(nonCanonical(variant: variant, of: fresh, key: key))
            } else {
                // Built in memory and sent decoded, as honest operations travel: only the
                // replica's own validation stands between these and its ledger.
                var u = fresh.unsigned
                switch variant {
                case 10: u.seq = 0
                case 11: u.payload = .transfer(to: target, token: 0, amount: 0)
                default: u.payload = .transfer(to: target, token: 0, amount: UInt128(1) << 120)
                }
                item = .op(u.signed(by: key))
            }
        case .malformed:
            item = .bytes((0..<(20 + rng.index(100))).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        case .missingPredecessors:
            var hidden = node.author
            _ = hidden.append(payload, citing: cites)
            item = .op(hidden.peek(payload))
        case .garbagePredecessors:
            let garbage = Digest32(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next())
            item = .op(node.author.peek(payload, citing: [garbage]))
        }
        for peer in node.peers { out.append(Send(to: peer, message: .ops([item]))) }
        return nil
    }
}
