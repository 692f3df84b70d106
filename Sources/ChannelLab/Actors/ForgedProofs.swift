import ChannelCore

/// The Byzantine strategy `forge-proofs`, kept out of the honest node's code: a node under it
/// claims with forged variants of its own genuine balance proofs (docs/byzantine.md).
extension ChannelNode {
    /// `forge-proofs`: each forged variant of each own balance proof, sent once.
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
