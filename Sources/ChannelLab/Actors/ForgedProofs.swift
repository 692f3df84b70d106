import ChannelCore

/// The Byzantine strategy `forge-proofs`, kept out of the honest node's code: a node under it
/// claims with forged variants of its own genuine balance proofs (docs/byzantine.md).
extension ChannelNode {
    /// `forge-proofs`: each forged variant of each own balance proof, sent once.
    /// `forge-challenge`: three transactions a correct contract refuses, once each per proposal
    /// version: a challenge one version above the proposal signed by the actor alone (below
    /// the threshold); its newest certificate (when newer than the proposal) with one signature
    /// bit flipped; and its newest certificate registered again when the contract already
    /// holds that version.
    func forgeChallenges(proposal: SignedCheckpoint, status: ChainStatus, out: inout [Send]) {
        func once(_ tx: ChainTx, _ key: String) {
            guard duty.sentAt[key] == nil else { return }
            send(tx, key: key, status: status, force: true, out: &out)
        }
        let version = proposal.checkpoint.version
        let base = proposal.checkpoint
        let lone = Checkpoint(
            channel: base.channel, version: version + 1, stateRoot: base.stateRoot, treeSize: base.treeSize, heads: base.heads, previous: base.previous,
            compensations: base.compensations)
        let underSigned = SignedCheckpoint(checkpoint: lone, signatures: [lone.sign(as: index, key: key)])
        once(.challenge(underSigned), "forge-lone-\(version)")
        if let held = duty.held, held.checkpoint.version > version, let first = held.signatures.first {
            var bytes = first.signature.bytes
            bytes[0] ^= 0x01
            var signatures = held.signatures
            signatures[0] = CheckpointSignature(signer: first.signer, signature: Signature(bytes: bytes)!)
            once(.challenge(SignedCheckpoint(checkpoint: held.checkpoint, signatures: signatures)), "forge-flip-\(version)")
        }
        if let held = duty.held, held.checkpoint.version == status.latestVersion {
            once(.register(held), "forge-again-\(held.checkpoint.version)")
        }
    }

    func forgeClaims(final: Checkpoint, status: ChainStatus, out: inout [Send]) {
        guard let replica else { return }
        for token in config.tokens {
            guard duty.sentAt["forge-\(token)-0"] == nil, let proof = replica.balanceProof(index, token, at: final) else { continue }
            let other = ParticipantIndex((Int(index) + 1) % config.participants.count)
            var richer = proof.account
            richer.balance += 1
            let forgeries = [
                BalanceProof(key: proof.key, account: proof.account, leafIndex: proof.leafIndex + 1, treeSize: proof.treeSize, path: proof.path),
                BalanceProof(key: proof.key, account: proof.account, leafIndex: proof.leafIndex, treeSize: proof.treeSize + 1, path: proof.path),
                BalanceProof(key: proof.key, account: proof.account, leafIndex: proof.leafIndex, treeSize: max(1, proof.treeSize - 1), path: proof.path),
                BalanceProof(key: proof.key, account: proof.account, leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: Array(proof.path.dropLast())),
                BalanceProof(key: proof.key, account: richer, leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: proof.path),
                BalanceProof(key: AccountKey(participant: other, token: token), account: proof.account, leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: proof.path),
            ]
            for (k, forged) in forgeries.enumerated() {
                send(.claim(forged), key: "forge-\(token)-\(k)", status: status, force: true, out: &out)
            }
        }
    }

}
