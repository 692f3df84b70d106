import ChannelCore

/// A small end-to-end demonstration of the replica, until the simulator exists: several
/// replicas receive the same signed operations (with a Byzantine double spender and an
/// overdraft among them) in different random orders, and must end identical.
public enum MergeDemo {
    /// The outcome of one demo run.
    public struct Report: Sendable {
        public let seed: UInt64
        public let operations: Int
        public let replicas: [(heads: Int, root: Digest32, rejections: Int, evidence: Int, rollbacks: Int)]
        public let converged: Bool
        public let evidenceVerified: Bool
        public let proofVerified: Bool
        public let lines: [String]
    }

    /// Runs the demo for `seed` with `replicaCount` replicas.
    public static func run(seed: UInt64, replicaCount: Int = 3, ops: Int = 400) -> Report {
        precondition(replicaCount >= 2)
        let spec = OpSetSpec(
            participants: 6, byzantine: [5], observers: [4], ops: ops,
            equivocationPerMille: 150, overdraftPerMille: 100)
        let channel = OpSetGenerator.generate(spec, seed: seed)
        var lines = ["channel \(channel.config.channel.short): \(spec.participants) participants (4 observer, 5 Byzantine), \(channel.ops.count) signed operations, seed \(seed)"]
        var rng = SeededRandom(seed: seed, stream: "delivery")
        var replicas = [Replica]()
        for index in 0..<replicaCount {
            let replica = Replica(config: channel.config)
            let order = index == 0
                ? Delivery.anyOrder(channel.ops, rng: &rng)
                : Delivery.causalOrder(channel.ops, rng: &rng, latePerMille: 100, lateOpsMax: 50)
            for op in order { _ = replica.receive(op) }
            replicas.append(replica)
        }
        var rows: [(heads: Int, root: Digest32, rejections: Int, evidence: Int, rollbacks: Int)] = []
        for (index, replica) in replicas.enumerated() {
            let row = (replica.heads.count, replica.stateRoot, replica.rejections.count, replica.evidence.count, replica.stats.rollbacks)
            rows.append(row)
            let delivery = index == 0 ? "random order" : "causal order, late arrivals"
            lines.append("replica \(index) (\(delivery)): root \(row.1.short), \(replica.operationCount) ops, \(row.0) heads, \(row.2) rejected, \(row.3) evidence, \(row.4) rollbacks")
        }
        let first = replicas[0]
        let converged = replicas.allSatisfy {
            $0.stateRoot == first.stateRoot && $0.rejections == first.rejections && $0.evidence == first.evidence
        }
        var evidenceVerified = true
        for evidence in first.evidence {
            do {
                let culprit = try EvidenceVerifier.verify(evidence, config: channel.config)
                lines.append("evidence verified on its own: \(evidence) -> culprit \(culprit)")
            } catch {
                evidenceVerified = false
                lines.append("evidence FAILED to verify: \(evidence): \(error)")
            }
        }
        for record in first.rejections.prefix(6) {
            lines.append("rejected: \(record)")
        }
        var proofVerified = false
        if let proof = first.balanceProof(0, 0) {
            proofVerified = proof.verify(root: first.stateRoot)
            lines.append("Merkle proof of participant 0 token 0 (balance \(proof.account.balance)): \(proofVerified ? "verifies" : "FAILS") against root \(first.stateRoot.short)")
        }
        lines.append(converged ? "all \(replicaCount) replicas converged" : "replicas DIVERGED")
        return Report(
            seed: seed, operations: channel.ops.count, replicas: rows, converged: converged,
            evidenceVerified: evidenceVerified, proofVerified: proofVerified, lines: lines)
    }
}
