import ChannelCore

/// Evidence checks at the end of every run: soundness (never against an honest participant,
/// at a node or on chain, and every piece verifies), completeness (every attributable
/// misbehaviour the scripts performed has verified evidence at every honest node, and is
/// slashed when there is a bond), and honest validity with Byzantine taint (an honest operation
/// is refused only as a concurrent conflict with a Byzantine operation in its causal past).
enum EvidenceChecker {
    /// - Parameter ledgerValidityJudgedOnApply: whether honest validity of ledger refusals was
    ///   judged at every application already (runs without Byzantine scripts, where no honest
    ///   refusal is excusable); graph refusals of honest operations are judged here in any case.
    static func check(
        nodes: [ChannelNode], honest: Set<Int>, byzantine: Set<Int>, attributable: Set<Attributable>, chain: SimChain, bonded: Bool,
        config: ChannelConfig, now: SimInstant, monitor: InvariantMonitor, ledgerValidityJudgedOnApply: Bool = false
    ) {
        let honestNodes = nodes.filter { honest.contains(Int($0.index)) && $0.replica != nil }
        // Each distinct piece of evidence is judged once (a replay of its causal past), by the
        // independent `EvidenceModel`, never by the system's own verifier.
        let model = EvidenceModel(config: config)
        var verdicts = [Evidence: EvidenceModel.Verdict]()
        for node in honestNodes {
            let held = node.replica!.evidence
            for evidence in held {
                let culprit = Int(evidence.culprit)
                if honest.contains(culprit) {
                    monitor.report(.evidenceSoundness, at: now, nodes: [Int(node.index)], "node \(node.index) holds evidence against honest participant \(culprit): \(evidence)")
                }
                let verdict = verdicts[evidence] ?? model.verdict(evidence)
                verdicts[evidence] = verdict
                switch verdict {
                case let .refuted(reason):
                    monitor.report(.evidenceSoundness, at: now, nodes: [Int(node.index)], "node \(node.index) holds evidence that does not verify (\(reason)): \(evidence)")
                case let .proves(proven) where proven != evidence.culprit:
                    monitor.report(.evidenceSoundness, at: now, nodes: [Int(node.index)], "node \(node.index) holds evidence naming \(evidence.culprit) that proves misbehaviour of \(proven): \(evidence)")
                case .proves:
                    break
                }
                if evidence.kind == "equivocation" { monitor.reach(.equivocationDetected) }
            }
            let kinds = Set(held.map { Attributable(participant: Int($0.culprit), kind: $0.kind) })
            for act in attributable.sorted() where act.kind != "stale-proposal" && !kinds.contains(Attributable(participant: act.participant, kind: act.kind)) {
                // A broken chain is refused, not relayed: evidence is due where it was refused
                // (by the replica's record, or by the durable log, which outlives a restart).
                if act.kind == "broken-chain" {
                    guard act.ops.allSatisfy({ refused($0, at: node) }) else { continue }
                    monitor.report(.evidenceCompleteness, at: now, nodes: [Int(node.index)], "node \(node.index) refused participant \(act.participant)'s broken chain but holds no broken-chain evidence")
                    continue
                }
                // Evidence can exist only once some honest node accepted every operation of the act.
                guard act.ops.allSatisfy({ id in honestNodes.contains { $0.replica!.contains(id) } }) else { continue }
                // An overdraft that concurrent credits cover in the total order applies: the
                // system builds evidence from refusals, so only a refused one must have it.
                if act.kind == "invalid-in-causal-past", !act.ops.contains(where: { node.replica!.ledgerRejection(of: $0) != nil }) { continue }
                monitor.report(.evidenceCompleteness, at: now, nodes: [Int(node.index)], "node \(node.index) has no \(act.kind) evidence against participant \(act.participant)")
            }
        }
        checkSlashed(chain: chain, honest: honest, now: now, monitor: monitor)
        if bonded {
            let delivered = attributable.filter { act in
                // A stale proposal is provable only with a certificate the culprit signed after
                // holding a newer one: due on chain once an honest node holds such a proof.
                if act.kind == "stale-proposal" {
                    let culprit = ParticipantIndex(act.participant)
                    let versions = chain.contract.proposals.filter { $0.proposer == culprit }.map(\.version)
                    return honestNodes.contains { node in versions.contains { node.duty.stalenessProof(against: culprit, proposed: $0) != nil } }
                }
                if act.kind == "broken-chain" {
                    return act.ops.allSatisfy { id in honestNodes.contains { refused(id, at: $0) } }
                }
                return act.ops.allSatisfy { id in honestNodes.contains { $0.replica!.contains(id) } }
                    && (act.kind != "invalid-in-causal-past" || act.ops.contains { id in honestNodes.contains { $0.replica!.ledgerRejection(of: id) != nil } })
            }
            for act in Set(delivered.map(\.participant)).sorted() where chain.contract.slashed[ParticipantIndex(act)] == nil {
                monitor.report(.evidenceCompleteness, at: now, nodes: [act], "participant \(act) misbehaved attributably but was never slashed on chain")
            }
        }
        // Honest validity with taint, judged on each honest node's final state.
        for node in honestNodes {
            let replica = node.replica!
            for record in replica.rejections where honest.contains(Int(record.author)) && !(ledgerValidityJudgedOnApply && record.isLedgerRefusal) {
                // An application's races and void refusals (a post-only that would cross, a
                // cancel of an order filled first) are its checker's to judge.
                if record.kind != .invalidInCausalPast, case .ledger(.application) = record.reason { continue }
                var tainted = false
                if record.kind == .concurrentConflict, let op = replica.operation(record.id) {
                    tainted = hasByzantineAncestor(op, replica: replica, byzantine: byzantine)
                }
                if tainted {
                    monitor.reach(.honestOperationTainted)
                } else {
                    monitor.report(
                        .honestValidity, at: now, nodes: [Int(node.index)], operations: [record.id],
                        "honest participant \(record.author)'s operation seq \(record.seq) refused (\(record.reason), \(record.kind.rawValue)) with no Byzantine operation in its causal past")
                }
            }
        }
    }

    /// Whether `node` refused operation `id` as breaking its author's chain: its replica holds
    /// the record, or its durable log kept the operation (a restart must not lose it).
    static func refused(_ id: OperationID, at node: ChannelNode) -> Bool {
        node.replica?.graphRejection(of: id) != nil || node.loggedRefusals.contains(id)
    }

    /// Nobody honest is slashed on chain. Runs in every run with a chain, Byzantine scripts or
    /// not (an honest node can slash itself or another honest one by a bug: review found an
    /// exiter's own stale-proposal evidence against itself in a run with no script).
    static func checkSlashed(chain: SimChain, honest: Set<Int>, now: SimInstant, monitor: InvariantMonitor) {
        for culprit in chain.contract.slashed.keys.sorted() {
            if honest.contains(Int(culprit)) {
                monitor.report(.evidenceSoundness, at: now, nodes: [Int(culprit)], "honest participant \(culprit) was slashed on chain")
            } else {
                monitor.reach(.byzantineSlashed)
            }
        }
    }

    /// Whether a Byzantine participant's operation is in `op`'s causal past.
    static func hasByzantineAncestor(_ op: SignedOperation, replica: Replica, byzantine: Set<Int>) -> Bool {
        var stack = op.preds
        var seen = Set<OperationID>()
        while let id = stack.popLast() {
            guard seen.insert(id).inserted, let ancestor = replica.operation(id) else { continue }
            if byzantine.contains(Int(ancestor.author)) { return true }
            stack.append(contentsOf: ancestor.preds)
        }
        return false
    }
}
