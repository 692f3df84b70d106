import ChannelCore

/// A node's checkpoint and settlement state that survives crashes (a real node persists it
/// with its log): forgetting what it signed could make an honest node sign two different
/// checkpoints of one version.
struct DutyState {
    /// The newest threshold-signed checkpoint this node holds.
    var held: SignedCheckpoint?
    /// The oldest one it ever held (only the `challenge-with-oldest` plant uses it).
    var oldest: SignedCheckpoint?
    /// The newest certificates it held, newest last (stale-proposal evidence searches them).
    var history: [SignedCheckpoint] = []
    /// Most certificates kept in `history`.
    static let historyMax = 32
    /// The highest version this node signed, and what it signed at that version.
    var lastSignedVersion: UInt64 = 0
    var lastSigned: (digest: Digest32, signature: CheckpointSignature)?
    /// No more operations: settlement has started, or the node is exiting.
    var frozen = false
    /// When the node last learned of a new certificate (stall detection).
    var lastCertificateAt = SimInstant.zero
    /// The final checkpoint the proposer collected, and what it proposed.
    var finalCertificate: SignedCheckpoint?
    var proposed: SignedCheckpoint?
    /// When the node decided to exit because the channel stalled, and the certificate it
    /// exits with (the newest it held then).
    var exitDecidedAt: SimInstant?
    var exitWith: SignedCheckpoint?
    /// The newest chain height the node has heard of and whether anything is proposed or final.
    var chainHeight: UInt64 = 0
    var chainSettling = false
    /// Chain height at which each kind of transaction was last sent (resends are paced).
    var sentAt: [String: UInt64] = [:]
    /// Claims sent after the account was paid (only the `claim-twice` plant sends them).
    var extraClaims: Set<TokenID> = []
    /// What this node could challenge with: for each chain height at which it saw an open
    /// proposal older than the certificate it held, that certificate's version (the checker
    /// judges from this whether an honest node had the chance to challenge in time).
    var challengeChances: [UInt64: UInt64] = [:]
    /// Most entries in `challengeChances`.
    static let challengeChancesMax = 4096

    /// Whether this node is closing the channel (it proposed, or decided to exit): it signs no
    /// more checkpoints, since a signature on one that follows a newer certificate than what
    /// it proposed would be stale-proposal evidence against itself (found by review: an
    /// exiter signing while its exit waited in a congested mempool was slashed).
    var closing: Bool { proposed != nil || exitDecidedAt != nil }
}

extension DutyState {
    /// A certificate held whose checkpoint `proposer` signed after holding a certificate newer
    /// than `proposed` (its `previous` is newer): proof that proposing `proposed` is stale.
    func stalenessProof(against proposer: ParticipantIndex, proposed: UInt64) -> SignedCheckpoint? {
        history.last { held in held.checkpoint.previous > proposed && held.signatures.contains { $0.signer == proposer } }
    }
}

/// A checkpoint round this node coordinates.
struct CheckpointRound {
    let checkpoint: Checkpoint
    let digest: Digest32
    let final: Bool
    let startedAt: SimInstant
    var signatures: [ParticipantIndex: CheckpointSignature]
    var complete = false
}

/// Checkpoint duties (docs/settlement.md, "In the lab"): coordinate rounds, sign only what
/// matches the node's own state, collect and spread certificates; settlement duties: propose,
/// challenge stale proposals, finalize, claim, exit when the channel stalls, slash on evidence.
extension ChannelNode {
    /// Blocks between two sends of the same kind of chain transaction.
    static let resendBlocks: UInt64 = 3

    var frozen: Bool { duty.frozen }

    /// Planted node bugs plus what a Byzantine script switched on.
    var dutyBugs: LabBugs { labBugs.union(behaviour.chainSide) }

    var chainAddress: Int { config.participants.count }

    /// Stops making operations (settlement or exit under way).
    func freeze() { duty.frozen = true }

    // MARK: Rounds

    /// Starts a checkpoint round of this node's current state: signs it (unless the node
    /// refuses to sign) and asks every peer.
    func startRound(final: Bool, now: SimInstant, out: inout [Send]) {
        guard let duties, up, online, let replica, !duty.closing else { return }
        let version = max(now.micros / 1000 + 1, duty.lastSignedVersion + 1)
        // (`inflate-previous`, a Byzantine coordinator: a previous certificate nobody holds.)
        let previous = dutyBugs.contains(.inflatePrevious) ? version - 1 : duty.held?.checkpoint.version ?? 0
        let checkpoint = replica.checkpoint(version: version, previous: previous, final: final)
        let digest = checkpoint.digest
        var signatures: [ParticipantIndex: CheckpointSignature] = [:]
        // A node refusing to sign still coordinates its rounds: the script withholds only its
        // signature (docs/byzantine.md), so the round becomes a certificate only if enough
        // others sign. Coordinating is no excuse to sign: a coordinator's signature is a
        // signature like any other, and stale-proposal evidence can rest on it.
        if !behaviour.refusingToSign {
            let own = CheckpointSignature(signer: index, signature: key.sign(digest))
            duty.lastSignedVersion = version
            duty.lastSigned = (digest, own)
            signatures[index] = own
        }
        round = CheckpointRound(checkpoint: checkpoint, digest: digest, final: final, startedAt: now, signatures: signatures)
        if signatures.count >= duties.threshold {
            completeRound(now: now, out: &out)
            return
        }
        for peer in peers { out.append(Send(to: peer, message: .checkpointRequest(checkpoint, final: final, previous: duty.held))) }
    }

    /// How long a round asks for signatures before the coordinator gives up on it.
    static let roundLifetime = SimDuration.seconds(2)

    /// Asks again those who have not signed the open round (messages get lost), until the
    /// round expires.
    func retryRound(now: SimInstant, out: inout [Send]) {
        guard let round, !round.complete else { return }
        guard now < round.startedAt + ChannelNode.roundLifetime else {
            self.round = nil
            return
        }
        for peer in peers where round.signatures[ParticipantIndex(peer)] == nil {
            out.append(Send(to: peer, message: .checkpointRequest(round.checkpoint, final: round.final, previous: duty.held)))
        }
    }

    /// Whether a final round this node coordinates is still waiting for signatures.
    var finalRoundOpen: Bool { round.map { $0.final && !$0.complete } ?? false }

    /// Signs a checkpoint when it matches this node's state at its heads (and, for a final
    /// checkpoint, when those heads are the node's whole state and the compensation list is
    /// what it computes); asks for unknown heads.
    func answer(_ checkpoint: Checkpoint, final: Bool, from: Int, now: SimInstant, out: inout [Send]) {
        guard duties != nil, !behaviour.refusingToSign, !duty.closing, let replica, checkpoint.channel == config.channel else { return }
        if checkpoint.version == duty.lastSignedVersion, let last = duty.lastSigned, last.digest == checkpoint.digest {
            out.append(Send(to: from, message: .checkpointSignature(version: checkpoint.version, last.signature)))
            return
        }
        guard checkpoint.version > duty.lastSignedVersion else { return }
        // Sign only what follows a certificate this node holds (the stale-proposal rule).
        guard checkpoint.previous <= (duty.held?.checkpoint.version ?? 0) else { return }
        let unknown = checkpoint.heads.filter { !replica.contains($0) }
        if !unknown.isEmpty {
            if now >= fetchAllowed[from] ?? .zero {
                fetchAllowed[from] = now + SimDuration(micros: nodeConfig.syncInterval.micros / 2)
                out.append(Send(to: from, message: .want(Array(unknown.prefix(nodeConfig.wantIdsMax)))))
            }
            return
        }
        // (Buffered operations are not state: a Byzantine author's may wait forever.)
        if final, replica.heads != checkpoint.heads || replica.compensations != checkpoint.compensations { return }
        if !final, !checkpoint.compensations.isEmpty { return }
        // The state at the checkpoint's heads, extended from the last one checked when it can be.
        guard let state = replica.cursor(at: checkpoint.heads, from: cursor.take()) else { return }
        cursor = state
        let (root, size) = state.commitment
        guard root == checkpoint.stateRoot, size == checkpoint.treeSize else { return }
        let digest = checkpoint.digest
        let signature = CheckpointSignature(signer: index, signature: key.sign(digest))
        duty.lastSignedVersion = checkpoint.version
        duty.lastSigned = (digest, signature)
        // Signing a final checkpoint commits to making no more operations.
        if final { freeze() }
        out.append(Send(to: from, message: .checkpointSignature(version: checkpoint.version, signature)))
    }

    /// Adds a peer's signature to the open round; completes it at the threshold.
    func collect(_ signature: CheckpointSignature, version: UInt64, now: SimInstant, out: inout [Send]) {
        guard let duties, var open = round, !open.complete, open.checkpoint.version == version,
            open.signatures[signature.signer] == nil, let signer = config.participant(signature.signer),
            signer.publicKey.verify(signature.signature, digest: open.digest)
        else { return }
        open.signatures[signature.signer] = signature
        round = open
        if open.signatures.count >= duties.threshold { completeRound(now: now, out: &out) }
    }

    private func completeRound(now: SimInstant, out: inout [Send]) {
        guard var open = round else { return }
        open.complete = true
        round = open
        let signed = SignedCheckpoint(checkpoint: open.checkpoint, signatures: open.signatures.keys.sorted().map { open.signatures[$0]! })
        adopt(signed, now: now)
        if open.final { duty.finalCertificate = signed }
        onCertificate?(signed, open.final)
        for peer in peers { out.append(Send(to: peer, message: .certificate(signed))) }
        if duties?.registerCheckpoints == true, !open.final { out.append(Send(to: chainAddress, message: .chainTx(.register(signed)))) }
    }

    /// Keeps a certificate newer than the one held, once it verifies.
    func consider(_ signed: SignedCheckpoint, now: SimInstant) {
        guard let duties, signed.checkpoint.version > (duty.held?.checkpoint.version ?? 0) else { return }
        guard (try? signed.verify(config: config, threshold: duties.threshold)) != nil else { return }
        adopt(signed, now: now)
    }

    private func adopt(_ signed: SignedCheckpoint, now: SimInstant) {
        guard signed.checkpoint.version > (duty.held?.checkpoint.version ?? 0) else { return }
        duty.held = signed
        if duty.oldest == nil { duty.oldest = signed }
        if duty.history.count >= DutyState.historyMax { duty.history.removeFirst() }
        duty.history.append(signed)
        duty.lastCertificateAt = now
    }

    // MARK: Settlement

    /// The proposer's duty from the settlement time on: a final round of its whole state,
    /// retried as its state changes; the final certificate is proposed, or after
    /// `finalRoundTimeout` the newest certificate it holds.
    func settlementTick(now: SimInstant, out: inout [Send]) {
        guard let duties, let proposeAt = duties.proposeAt, up, online, duty.proposed == nil, !duty.chainSettling else { return }
        freeze()
        if let final = duty.finalCertificate {
            propose(final, out: &out)
            return
        }
        if now >= proposeAt + duties.finalRoundTimeout, let held = duty.held {
            propose(held, out: &out)
            return
        }
        // Nothing certified yet: keep trying for a final checkpoint (the network may heal).
        let stale = round.map { !$0.final || $0.checkpoint.heads != replica?.heads || now >= $0.startedAt + .seconds(1) } ?? true
        if stale { startRound(final: true, now: now, out: &out) }
    }

    private func propose(_ signed: SignedCheckpoint, out: inout [Send]) {
        duty.proposed = signed
        duty.sentAt["propose"] = duty.chainHeight
        out.append(Send(to: chainAddress, message: .chainTx(.propose(signed))))
    }

    /// Stall detection, on every checkpoint tick: no new certificate for `stallTimeout` and
    /// nothing proposed ⇒ freeze and exit with the newest certificate held.
    func checkStall(now: SimInstant) {
        guard let duties, let timeout = duties.stallTimeout, up, online, duty.exitDecidedAt == nil, !duty.chainSettling,
            duty.held != nil, now >= duty.lastCertificateAt + timeout, !labBugs.contains(.neverExit)
        else { return }
        duty.exitDecidedAt = now
        duty.exitWith = duty.held
        freeze()
    }

    /// Acts on the chain's status: challenge a proposal older than the newest certificate
    /// held, finalize after the window, claim after finalization, exit when decided, slash on
    /// evidence. Every send is paced to one per `resendBlocks` per kind.
    func act(on status: ChainStatus, now: SimInstant, out: inout [Send]) {
        guard duties != nil, let replica else { return }
        duty.chainHeight = max(duty.chainHeight, status.height)
        duty.chainSettling = status.proposal != nil || status.final != nil
        // A proposal on chain closes the channel: no more operations, only disputes and payouts.
        if duty.chainSettling { freeze() }
        if let proposal = status.proposal, let held = duty.held, held.checkpoint.version > proposal.checkpoint.version,
            duty.challengeChances.count < DutyState.challengeChancesMax
        {
            duty.challengeChances[status.height] = max(duty.challengeChances[status.height] ?? 0, held.checkpoint.version)
        }
        if let proposer = status.proposer, let proposed = status.proposedVersion, proposer != index, !status.slashed.contains(proposer), !labBugs.contains(.neverSlash),
            let held = duty.stalenessProof(against: proposer, proposed: proposed),
            let signature = held.signatures.first(where: { $0.signer == proposer })
        {
            // The proposer signed a checkpoint after holding a newer certificate than it proposed.
            let evidence = Evidence.staleProposal(StaleProposalEvidence(
                proposer: proposer, proposedVersion: proposed, newer: held.checkpoint, signature: signature.signature))
            send(.slash(evidence), key: "slash-stale-\(proposer)", status: status, out: &out)
        }
        if let proposal = status.proposal, dutyBugs.contains(.forgeChallenge), status.height <= status.deadline {
            forgeChallenges(proposal: proposal, status: status, out: &out)
        }
        if let proposal = status.proposal {
            if dutyBugs.contains(.challengeWithOldest), let oldest = duty.oldest, oldest.checkpoint != proposal.checkpoint {
                send(.challenge(oldest), key: "challenge", status: status, out: &out)
            } else if let held = duty.held, held.checkpoint.version > proposal.checkpoint.version, status.height <= status.deadline {
                send(.challenge(held), key: "challenge-\(held.checkpoint.version)", status: status, out: &out)
            }
            if status.height > status.deadline || dutyBugs.contains(.hastyFinalize), !labBugs.contains(.neverFinalize) {
                // A hasty finalizer sends one at every block it hears of, so its transactions
                // land on both sides of the window's edge (the deadline, and the block after).
                send(.finalize, key: dutyBugs.contains(.hastyFinalize) ? "finalize-\(status.height)" : "finalize", status: status, out: &out)
            }
        } else if status.final == nil, let proposed = duty.proposed {
            // The proposal never reached the chain (lost on the way): send it again.
            send(.propose(proposed), key: "propose", status: status, out: &out)
        }
        if let final = status.final {
            // Compensation the final checkpoint says a slashed culprit owes this node.
            for entry in final.checkpoint.compensations where entry.victim == index && status.slashed.contains(entry.culprit) {
                let key = "compensate-\(entry.token)-\(entry.culprit)"
                // A double claimer claims once more after being paid (a correct contract
                // refuses it: alreadyCompensated).
                if status.compensated.contains(where: { $0.token == entry.token && $0.culprit == entry.culprit }) {
                    guard dutyBugs.contains(.claimTwice), duty.sentAt[key + "-again"] == nil else { continue }
                    send(.compensate(token: entry.token, culprit: entry.culprit), key: key + "-again", status: status, out: &out)
                    continue
                }
                send(.compensate(token: entry.token, culprit: entry.culprit), key: key, status: status, out: &out)
            }
            if dutyBugs.contains(.forgeProofs) { forgeClaims(final: final.checkpoint, status: status, out: &out) }
            for token in config.tokens {
                let paid = status.paidTokens.contains(token)
                if paid && (!dutyBugs.contains(.claimTwice) || duty.extraClaims.contains(token)) { continue }
                // Pace before proving: a proof may cost a replay of the final closure.
                guard paid || due("claim-\(token)", status) else { continue }
                guard let proof = replica.balanceProof(index, token, at: final.checkpoint), proof.account.total > 0 else { continue }
                if paid { duty.extraClaims.insert(token) }
                send(.claim(proof), key: "claim-\(token)", status: status, force: true, out: &out)
            }
        } else if status.proposal == nil, var held = duty.exitWith {
            // The exit uses the newest certificate held when it is sent: one that arrived after
            // the decision (by anti-entropy) is never worse, and it must be at least as new as
            // the chain's latest (another node may have registered a newer one).
            if let newest = duty.held, newest.checkpoint.version > held.checkpoint.version {
                duty.exitWith = newest
                held = newest
            }
            // A force close: the dispute window opens on the exit's checkpoint; claims follow
            // finalization like everyone's.
            if held.checkpoint.version >= status.latestVersion {
                send(.exit(held), key: "exit", status: status, out: &out)
            }
        }
        for evidence in replica.evidence where !labBugs.contains(.neverSlash) {
            let culprit = evidence.culprit
            guard !status.slashed.contains(culprit) else { continue }
            send(.slash(evidence), key: "slash-\(culprit)", status: status, out: &out)
        }
    }

    /// Whether a transaction of kind `key` may be sent (again) at this status.
    private func due(_ key: String, _ status: ChainStatus) -> Bool {
        guard let last = duty.sentAt[key] else { return true }
        return status.height >= last + ChannelNode.resendBlocks
    }

    func send(_ tx: ChainTx, key: String, status: ChainStatus, force: Bool = false, out: inout [Send]) {
        if !force, !due(key, status) { return }
        duty.sentAt[key] = status.height
        out.append(Send(to: chainAddress, message: .chainTx(tx)))
    }
}
